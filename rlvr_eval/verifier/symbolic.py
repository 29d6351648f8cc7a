"""The slow, complete scalar comparison: LaTeX -> sympy with latex2sympy2_extended, then bounded checks.

Runs only inside the sandbox worker (it may take seconds on hostile input; the sandbox kills it). It never
evaluates text as code: latex2sympy2_extended parses with an ANTLR grammar into sympy objects.

This module is the symbolic `Backend` (`SYMBOLIC`): the comparison rules of `compare/` walk parsed
answers with it exactly as with the fast backend, only the scalars and relations are decided here.

Order of checks for two parsed expressions: exact difference is zero -> high-precision numeric comparison
(60 significant digits with mpmath's arbitrary exponents, so 1/2004! and 1/2006! stay distinct); two
constants that agree to 60 digits are equal only when that is proven (exactly for rationals, by
simplification otherwise): ``2^{1/2^{300}}`` and 1 agree to 90 digits and are undecided -> expressions
with free symbols are compared at sample points. Variables are real, not positive: at negative points
``|t|`` and ``t`` differ, a side that is real where the other is not differs, and points where both are
complex (``\\sqrt{1/n}`` vs ``1/\\sqrt{n}`` at n < 0) are skipped; when the points agree only loosely,
``simplify(a - b) == 0`` decides.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig, latex2sympy
from latex2sympy2_extended.math_normalization import NormalizationConfig

from rlvr_eval.verifier.answer import Scalar
from rlvr_eval.verifier.compare.context import Backend, Tri
from rlvr_eval.verifier.compare.scalars import scalar_equal, shown_precision
from rlvr_eval.verifier.latex_fast import INTEGER_POINTS
from rlvr_eval.verifier.numbers import INTEGER_RE
from rlvr_eval.verifier.sampling import INTEGER_NAMES
from rlvr_eval.verifier.schema import EquivalenceOptions

_NORM = NormalizationConfig(
    basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none", equations=False
)
_CONV = ConversionConfig(
    interpret_as_mixed_fractions=True, interpret_simple_eq_as_assignment=False, lowercase_symbols=False
)
_DIGITS = 60
_SAME = sympy.Float(10) ** -40  # relative agreement that counts as equal at 60 digits
_APART = sympy.Float(10) ** -12  # relative disagreement that counts as different
_MIN_PREC_BITS = 10  # fewer significant bits than this: evalf could not resolve the value at all
_POINTS = 5
_NEGATIVE_POINTS = 3


@lru_cache(maxsize=4096)
def parse_latex(text: str) -> Any | None:
    """sympy object for `text`, or None when it does not parse."""
    if not text or len(text) > 2000:
        return None
    try:
        # degrees survive normalization only inside trigonometry (sin 30^\circ): read them as pi/180
        expr = latex2sympy(text, convert_degrees=True, normalization_config=_NORM, conversion_config=_CONV)
        # a bare i in an answer is the imaginary unit (as in the fast path), not a variable
        imaginary = [s for s in getattr(expr, "free_symbols", ()) if getattr(s, "name", "") == "i"]
        if imaginary:
            expr = expr.subs(imaginary[0], sympy.I)
        # decimals as the exact numbers they show (0.1 -> 1/10), not 15-digit binary floats
        floats: set[Any] = getattr(expr, "atoms", lambda *_: set())(sympy.Float)
        expr = expr.xreplace({f: sympy.Rational(str(f)) for f in floats}) if floats else expr
        return _real_odd_roots(expr)
    except Exception:  # the ANTLR parser and its converter raise many exception types
        return None


def _odd_root_of_negative(x: Any) -> bool:
    exponent = x.exp
    return bool(exponent.is_Rational and exponent.q % 2 == 1 and x.base.is_number and x.base.is_negative)


def _real_odd_roots(expr: Any) -> Any:
    """Odd roots of negative numbers are real, as competitions read them: ``\\sqrt[3]{-8}`` is -2, not
    sympy's principal root 1 + i sqrt(3) (so ``\\sqrt[3]{2+\\sqrt5} + \\sqrt[3]{2-\\sqrt5}`` is 1)."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.Pow):
        return expr
    return expr.replace(
        lambda x: x.is_Pow and _odd_root_of_negative(x), lambda x: sympy.real_root(x.base, x.exp.q) ** x.exp.p
    )


