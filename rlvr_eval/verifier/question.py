"""What the question (the prompt) tells the verifier about its answer.

Three rules, active only when a caller passes the question:

- `restates_question`: an answer that merely copies an expression of the question (``Evaluate
  $2^{10}$`` -> ``2^{10}``), or respells it (``(x^2-16)/(x+4)`` for ``\\frac{x^2-16}{x+4}``,
  ``\\sqrt{27}+\\sqrt{75}`` for ``\\sqrt{75} + \\sqrt{27}``: the same numbers, letters and functions in
  another order or notation), is not credited, although it has the right value; graders that test
  value equality credit it on "simplify/evaluate" tasks. It is accepted only when it is the reference.
- `asks_in_order`: a question that names the values it wants in an order ("Determine $T(10), T(11)$
  and $T(12)$", "... respectively", "in that order") makes a list answer ordered.
- `asks_for_rounding`: a question that asks to round or estimate ("to the nearest hundredth", "to 2
  decimal places", "approximately", "estimate") makes a decimal reference a rounded value
  (`EquivalenceOptions.rounded_reference`): an answer agreeing to its shown precision is right.
- `label_what_was_asked`: an answer ``x + y = 4027`` to "what is the value of $x+y$?" states the value
  of the asked expression: its left side is a label, not half of an equation.

And one rule that needs no question (`label_expression`): an answer ``m + n = 61``, ``[PQR] = 27\\sqrt3``
or ``PQ^2 = 208`` against a reference that is a constant states that constant; its left side (a sum of
distinct letters, an area ``[ABC]``, a squared segment) names the quantity asked for, which questions
written in plain text ("Find m+n.") do not show in math. ``y^2 = 81`` stays an equation.
"""

from __future__ import annotations

import re
from collections import Counter

from rlvr_eval.verifier.answer import Answer, Relation, Scalar
from rlvr_eval.verifier.normalize import normalize_answer

MAX_QUESTION_CHARS = 20_000
_MATH_SEGMENT_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_PLAIN_NUMBER_RE = re.compile(r"-?[\d.,/ ]+")
_ATOM_RE = re.compile(r"\\[A-Za-z]+|[A-Za-z]|(?<=\^)-?[0-9.]+|(?<=\^\{)-?[0-9.]+|[0-9]+(?:\.[0-9]+)?")
_LAYOUT_COMMANDS = frozenset({
    "\\frac", "\\dfrac", "\\tfrac", "\\cfrac", "\\left", "\\right", "\\cdot", "\\times", "\\div",
    "\\displaystyle", "\\big", "\\Big", "\\bigl", "\\bigr", "\\quad", "\\text", "\\mathrm",
})  # fmt: skip
_IN_ORDER_RE = re.compile(
    r"\bin (?:that|this|the same|the given|the following) order\b|\brespectively\b"
    # "the values of $T(10), T(11)$ and $T(12)$", "the values of $a$, $b$ and $c$"
    r"|\b(?:values?|numbers?) of \$[^$]{1,80}\$(?:\s*,\s*\$[^$]{1,80}\$)*\s*,?\s*and\s*\$[^$]{1,80}\$",
    re.IGNORECASE,
)


def _atoms(text: str) -> Counter[str]:
    """The numbers, letters and function names of an expression, without layout or operators.

    Respelling an expression keeps them (``(x^2-16)/(x+4)``, ``\\frac{-16+x^2}{4+x}`` and
    ``\\frac{x^2-16}{x+4}`` have the same atoms); working it out changes them (``x-4``). A sign in an
    exponent is kept (``2^{-1}`` is not ``\\frac12`` respelled).
    """
    return Counter(a for a in _ATOM_RE.findall(text) if a not in _LAYOUT_COMMANDS)


def restates_question(answer: str, references: list[str], question: str) -> bool:
    """True if `answer` is an expression of `question`, copied or respelled, and not a reference.

    Respelled: the same numbers, letters and functions in another order or notation (swapped
    summands or factors, ``a/b`` for ``\\frac{a}{b}``); a reference written that way is no restatement.
    """
    norm_answer = normalize_answer(answer)
    if not norm_answer or _PLAIN_NUMBER_RE.fullmatch(norm_answer):
        return False
    if any(norm_answer == normalize_answer(reference) for reference in references):
        return False
    atoms = _atoms(norm_answer)
    respelling = sum(atoms.values()) >= 2 and all(_atoms(normalize_answer(r)) != atoms for r in references)
    for match in _MATH_SEGMENT_RE.finditer(question[:MAX_QUESTION_CHARS]):
        segment = next(g for g in match.groups() if g is not None)
        if len(segment) > 200:
            continue
        norm_segment = normalize_answer(segment)
        if norm_segment == norm_answer or (respelling and _atoms(norm_segment) == atoms):
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


def _labelled(answer: Answer, left: Scalar, right: Scalar) -> Answer:
    """``left = right`` read as the value ``right`` labelled ``left``, the answer's other fields kept."""
    return Answer(right, label=left.text, unit=answer.unit, approx=answer.approx, degrees=answer.degrees,
                  text=answer.text)


def label_what_was_asked(answer: Answer, question: str) -> Answer:
    """``lhs = value`` where lhs is an expression the question shows in math: the value, labelled lhs."""
    relation = answer.value
    if answer.label or not isinstance(relation, Relation) or relation.ops != ("=",):
        return answer
    left, right = relation.sides
    if normalize_answer(left.text) not in _asked_expressions(question[:MAX_QUESTION_CHARS]):
        return answer
    return _labelled(answer, left, right)


# What names an asked quantity on the left of "=": m+n, a+b+c, p-q (distinct letters), [PQR], PQ^2.
_NAME_EXPRESSION = re.compile(r"[A-Za-z](?:[+-][A-Za-z]){1,5}|\[[A-Z]{2,8}\]|[A-Z]{2,4}\^\{?2\}?")
_COMMAND_RE = re.compile(r"\\[A-Za-z]+")


def _is_constant(text: str) -> bool:
    """No variable in ``text`` (commands such as ``\\sqrt`` and ``\\pi`` are not variables)."""
    return not any(c.isalpha() for c in _COMMAND_RE.sub("", text))


def label_expression(answer: Answer, reference: Answer) -> Answer:
    """``m + n = 61`` against the constant reference ``61``: the value 61, labelled ``m+n`` (module doc)."""
    relation = answer.value
    if answer.label or reference.label or not isinstance(relation, Relation) or relation.ops != ("=",):
        return answer
    if isinstance(reference.value, Relation) or not _is_constant(reference.text):
        return answer
    left, right = relation.sides
    letters = [c for c in left.text if c.isalpha()]
    if not _NAME_EXPRESSION.fullmatch(left.text) or not _is_constant(right.text):
        return answer
    if len(set(letters)) != len(letters):  # "x+x = 6" is an equation in x
        return answer
    return _labelled(answer, left, right)
