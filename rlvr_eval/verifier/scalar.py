"""Fast comparison of one scalar answer (a number, an expression, an equation or a word) with a reference.

Returns True (equal), False (different) or None (undecided: leave it to the symbolic path). It says True
only on exact evidence (`numbers.Value` arithmetic, at fixed sample points for variables). It says False
only when both sides were parsed by `latex_fast` and differ exactly or beyond doubt numerically
(`numeric.py`), or both are plain words that differ: a parse failure can never turn into a verdict
(the ``1-\\frac{1}{e}`` trap). Floor, ceiling, factorials and (-1)^n imply integer variables, which are
then probed at integer points.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr_eval.verifier.latex_fast import Node, ParseResult, evaluate, integer_envs, parse_fast, sample_envs
from rlvr_eval.verifier.numbers import INTEGER_RE, Refuse, Value, close_enough, decimal_half_ulp
from rlvr_eval.verifier.numeric import numerically_different, numerically_within
from rlvr_eval.verifier.schema import EquivalenceOptions
from rlvr_eval.verifier.structures import find_relations, infinity_sign

Tri = bool | None
MAX_SCALAR_CHARS = 600

_MIXED_RE = re.compile(r"^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$")
_REPEATING_RE = re.compile(r"^(-?)(\d{0,20})\.(\d{0,20})\\(?:overline|dot)\{(\d{1,20})\}$")
# letters, spaces, apostrophes: no operators, so a-b-c-d (an expression) is not a word
_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z ']*$")
_FUNC_LHS_RE = re.compile(r"^([a-zA-Z])\(([a-zA-Z])\)$")
_SIMPLE_LHS_RE = re.compile(
    r"^(?:(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\\?[a-zA-Z0-9]+\}?)?|[a-zA-Z]\([a-zA-Z](?:,[a-zA-Z])*\)|"
    r"\((?:[a-zA-Z],)+[a-zA-Z]\)|[A-Za-z]{2,})$"
)


def is_word(text: str) -> bool:
    return bool(_WORD_RE.match(text)) and "\\" not in text


# short answers that are words, not products of variables
_WORDS = frozenset({"yes", "no", "true", "false", "none", "odd", "even", "all", "both", "neither", "nan"})


def _words_equal(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Plain words compare case-insensitively; only long words decide (short ones may be products: ab)."""
    if not (is_word(a) and is_word(r)):
        return None
    fa, fr = re.sub(r"[\s']", "", a).casefold(), re.sub(r"[\s']", "", r).casefold()
    if fa == fr and (len(fa) > 1 or options.answer_type in ("text", "choice")):
        return True
    if options.answer_type == "text" or (len(fa) >= 4 and len(fr) >= 4) or fa in _WORDS or fr in _WORDS:
        return fa == fr
    return None


_BASE_RE = re.compile(r"^([0-9A-Za-z]+)_\{?\(?(\d+)\)?\}?$")
_DIGITS_RE = re.compile(r"^[0-9A-Z]+$")


def _base_digits(a: str, r: str) -> Tri:
    """Numbers with a base subscript (40_9) compare by their digits: the question fixed the base."""
    ma, mr = _BASE_RE.match(a), _BASE_RE.match(r)
    if not (ma or mr):
        return None
    if ma and mr:
        return ma.group(1).upper() == mr.group(1).upper() and ma.group(2) == mr.group(2)
    m, other = (mr, a) if mr else (ma, r)
    assert m is not None
    digits = m.group(1).upper()
    if not _DIGITS_RE.match(digits):
        return None
    if not _DIGITS_RE.match(other.upper()):
        return False if parse_fast(other) is not None and not parse_fast(other)[1] else None  # type: ignore[index]
    return other.upper() == digits


def is_label(text: str) -> bool:
    """A simple name on the left of '=': x, a_1, \\theta, f(x), (x,y), or a word like Area."""
    return bool(_SIMPLE_LHS_RE.match(text))