def _numeric(x: Any) -> Any | None:
    try:
        v = sympy.N(x, _DIGITS)
    except Exception:
        return None
    if v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or not v.is_number:
        return None
    return v


def _no_digits(v: Any) -> bool:
    """evalf found no significant digit: the value is zero to within its tiny error bound (a cancellation,
    ``\\sin^2 3 + \\cos^2 3 - 1`` gives ``-0.e-192``), so numerics cannot tell it from 0 or from 10^-200."""
    return isinstance(v, sympy.Float) and v != 0 and v._prec < _MIN_PREC_BITS


def _close(vx: Any, vy: Any, abs_tol: Any | None, rel_tol: float | None, integers: bool) -> Tri:
    """Compare two numeric sympy values: True, False, or None when too close to call."""
    if abs_tol is None and (_no_digits(vx) or _no_digits(vy)):
        return None  # a proof decides (`expr_equal` simplifies the difference)
    diff = abs(vx - vy)
    scale = max(abs(vx), abs(vy))
    try:
        diff, scale = sympy.Float(diff, _DIGITS), sympy.Float(scale, _DIGITS)
    except (TypeError, ValueError):
        return None
    if abs_tol is not None:
        return bool(diff <= sympy.Float(abs_tol, _DIGITS) * (1 + sympy.Float(10) ** -12))
    if rel_tol is not None and not integers and diff <= rel_tol * scale:
        return True
    if scale == 0 or diff <= _SAME * scale:
        return True
    if diff > _APART * scale:
        return False
    return None


def _free(x: Any) -> set:
    return set(getattr(x, "free_symbols", set()))


def _points(
    symbols: set, count: int, negative: bool = False, integers: frozenset = frozenset()
) -> list[dict]:
    """Real points (the `integers` symbols at integer points, as in `sampling.py`)."""
    rng = random.Random(1234567 + negative)
    ordered = sorted(symbols, key=str)
    # several magnitudes, so that piecewise-constant functions (floor, ceil) see more than one step
    scales = (1, 13, 170, 1, 4100)
    # negative points: all variables negative at the first, alternating signs at the others (so that
    # sqrt(x^2 y^2) is not xy)
    return [
        {s: INTEGER_POINTS[(k + 5 * j) % len(INTEGER_POINTS)] if s in integers else
         (-1 if negative and (k == 0 or (j + k) % 2 == 0) else 1)
         * sympy.Rational(rng.randint(1100, 2900) * scales[k % len(scales)], rng.randint(997, 1013))
         for j, s in enumerate(ordered)}
        for k in range(count)
    ]


def _is_real(v: Any) -> bool:
    try:
        return bool(sympy.im(v) == 0)
    except Exception:
        return False


def _integer_points(symbols: set) -> list[dict]:
    ordered = sorted(symbols, key=str)
    count = len(INTEGER_POINTS)
    return [{s: INTEGER_POINTS[(k + 5 * j) % count] for j, s in enumerate(ordered)} for k in range(count)]


def _at_points(x: Any, y: Any, symbols: set, rel_tol: float | None) -> list[Tri]:
    """Verdicts at sample points. Negative points only where both sides are real or one is not.

    Variables are real; `sampling.py`'s rule says which are integers (k, m, n ... with floor, factorials).
    """
    hints = _integer_valued(x) or _integer_valued(y)
    integers = frozenset(s for s in symbols if str(s) in INTEGER_NAMES) if hints else frozenset()
    if symbols <= integers:  # integer variables: every small residue class
        points, negative = _integer_points(symbols), []
    else:
        points = _points(symbols, _POINTS, integers=integers)
        negative = _points(symbols, _NEGATIVE_POINTS, negative=True, integers=integers)
        if hints:  # floor and ceiling of a real variable jump at integers
            negative += _integer_points(symbols)
    verdicts: list[Tri] = []
    for point in points + negative:
        vx, vy = _numeric(x.subs(point)), _numeric(y.subs(point))
        if vx is None or vy is None:
            continue
        if point in negative:
            real_x, real_y = _is_real(vx), _is_real(vy)
            if real_x != real_y:
                verdicts.append(False)  # a real function on one side, undefined (complex) on the other
                continue
            if not real_x:
                continue  # both outside the real domain here (sqrt(1/n) vs 1/sqrt(n) at n < 0)
        verdicts.append(_close(vx, vy, None, rel_tol, False))
    return verdicts


