"""Intervals and unions: ``[2, 9)``, ``(-\\infty,-2)\\cup(4,\\infty)``, ``x<-2 \\text{ or } x>4``.

Every spelling of a set of reals becomes a list of intervals first -- an interval, a union, a
one-variable inequality or chain (``9 \\geq k`` is ``k \\leq 9``), an absolute-value inequality
(``|x - 2| < 5`` is ``(-3, 7)``), a list of those ("or"), set-builder notation (parsed to its
condition), ``\\mathbb{R}`` minus points (parsed to its intervals), and a plain pair ``(1, 2)`` /
``[1, 2]`` when the other side is certainly an interval -- then the lists are matched as multisets:
same brackets, equal ends.
"""

from __future__ import annotations

from fractions import Fraction

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
from rlvr_eval.verifier.latex_fast import evaluate, parse_fast, sample_envs
from rlvr_eval.verifier.numbers import Refuse, Value
from rlvr_eval.verifier.parse import parse_scalar


def interval_like(answer: Answer) -> bool:
    """Certainly a set of reals: an interval, a union, or inequalities in one variable."""
    value = answer.value
    if isinstance(value, (Interval, IntervalUnion)):
        return True
    if isinstance(value, Relation):
        return (
            relations.interval_of(value) is not None
            or _excluded_point(value) is not None
            or _absolute_value(value) is not None
        )
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
            return _absolute_value(value)
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


def _number(q: Fraction) -> Number | Expression:
    sign, p, d = ("-" if q < 0 else ""), abs(q.numerator), q.denominator
    return parse_scalar(f"{sign}{p}" if d == 1 else f"{sign}\\frac{{{p}}}{{{d}}}")


def _absolute_value(relation: Relation) -> list[Interval] | None:
    """``|a x + b| < c`` (rational a != 0, b, c > 0) is the interval of radius c/|a| around -b/a;
    ``|a x + b| > c`` the two rays outside it. Other absolute-value relations: None."""
    if len(relation.ops) != 1 or relation.ops[0] not in relations.INEQUALITY:
        return None
    (left, right), op = relation.sides, relation.ops[0]
    if right.text.startswith("|"):  # 5 > |x - 2| is |x - 2| < 5
        left, right, op = right, left, relations.FLIP[op]
    inner, bound = parse_fast(left.text), parse_fast(right.text)
    if inner is None or bound is None or inner[0][0] != "abs" or len(inner[1]) != 1 or bound[1]:
        return None
    (name,) = inner[1]
    node = inner[0][1]
    try:
        offset = evaluate(node, {name: Value.of(0)})
        slope = evaluate(node, {name: Value.of(1)}) - offset
        # linear: the line through x = 0 and x = 1 meets the expression at fixed "random" points too
        linear = all(
            evaluate(node, env) == offset + slope * env[name] for env in sample_envs(frozenset({name}))
        )
        c, a, b = evaluate(bound[0], {}).rational(), slope.rational(), offset.rational()
    except (Refuse, ZeroDivisionError, KeyError):
        return None
    if not linear or a is None or b is None or c is None or a == 0 or c <= 0:
        return None  # not linear in x (|x^2 - 1|), or an empty / everywhere-true relation
    centre, radius = -b / a, c / abs(a)
    low, high = _number(centre - radius), _number(centre + radius)
    closed = op in ("<=", ">=")
    if op in ("<", "<="):
        return [Interval("[" if closed else "(", low, high, "]" if closed else ")")]
    infinity = parse_scalar(INF)
    return [Interval("(", parse_scalar("-" + INF), low, "]" if closed else ")"),
            Interval("[" if closed else "(", high, infinity, ")")]


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
