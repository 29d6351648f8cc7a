"""Equations and inequalities: ``y = 2x + 1`` vs ``2x + 1 = y``, ``x + y > 2`` vs ``y > 2 - x``.

Two equations are equal when (lhs - rhs) of one is a non-zero constant multiple of the other's; two
inequalities when that multiple is positive and both are strict or both are not. A labelled value
(``y = 2x + 1`` parsed as 2x + 1 labelled y) meets a relation as the equation it states. One-variable
inequalities and chains are intervals (``intervals.py``); a function's bound variable may be renamed
(``f(x) = 2x`` vs ``f(t) = 2t``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rlvr_eval.verifier.answer import Answer, Expression, Number, Relation, Scalar
from rlvr_eval.verifier.brackets import INF, infinity_sign
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.latex_fast import GREEK, evaluate, parse_fast, sample_envs
from rlvr_eval.verifier.numbers import Refuse, Value
from rlvr_eval.verifier.parse.fields import FUNCTION_MARK, is_label

# f > g as (sign, strict): the relation says sign * (f - g) > 0 (or >= 0)
INEQUALITY = {">": (1, True), ">=": (1, False), "<": (-1, True), "<=": (-1, False)}
FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}  # a < b is b > a
_FUNC_LHS_RE = re.compile(rf"^([a-zA-Z]{FUNCTION_MARK})\(([a-zA-Z])\)$")  # f(x), f^{-1}(x), f'(x)
_PHRASE_RE = re.compile(r"^[A-Za-z][A-Za-z' ]*[A-Za-z]$")  # "Volume of Timothy's locker"
# \gcd(84, 126), \operatorname{lcm}[4, 6] (lcm(4,6) once unwrapped), \max(3, 5): a value computed from numbers
_FUNCTION_OF_NUMBERS_RE = re.compile(r"^\\?(?:gcd|lcm|max|min|GCD|LCM)\s*[(\[][-+\d\s,.]{1,200}[)\]]$")
_VARIABLE_RE = re.compile(r"^(?:[a-zA-Z]|\\([a-zA-Z]+))(?:_\{?\w+\}?)?$")


def is_variable(text: str) -> bool:
    """A single variable: x, t_1, \\theta (not \\pi, not an infinity)."""
    m = _VARIABLE_RE.match(text)
    if m is None:
        return False
    return (m.group(1) is None or m.group(1) in GREEK) and infinity_sign(text) == 0


def as_relation(answer: Answer) -> Relation | None:
    """The relation an answer states: itself, or ``label = value`` for a labelled scalar."""
    value = answer.value
    if isinstance(value, Relation):
        return value
    if answer.label and isinstance(value, (Number, Expression)):
        names = tuple(Expression(x.strip()) for x in answer.label.split(" = "))
        return Relation((*names, value), ("=",) * len(names))
    return None


def interval_of(relation: Relation) -> tuple[str, str, str, str] | None:
    """'x>2' -> ('(', '2', '\\infty', ')'); 'a<x\\leq b' -> ('(', 'a', 'b', ']'); None otherwise."""
    sides, ops = [s.text for s in relation.sides], list(relation.ops)
    if any(op in ("=", "!=") for op in ops):
        return None
    if len(ops) == 1:
        if is_variable(sides[1]) and not is_variable(sides[0]):
            sides, ops = [sides[1], sides[0]], [FLIP[ops[0]]]
        if not is_variable(sides[0]) or is_variable(sides[1]):
            return None
        op, bound = ops[0], sides[1]
        if op in (">", ">="):
            return ("(" if op == ">" else "[", bound, INF, ")")
        return ("(", "-" + INF, bound, ")" if op == "<" else "]")
    if len(ops) == 2 and is_variable(sides[1]):
        if ops[0] in (">", ">=") and ops[1] in (">", ">="):
            sides, ops = sides[::-1], [FLIP[ops[1]], FLIP[ops[0]]]
        if ops[0] in ("<", "<=") and ops[1] in ("<", "<="):
            return ("(" if ops[0] == "<" else "[", sides[0], sides[2], ")" if ops[1] == "<" else "]")
    return None


def rename_bound_variable(a_sides: Sequence[str], r_sides: Sequence[str]) -> str | None:
    """f(x) = 2x vs f(t) = 2t: the answer's right side with its variable renamed to the reference's."""
    fa = _FUNC_LHS_RE.match(a_sides[0])
    fr = _FUNC_LHS_RE.match(r_sides[0])
    if not (fa and fr and fa.group(1) == fr.group(1)):
        return None
    if fa.group(2) == fr.group(2):
        return a_sides[1]
    if re.search(rf"(?<![a-zA-Z\\]){fr.group(2)}(?![a-zA-Z])", a_sides[1]):
        return None  # the target name is already used on the answer's side
    return re.sub(rf"(?<![a-zA-Z\\]){fa.group(2)}(?![a-zA-Z])", fr.group(2), a_sides[1])


def fast_proportional(a_sides: Sequence[str], r_sides: Sequence[str], sign: int, positive: bool) -> Tri:
    """Is (a0 - a1) a constant multiple (positive, if asked) of sign * (r0 - r1)? Exact, at sample points."""
    pa = [parse_fast(s) for s in a_sides]
    pr = [parse_fast(s) for s in r_sides]
    if any(p is None for p in pa + pr):
        return None
    names = frozenset().union(*(p[1] for p in pa + pr))  # type: ignore[index]
    if not names:
        return None
    try:
        ratio: tuple[Value, Value] | None = None
        for env in sample_envs(names, 4):
            f = evaluate(pa[0][0], env) - evaluate(pa[1][0], env)  # type: ignore[index]
            g = evaluate(pr[0][0], env) - evaluate(pr[1][0], env)  # type: ignore[index]
            if sign < 0:
                g = -g
            if f.is_zero() != g.is_zero():
                return False
            if not f.is_zero():
                if ratio is None:
                    ratio = (f, g)
                elif f * ratio[1] != g * ratio[0]:
                    return False
        if ratio is None:
            return None  # both sides vanish everywhere (0 = 0 forms): no evidence either way
        if positive:
            q = (ratio[0] / ratio[1]).rational()
            if q is None:
                return None
            return q > 0  # x > 2 vs x < 2: same boundary, opposite side
        return True
    except (Refuse, ZeroDivisionError, KeyError):
        return None


def _equations(a: Relation, r: Relation, ctx: Context) -> Tri:
    a_sides, r_sides = [s.text for s in a.sides], [s.text for s in r.sides]
    renamed = rename_bound_variable(a_sides, r_sides)
    if renamed is not None:
        return ctx.scalars(Expression(renamed), r.sides[1])
    if a_sides[0] == r_sides[0] and is_label(r_sides[0]):
        same = ctx.scalars(a.sides[1], r.sides[1])
        if same is not None:
            return same
    return ctx.backend.proportional(a_sides, r_sides, 1, False)


def _inequalities(a: Relation, r: Relation, ctx: Context) -> Tri:
    """x + y > 2 vs 2 - x < y: (lhs - rhs) proportional with a positive factor, same strictness."""
    (sa, strict_a), (sr, strict_r) = INEQUALITY[a.ops[0]], INEQUALITY[r.ops[0]]
    if strict_a != strict_r:
        return False
    return ctx.backend.proportional([s.text for s in a.sides], [s.text for s in r.sides], sa * sr, True)


def _side_by_side(a: Relation, r: Relation, ctx: Context) -> Tri:
    """Same operators (``x \\neq 3``, a chain): side by side, or mirrored for one ``=`` / ``!=``."""
    verdicts = [ctx.scalars(x, y) for x, y in zip(a.sides, r.sides, strict=True)]
    if all(v is True for v in verdicts):
        return True
    if len(a.ops) == 1 and a.ops[0] in ("=", "!="):
        if _sides(a.sides[::-1], r.sides, ctx) is True:
            return True
        if verdicts == [True, False] and is_variable(a.sides[0].text):
            return False  # x != 3 vs x != 4
    return None


def _sides(a: Sequence[Scalar], r: Sequence[Scalar], ctx: Context) -> Tri:
    verdicts = [ctx.scalars(x, y) for x, y in zip(a, r, strict=True)]
    return False if False in verdicts else (None if None in verdicts else True)


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Two relations (either may be a labelled value: ``y = 2x+1``)."""
    a, r = as_relation(answer), as_relation(reference)
    if a is None or r is None:
        return with_scalar(answer, reference, ctx)
    if len(a.ops) == len(r.ops) == 1 and a.is_equation and r.is_equation:
        return _equations(a, r, ctx)
    if len(a.ops) == len(r.ops) == 1 and a.ops[0] in INEQUALITY and r.ops[0] in INEQUALITY:
        return _inequalities(a, r, ctx)
    if a.ops == r.ops:
        return _side_by_side(a, r, ctx)
    if a.is_equation != r.is_equation:
        return False  # an equation is not an inequality
    return None