def expr_equal(
    x: Any, y: Any, abs_tol: Any | None = None, rel_tol: float | None = None, integers: bool = False
) -> Tri:
    """Equality of two sympy objects, bounded by the sandbox's timeout."""
    if isinstance(x, sympy.MatrixBase) or isinstance(y, sympy.MatrixBase):
        if not (isinstance(x, sympy.MatrixBase) and isinstance(y, sympy.MatrixBase)) or x.shape != y.shape:
            return False
        results = [expr_equal(p, q, abs_tol, rel_tol) for p, q in zip(x, y, strict=False)]
        return False if False in results else (None if None in results else True)
    if not (isinstance(x, sympy.Expr) and isinstance(y, sympy.Expr)):
        try:
            return True if x == y else None
        except Exception:
            return None
    try:
        if sympy.expand(x - y) == 0 and abs_tol is None:
            return True
    except Exception:
        pass
    symbols = _free(x) | _free(y)
    if not symbols:
        vx, vy = _numeric(x), _numeric(y)
        if vx is None or vy is None:
            return True if x == y else None
        verdict = _close(vx, vy, abs_tol, rel_tol, integers)
        if verdict is True and abs_tol is None and (rel_tol is None or integers):
            # Agreeing to 60 digits is not equality: 2^{1000} and 2^{1000}+1 agree to 300 digits,
            # 2^{1/2^{300}} and 1 to 90. Only a proof counts; without one there is no verdict.
            return _proven_equal(x, y, max(abs(vx), abs(vy)))
        if verdict is None:
            return _simplify_zero(x - y)
        return verdict
    verdicts = _at_points(x, y, symbols, rel_tol)
    if False in verdicts:
        return False
    if verdicts and all(verdicts):
        return True
    return _simplify_zero(x - y)


_EXACT_LIMIT = sympy.Float(10) ** 20_000  # exact arithmetic up to 20,000-digit numbers
_MAX_PROOF_EXPONENT = 10**4  # exponents beyond this (2^{1/2^{300}}) are not worth a proof attempt


def _proven_equal(x: Any, y: Any, magnitude: Any) -> Tri:
    """Two constants that agree to 60 digits: True only when proven, False when proven different."""
    try:
        if x.is_rational and y.is_rational:
            if magnitude > _EXACT_LIMIT:
                return None
            difference = (x - y).doit()
            return bool(difference == 0) if difference.is_Rational else None
        if _huge_exponent(x) or _huge_exponent(y):
            return None
        return _simplify_zero(x - y)
    except Exception:
        return None


def _huge_exponent(x: Any) -> bool:
    for power in x.atoms(sympy.Pow):
        exponent = power.exp
        if exponent.is_Rational and max(abs(exponent.p), exponent.q) > _MAX_PROOF_EXPONENT:
            return True
        if not exponent.is_Rational and exponent.free_symbols == set() and exponent.has(sympy.Pow):
            return True  # a tower: 2^{1/2^{300}} before evaluation
    return False


def _integer_valued(x: Any) -> bool:
    """Floor, ceiling, factorials, binomials and (-1)^n: maybe about integers (`sampling.integer_hints`)."""
    if x.has(sympy.floor, sympy.ceiling, sympy.factorial, sympy.binomial):
        return True
    return any(p.base == -1 and p.exp.free_symbols for p in x.atoms(sympy.Pow))


def _simplify_zero(d: Any) -> Tri:
    try:
        if sympy.simplify(d) == 0:
            return True
        # a constant in polar form (2e^{i\\pi/3} - 1 - \\sqrt{3}i): simplify keeps it; real and imaginary
        # parts written out cancel
        if not d.free_symbols and d.has(sympy.I) and sympy.simplify(sympy.expand_complex(d)) == 0:
            return True
        return None
    except Exception:
        return None


