"""What the question (the prompt) tells the verifier about its answer.

Two rules, both only active when a caller passes the question:

- `restates_question`: an answer that merely copies an expression of the question (``Evaluate
  $2^{10}$`` -> ``2^{10}``) is not credited, although it has the right value; graders that test value
  equality credit it on "simplify/evaluate" tasks. It is accepted only when it is literally the reference.
- `asks_in_order`: a question that names the values it wants in an order ("Determine $T(10), T(11)$
  and $T(12)$", "... respectively", "in that order") makes a list answer ordered.
- `asks_for_rounding`: a question that asks to round or estimate ("to the nearest hundredth", "to 2
  decimal places", "approximately", "estimate") makes a decimal reference a rounded value
  (`EquivalenceOptions.rounded_reference`): an answer agreeing to its shown precision is right.
- `label_what_was_asked`: an answer ``x + y = 4027`` to "what is the value of $x+y$?" states the value
  of the asked expression: its left side is a label, not half of an equation.
"""

from __future__ import annotations

import re

from rlvr_eval.verifier.answer import Answer, Relation
from rlvr_eval.verifier.normalize import normalize_answer

MAX_QUESTION_CHARS = 20_000
_MATH_SEGMENT_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_PLAIN_NUMBER_RE = re.compile(r"-?[\d.,/ ]+")
_IN_ORDER_RE = re.compile(
    r"\bin (?:that|this|the same|the given|the following) order\b|\brespectively\b"
    # "the values of $T(10), T(11)$ and $T(12)$", "the values of $a$, $b$ and $c$"
    r"|\b(?:values?|numbers?) of \$[^$]{1,80}\$(?:\s*,\s*\$[^$]{1,80}\$)*\s*,?\s*and\s*\$[^$]{1,80}\$",
    re.IGNORECASE,
)


def restates_question(answer: str, references: list[str], question: str) -> bool:
    """True if `answer` is an expression copied from `question` and is not literally a reference."""
    norm_answer = normalize_answer(answer)
    if not norm_answer or _PLAIN_NUMBER_RE.fullmatch(norm_answer):
        return False
    if any(norm_answer == normalize_answer(reference) for reference in references):
        return False
    for match in _MATH_SEGMENT_RE.finditer(question[:MAX_QUESTION_CHARS]):
        segment = next(g for g in match.groups() if g is not None)
        if len(segment) <= 200 and normalize_answer(segment) == norm_answer:
            return True
    return False

_ROUNDING_RE = re.compile(
    r"\bnearest\s+(?:whole|integer|tenth|hundredth|thousandth|ten[- ]thousandth|percent|cent|dollar|"
    r"degree|unit|tenths|hundredths|thousandths|\w+th\b)"
    r"|\bround(?:ed|ing)?\b|\b(?:decimal|significant)\s+(?:places?|digits?|figures?)\b|\bsig(?:\.|nificant)?\s*figs?\b"
    r"|\bapproximat(?:e|ely|ion)\b|\bestimat(?:e|ed|ion)\b|\babout how\b|\bto\s+(?:one|two|three|four|\d)\s+"
    r"(?:decimal|significant)",
    re.IGNORECASE,
)


def asks_for_rounding(question: str) -> bool:
    """Whether the question asks for a rounded or approximate value (so the reference is rounded)."""
    return bool(_ROUNDING_RE.search(question[:MAX_QUESTION_CHARS]))


def asks_in_order(question: str) -> bool:
    """Whether the question asks for several values in a stated order."""
    return bool(_IN_ORDER_RE.search(question[:MAX_QUESTION_CHARS]))


def _asked_expressions(question: str) -> frozenset[str]:
    """The normalized math segments of the question (what it may ask for)."""
    segments = (next(g for g in m.groups() if g is not None) for m in _MATH_SEGMENT_RE.finditer(question))
    return frozenset(normalize_answer(s) for s in segments if len(s) <= 200)


def label_what_was_asked(answer: Answer, question: str) -> Answer:
    """``lhs = value`` where lhs is an expression the question shows in math: the value, labelled lhs."""
    relation = answer.value
    if answer.label or not isinstance(relation, Relation) or relation.ops != ("=",):
        return answer
    left, right = relation.sides
    if normalize_answer(left.text) not in _asked_expressions(question[:MAX_QUESTION_CHARS]):
        return answer
    return Answer(right, label=left.text, unit=answer.unit, approx=answer.approx, degrees=answer.degrees,
                  text=answer.text)
