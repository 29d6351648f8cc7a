"""The verifier: format layer (extraction) and content layer (equivalence), kept apart."""

from rlvr_eval.verifier.stated import StatedAnswer, stated_answers

__all__ = ["StatedAnswer", "stated_answers"]