def with_scalar(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """A relation against a plain value: a worked computation (``2 + 3 = 5``, ``Area = 4 \\cdot 5 = 20``)
    gives its last value; an equation in variables (``(x-1)^2 + y^2 = 10``) or an inequality is no
    value (not even its right side), unless the question asks for its left side (see `question.py`)."""
    relation, value = answer.value, reference.value
    if not isinstance(relation, Relation) or reference.label or not isinstance(value, (Number, Expression)):
        return False
    first, middle, last = relation.sides[0], relation.sides[1:-1], relation.sides[-1]
    named = _constant(first) or is_label(first.text) or bool(_PHRASE_RE.match(first.text))
    # the working may hold a formula when the chain ends in a quantity: E = hc/lambda = 2.0 eV
    worked = all(map(_constant, middle)) or (answer.unit is not None and _constant(last))
    if relation.is_equation and named and worked:
        return ctx.scalars(last, value)  # Volume of the box = 20 \times 2 = 40
    return False


def _constant(side: Scalar) -> bool:
    """A side with no variables (a number, arithmetic on numbers, ``\\gcd(84, 126)``), as far as the
    fast parser reads."""
    if isinstance(side, Number) or _FUNCTION_OF_NUMBERS_RE.match(side.text):
        return True
    parsed = parse_fast(side.text)
    return parsed is not None and not parsed[1]
