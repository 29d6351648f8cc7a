"""Intervals and unions: ``[2, 9)``, ``(-\\infty,-2)\\cup(4,\\infty)``, ``x<-2 \\text{ or } x>4``.

Every spelling of a set of reals becomes a list of intervals first -- an interval, a union, a
one-variable inequality or chain (``9 \\geq k`` is ``k \\leq 9``), a list of those ("or"), set-builder
notation (parsed to its condition), and a plain pair ``(1, 2)`` / ``[1, 2]`` when the other side is
certainly an interval -- then the lists are matched as multisets: same brackets, equal ends.
"""

from __future__ import annotations

from rlvr_eval.verifier.answer import (
    Answer,
    AnswerList,
    Bracketed,
    Expression,
    Interval,
    IntervalUnion,
    Number,
    Relation,
)
from rlvr_eval.verifier.brackets import INF, infinity_sign
from rlvr_eval.verifier.compare import relations
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.compare.matching import ordered, unordered
from rlvr_eval.verifier.parse import parse_scalar


def interval_like(answer: Answer) -> bool:
    """Certainly a set of reals: an interval, a union, or inequalities in one variable."""
    value = answer.value
    if isinstance(value, (Interval, IntervalUnion)):
        return True
    if isinstance(value, Relation):
        return relations.interval_of(value) is not None or _excluded_point(value) is not None
    if isinstance(value, AnswerList):
        return all(isinstance(x.value, (Interval, IntervalUnion, Relation)) for x in value.items) and any(
            interval_like(x) for x in value.items
        )
    return False


def as_intervals(answer: Answer) -> list[Interval] | None:
    """The intervals an answer denotes, or None when it is not a set of reals."""
    value = answer.value
    if isinstance(value, Interval):
        return [value]
    if isinstance(value, IntervalUnion):
        return list(value.parts)
    if isinstance(value, Bracketed) and len(value.items) == 2:
        lo, hi = (x.value for x in value.items)
        if isinstance(lo, (Number, Expression)) and isinstance(hi, (Number, Expression)):
            left = "(" if infinity_sign(lo.text) else value.left
            right = ")" if infinity_sign(hi.text) else value.right
            return [Interval(left, lo, hi, right)]
        return None
    if isinstance(value, Relation):
        point = _excluded_point(value)
        if point is not None:  # x != -3 is (-inf, -3) U (-3, inf)
            infinity = parse_scalar(INF)
            return [Interval("(", parse_scalar("-" + INF), point, ")"), Interval("(", point, infinity, ")")]
        bounds = relations.interval_of(value)
        if bounds is None:
            return None
        left, low, high, right = bounds
        return [Interval(left, parse_scalar(low), parse_scalar(high), right)]
    if isinstance(value, AnswerList):
        out: list[Interval] = []
        for item in value.items:
            part = as_intervals(item)
            if part is None:
                return None
            out += part
        return out
    return None


def _excluded_point(relation: Relation) -> Number | Expression | None:
    """The point of ``x \\neq c`` (or ``c \\neq x``): all reals but one."""
    if relation.ops != ("!=",):
        return None
    left, right = relation.sides
    if relations.is_variable(left.text) and not relations.is_variable(right.text):
        return right
    if relations.is_variable(right.text) and not relations.is_variable(left.text):
        return left
    return None


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Both sides as lists of intervals, matched as multisets (same brackets, equal ends)."""
    ia, ir = as_intervals(answer), as_intervals(reference)
    if ia is None or ir is None:
        a, r = answer.value, reference.value
        if isinstance(a, Relation) and isinstance(r, Relation):
            return relations.compare(answer, reference, ctx)  # x + y > 2 vs y > 2 - x
        if ir is not None and isinstance(a, Relation) and not a.is_equation:
            return None  # an inequality we could not read (e.g. two variables): undecided
        if ia is not None and isinstance(r, Relation) and not r.is_equation:
            return None
        return False

    def same(x: Interval, y: Interval) -> Tri:
        if (x.left, x.right) != (y.left, y.right):
            return False
        return ordered((x.lo, x.hi), (y.lo, y.hi), ctx.scalars)

    return unordered(ia, ir, same)