def _value(text: str) -> ParseResult | None:
    m = _MIXED_RE.match(text)
    if m:
        v = Fraction(int(m.group(2))) + Fraction(int(m.group(3)), int(m.group(4)))
        return ("num", -v if m.group(1) else v), frozenset()
    m = _REPEATING_RE.match(text)
    if m:  # 0.1\overline{6} = 1/6
        sign, whole, head, cycle = m.groups()
        v = Fraction(int(whole or "0")) + Fraction(int(head or "0"), 10 ** len(head))
        v += Fraction(int(cycle), (10 ** len(cycle) - 1) * 10 ** len(head))
        return ("num", -v if sign else v), frozenset()
    return parse_fast(text)


_INTEGER_PARAMS = frozenset("kmnjl")


def _rename(node: tuple, old: str, new: str) -> tuple:
    """The parse tree with variable `old` renamed to `new`."""
    if node[0] == "var":
        return ("var", new) if node[1] == old else node
    return tuple(_rename(c, old, new) if isinstance(c, tuple) else c for c in node)


_INTEGER_HINTS = ("\\lfloor", "\\lceil", "(-1)^", "!", "\\binom")


def integer_variables(text: str) -> bool:
    """Floor, ceiling, factorials, binomials and (-1)^n are written about integer variables."""
    return any(hint in text for hint in _INTEGER_HINTS)


