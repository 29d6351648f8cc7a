"""Sets and lists of answers: ``\\{1, 2\\}``, ``1, -2``, ``x = 2, x = -1, \\text{ and } x = 6``, ``\\pm 3``.

Order-free multisets: every reference item must meet a distinct equal answer item, so a subset of a
multi-answer reference is DIFFERENT. Labels are dropped (``x = 2, x = -1`` are the values 2 and -1),
except when both sides name every item with distinct labels (``a = 1, b = 2`` vs ``b = 2, a = 1``):
then items are matched by label.
"""

from __future__ import annotations

from rlvr_eval.verifier.answer import Answer, AnswerList, SetOf
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.compare.matching import ordered, unordered


def items(answer: Answer) -> tuple[Answer, ...]:
    value = answer.value
    return value.items if isinstance(value, (SetOf, AnswerList)) else (answer,)


def unlabelled(answer: Answer) -> Answer:
    return Answer(answer.value, unit=answer.unit, approx=answer.approx, degrees=answer.degrees)


def _by_label(a: tuple[Answer, ...], r: tuple[Answer, ...]) -> dict[str, Answer] | None:
    labels_a, labels_r = [x.label for x in a], [y.label for y in r]
    if None in labels_a or None in labels_r or len(set(labels_r)) != len(labels_r):
        return None
    if sorted(labels_a) != sorted(labels_r):  # type: ignore[type-var]
        return None
    return {x.label: x for x in a}  # type: ignore[misc]


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """A set or list against a set, a list or a single value (a one-item set)."""
    a, r = items(answer), items(reference)
    several = isinstance(answer.value, (SetOf, AnswerList)), isinstance(reference.value, (SetOf, AnswerList))
    if several[0] != several[1] and (len(a) != 1 or len(r) != 1):
        return False  # several answers for one (or one for several)
    by_label = _by_label(a, r)
    if by_label is not None:
        return ordered([unlabelled(by_label[y.label]) for y in r], [unlabelled(y) for y in r], ctx.same)  # type: ignore[index]
    return unordered([unlabelled(x) for x in a], [unlabelled(y) for y in r], ctx.same)