def sympy_proportional(a_sides: Sequence[str], r_sides: Sequence[str], sign: int, positive: bool) -> Tri:
    """Is (a0 - a1) a constant (positive, if asked) multiple of sign * (r0 - r1)? At sample points."""
    try:
        parts = [p for p in (parse_latex(t) for t in (*a_sides, *r_sides)) if isinstance(p, sympy.Expr)]
        if len(parts) != 4:
            return None
        fa, fr = parts[0] - parts[1], sign * (parts[2] - parts[3])
        symbols = _free(fa) | _free(fr)
        if not symbols:
            return None
        ratios = []
        for point in _points(symbols, _POINTS):
            va, vr = _numeric(fa.subs(point)), _numeric(fr.subs(point))
            if va is None or vr is None:
                continue
            if (va == 0) != (vr == 0):
                return False
            if va != 0:
                ratios.append(va / vr)
        if len(ratios) < 2:
            return None  # one point says nothing about constancy
        first = ratios[0]
        if positive and not (first.is_real and first > 0):
            return False  # x > 2 vs x < 2: same boundary, opposite side
        verdicts = [_close(q, first, None, None, False) for q in ratios[1:]]
        if False in verdicts:
            return False
        return True if all(verdicts) else None
    except Exception:  # sympy raises many types on odd objects: no verdict
        return None


def _proportion(x: Any) -> bool:
    """A constant between -1 and 1 (see `scalars.is_proportion`: what a percentage may stand for)."""
    v = _numeric(x) if isinstance(x, sympy.Expr) and not _free(x) else None
    return v is not None and _is_real(v) and bool(abs(v) <= 1)


def _split_percent(text: str) -> tuple[str, bool]:
    return (text[:-1], True) if text.endswith("%") else (text, False)


def symbolic_scalar_equal(a: Scalar, r: Scalar, options: EquivalenceOptions) -> Tri:
    """Scalar comparison with sympy behind the fast path; None when a side cannot be parsed."""
    fast = scalar_equal(a, r, options)
    if fast is not None:
        return fast
    try:
        return _sympy_equal(a.text, r.text, options)
    except Exception:  # sympy raises TypeError/ValueError/... on odd objects (sets in arithmetic): no verdict
        return None


def _sympy_equal(a: str, r: str, options: EquivalenceOptions) -> Tri:
    (a_core, a_pct), (r_core, r_pct) = _split_percent(a), _split_percent(r)
    xa, xr = parse_latex(a_core), parse_latex(r_core)
    if xa is None or xr is None:
        return None
    half_ulp = shown_precision(r, options, answer_rational=bool(getattr(xa, "is_rational", False)))
    abs_tol = None if half_ulp is None else sympy.Rational(half_ulp.numerator, half_ulp.denominator)
    integers = bool(INTEGER_RE.match(a_core) and INTEGER_RE.match(r_core))
    verdict = expr_equal(xa, xr, abs_tol, options.rel_tol, integers)
    if verdict is not True and a_pct != r_pct and _proportion(xa if r_pct else xr):
        # 25% vs 0.25: compare values too (one side has the % sign, the other is a proportion)
        scaled = expr_equal(xa / 100 if a_pct else xa, xr / 100 if r_pct else xr, abs_tol, options.rel_tol)
        if scaled is True:
            return True
    return verdict


SYMBOLIC = Backend("symbolic", symbolic_scalar_equal, sympy_proportional)


# Representative answer shapes. ANTLR's parser builds its prediction cache lazily, so the first parse of
# each construct costs 0.1-0.5 s; the sandbox runs `warm_up` once in the process its workers fork from,
# so every worker starts with a warm cache instead of paying that inside a caller's timeout.
_WARM_UP_LATEX = (
    r"\frac{1}{2}+x", r"\dfrac{3\sqrt{2}}{4}", r"\sqrt[3]{16}-2^{-3}", r"(t+\frac{1}{2}\sin{2t})u(t)",
    r"\left[P_{0}^{2/5}-\frac{2}{5} g K^{-3}\right]", r"x^{2}+2x+1", r"\log_{2} 8+\ln(e^{2})",
    r"\cos\left(t-\frac{\pi}{4}\right)", r"e^{-\zeta \omega_{n} t}", r"10^{-3}\cdot 4.5", r"\binom{5}{2}",
    r"\frac{d!}{k!(d-k)!}", r"|x-1|", r"\tan^{-1}(x)", r"\pi r^2 h", r"3.14 \times 10^{8}", r"a_{1}+b_{2}",
    r"\sqrt{1/n}", r"\int_{0}^{1} x\,dx", r"\infty",
)


def warm_up() -> None:
    """Parse and compare a few representative answers, filling the parser's and sympy's caches."""
    previous = None
    for text in _WARM_UP_LATEX:
        parsed = parse_latex(text)
        if parsed is not None and previous is not None:
            expr_equal(parsed, previous)
        previous = parsed
    parse_latex.cache_clear()
