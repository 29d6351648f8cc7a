"""Sets and lists of answers: ``\\{1, 2\\}``, ``1, -2``, ``x = 2, x = -1, \\text{ and } x = 6``, ``\\pm 3``.

Order-free multisets: every reference item must meet a distinct equal answer item, so a subset of a
multi-answer reference is DIFFERENT. Labels are dropped (``x = 2, x = -1`` are the values 2 and -1),
except when both sides name every item with distinct labels (``a = 1, b = 2`` vs ``b = 2, a = 1``):
then items are matched by label. With options.ordered (the question asks for values in an order) two
lists are compared in order.
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


Items = tuple[Answer, ...]


def _flatten(parts: Items) -> Items:
    return tuple(y for x in parts for y in items(x))


def _nested(parts: Items) -> bool:
    return any(isinstance(x.value, (SetOf, AnswerList)) for x in parts)


def _flatten_to_match(a: Items, r: Items) -> tuple[Items, Items]:
    """Two boxed sets ``{10,...,14}, {-2,...,2}`` against the flat list of their ten numbers: the sets'
    items are the answers. Only sets and lists are opened, never tuples (a pair is one answer)."""
    if _nested(a) and not _nested(r):
        return _flatten(a), r
    if _nested(r) and not _nested(a):
        return a, _flatten(r)
    return a, r


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """A set or list against a set, a list or a single value (a one-item set)."""
    a, r = items(answer), items(reference)
    several = isinstance(answer.value, (SetOf, AnswerList)), isinstance(reference.value, (SetOf, AnswerList))
    if several[0] != several[1] and (len(a) != 1 or len(r) != 1):
        return False  # several answers for one (or one for several)
    lists = isinstance(answer.value, AnswerList) and isinstance(reference.value, AnswerList)
    if ctx.options.ordered and lists:
        return ordered([unlabelled(x) for x in a], [unlabelled(y) for y in r], ctx.same)
    a, r = _flatten_to_match(a, r)
    by_label = _by_label(a, r)
    if by_label is not None:
        return ordered([unlabelled(by_label[y.label]) for y in r], [unlabelled(y) for y in r], ctx.same)  # type: ignore[index]
    return unordered([unlabelled(x) for x in a], [unlabelled(y) for y in r], ctx.same)