def _numbers_equal(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Exact (or shown-precision) comparison of two fast-parseable expressions."""
    pa, pr = _value(a), _value(r)
    if pa is None or pr is None:
        return None
    (na, va), (nr, vr) = pa, pr
    if va != vr and len(va) == len(vr) == 1 and va | vr <= _INTEGER_PARAMS:
        # k\pi vs n\pi: a solution family's integer parameter is a bound name
        na, va = _rename(na, next(iter(va)), next(iter(vr))), vr
    try:
        if not va and not vr:
            abs_tol = decimal_half_ulp(r)
            integers = bool(INTEGER_RE.match(a) and INTEGER_RE.match(r))
            return close_enough(evaluate(na, {}), evaluate(nr, {}), abs_tol, options.rel_tol, integers)
        # over the union of names: "2x" vs "2y" differ as functions, and x - x + 2 vs 2 still agree
        envs = sample_envs(va | vr)
        if integer_variables(a + r):
            # integer variables: probe integers of every small residue class
            envs = integer_envs(va | vr)
        return all(evaluate(na, env) == evaluate(nr, env) for env in envs)
    except (Refuse, ZeroDivisionError, KeyError, OverflowError, RecursionError):
        pass
    names = va | vr
    # small points too: at x ~ 1000, 2^x - 1 and 2^x + 1 agree to 300 digits
    envs = sample_envs(names) + sample_envs(names, small=True) if names else [{}]
    if names and (integer_variables(a + r)):
        envs = integer_envs(names)
    abs_tol = decimal_half_ulp(r) if not names else None
    if numerically_different(na, nr, envs, abs_tol, options.rel_tol):
        return False
    tolerance = abs_tol is not None or options.rel_tol is not None
    if not names and tolerance and numerically_within(na, nr, abs_tol, options.rel_tol):
        return True  # log_2 3 vs 1.58
    return True if _formally_equal(na, nr, names, a + r) else None


def _formally_equal(na: Node, nr: Node, names: frozenset[str], text: str) -> bool:
    """Equal with transcendental parts as uninterpreted functions (sin(2t)/4 + cos(2t)/4 vs ...)."""
    if not names:
        envs: list[dict[str, Value]] = [{}]
    else:
        envs = integer_envs(names) if integer_variables(text) else sample_envs(names, 2)
    try:
        return all(
            evaluate(na, env, oracle=salt) == evaluate(nr, env, oracle=salt)
            for env in envs
            for salt in (1, 2)  # two independent draws of the uninterpreted values
        )
    except (Refuse, ZeroDivisionError, KeyError, OverflowError, RecursionError):
        return False


def _with_percent(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Percent signs: '25%' matches 25 or 0.25 when the other side is a plain number; never x100 otherwise."""
    a_pct, r_pct = a.endswith("%"), r.endswith("%")
    if a_pct == r_pct:
        return _numbers_equal(a.rstrip("%"), r.rstrip("%"), options)
    raw = _numbers_equal(a.rstrip("%"), r.rstrip("%"), options)
    if raw is not False:
        return raw
    return _numbers_equal(a, r, options)  # 25% vs 0.25: both as values


def rename_bound_variable(a_sides: list[str], r_sides: list[str]) -> str | None:
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


def _equations_equal(a_sides: list[str], r_sides: list[str], options: EquivalenceOptions) -> Tri:
    """Two equations are equal when (lhs - rhs) of one is a non-zero constant multiple of the other's."""
    renamed = rename_bound_variable(a_sides, r_sides)
    if renamed is not None:
        return scalar_equal(renamed, r_sides[1], options)
    if a_sides[0] == r_sides[0] and is_label(r_sides[0]):
        same = scalar_equal(a_sides[1], r_sides[1], options)
        if same is not None:
            return same
    return _proportional(a_sides, r_sides, 1, positive=False)


def _proportional(a_sides: list[str], r_sides: list[str], sign: int, positive: bool) -> Tri:
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


# f > g as (sign, strict): the relation says sign * (f - g) > 0 (or >= 0)
INEQUALITY = {">": (1, True), ">=": (1, False), "<": (-1, True), "<=": (-1, False)}


def _inequalities_equal(a_sides: list[str], a_op: str, r_sides: list[str], r_op: str) -> Tri:
    """x + y > 2 vs 2 - x < y: (lhs - rhs) proportional with a positive factor, same strictness."""
    (sa, strict_a), (sr, strict_r) = INEQUALITY[a_op], INEQUALITY[r_op]
    if strict_a != strict_r:
        return False
    return _proportional(a_sides, r_sides, sa * sr, positive=True)


def strip_assignment(text: str) -> str:
    """'x = 3' -> '3'; 'f(x)=2x' -> '2x'; '2+3=5' -> '5' (the last part of a chain)."""
    sides, ops = find_relations(text)
    if ops and all(op == "=" for op in ops):
        return sides[-1]
    return text


def scalar_equal(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Fast verdict on one scalar pair; None when undecided."""
    if a == r:
        return True
    if len(a) > MAX_SCALAR_CHARS or len(r) > MAX_SCALAR_CHARS:
        return None  # parse trees this large recurse deeply; not the fast path's business
    if not a or not r:
        return not (a or r)
    inf_a, inf_r = infinity_sign(a), infinity_sign(r)
    if inf_a or inf_r:
        if inf_a and inf_r:
            return inf_a == inf_r
        return False if _value(a if inf_r else r) is not None else None
    r_sides, r_ops = find_relations(r)
    a_sides, a_ops = find_relations(a)
    if r_ops == ["="]:
        if a_ops == ["="]:
            return _equations_equal(a_sides, r_sides, options)
        if not a_ops and is_label(r_sides[0]):
            return scalar_equal(a, r_sides[1], options)  # "3" vs "x = 3"
        return None
    if r_ops:
        # one-variable inequalities met the interval logic already; here: x + y > 2 and the like
        if len(a_ops) == len(r_ops) == 1 and a_ops[0] in INEQUALITY and r_ops[0] in INEQUALITY:
            return _inequalities_equal(a_sides, a_ops[0], r_sides, r_ops[0])
        return None
    if a_ops:
        if all(op == "=" for op in a_ops):
            return scalar_equal(a_sides[-1], r, options)
        return None
    base = _base_digits(a, r)
    if base is not None:
        return base
    words = _words_equal(a, r, options)
    if words is not None:
        return words
    if "%" in a or "%" in r:
        return _with_percent(a, r, options)
    return _numbers_equal(a, r, options)


def value_of(text: str) -> Value | None:
    """Exact value of a constant expression, or None (used for interval endpoints and sorting)."""
    p = _value(text)
    if p is None or p[1]:
        return None
    try:
        return evaluate(p[0], {})
    except (Refuse, ZeroDivisionError):
        return None
