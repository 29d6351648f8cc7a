"""The verifier: format layer (extraction) and content layer (equivalence), kept apart."""

from rlvr_eval.verifier.presence import Presence, answer_present
from rlvr_eval.verifier.stated import StatedAnswer, stated_answers

__all__ = ["Presence", "StatedAnswer", "answer_present", "stated_answers"]
