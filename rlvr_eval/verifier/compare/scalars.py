"""Fast comparison of two scalars (numbers, expressions, words) in process: the fast backend's core.

Returns True (equal), False (different) or None (undecided: the symbolic path decides). True only on
exact evidence (`numbers.Value` arithmetic, at fixed sample points for variables); False only when both
sides were parsed by `latex_fast` and differ exactly or beyond doubt numerically (`numeric.py`), or
both are plain words that differ: a parse failure can never turn into a verdict (the ``1-\\frac{1}{e}``
trap). Variables are real: they are sampled at negative points too, so ``|t|`` and ``\\sqrt{t^2}`` are
not ``t``; a point where a side is not real (``\\sqrt{n}`` at negative n) is skipped. Floor and ceiling
do not make a variable an integer (``\\lfloor 2x \\rfloor`` is not ``2x``); which variables are sampled at
integers is `sampling.py`'s rule.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from rlvr_eval.verifier.answer import Answer, Expression, Number, Scalar, Text
from rlvr_eval.verifier.brackets import infinity_sign
from rlvr_eval.verifier.compare import quantities, relations
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.latex_fast import Node, ParseResult, evaluate, parse_fast
from rlvr_eval.verifier.numbers import (
    INTEGER_RE,
    OutsideDomain,
    Refuse,
    Value,
    close_enough,
    decimal_half_ulp,
)
from rlvr_eval.verifier.numeric import numerically_different, numerically_within
from rlvr_eval.verifier.sampling import INTEGER_NAMES, Points, sample_points
from rlvr_eval.verifier.schema import EquivalenceOptions

MAX_SCALAR_CHARS = 600

_MIXED_RE = re.compile(r"^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$")
_REPEATING_RE = re.compile(r"^(-?)(\d{0,20})\.(\d{0,20})\\(?:overline|dot)\{(\d{1,20})\}$")
_DOTTED_RE = re.compile(r"^(-?)(\d{0,20})\.(\d{2,40})\\ldots$")  # 0.272727\ldots
# letters, spaces, apostrophes: no operators, so a-b-c-d (an expression) is not a word
_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z ']*$")
# short answers that are words, not products of variables
_WORDS = frozenset({"yes", "no", "true", "false", "none", "odd", "even", "all", "both", "neither", "nan"})
_BASE_RE = re.compile(r"^([0-9A-Za-z]+)_\{?\(?(\d+)\)?\}?$")
_DIGITS_RE = re.compile(r"^[0-9A-Z]+$")


def is_word(text: str) -> bool:
    return bool(_WORD_RE.match(text)) and "\\" not in text


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
        parsed = parse_fast(other)
        return False if parsed is not None and not parsed[1] else None
    return other.upper() == digits


def shown_precision(
    reference: str, options: EquivalenceOptions, answer_rational: bool = True
) -> Fraction | None:
    """The tolerance a decimal reference grants: half a unit in its last shown place, only where the
    reference is a rounded value:

    - options.rounded_reference: the question asks to round or estimate, or the task's references are
      rounded (Minerva's significant figures);
    - the answer is not rational (``\\pi``, ``\\log_2 3``): a decimal can only be its rounding.

    Otherwise a decimal reference is exact: ref 4.5 ("9/2 as a decimal") rejects 4.54, ref 12.7 rejects
    12.68, however close; other graders' shown-precision rounding credits exactly that slip.
    """
    if options.rounded_reference or not answer_rational:
        return decimal_half_ulp(reference)
    return None


@lru_cache(maxsize=64)
def rounded(options: EquivalenceOptions) -> EquivalenceOptions:
    """`options` for a value that is rounded by its own statement (an ``\\approx`` tail)."""
    return options if options.rounded_reference else options.model_copy(update={"rounded_reference": True})


def _value(text: str) -> ParseResult | None:
    m = _MIXED_RE.match(text)
    if m:
        v = Fraction(int(m.group(2))) + Fraction(int(m.group(3)), int(m.group(4)))
        return ("num", -v if m.group(1) else v), frozenset()
    repeating = _repeating(text)
    if repeating:  # 0.1\overline{6} = 1/6
        sign, whole, head, cycle = repeating
        v = Fraction(int(whole or "0")) + Fraction(int(head or "0"), 10 ** len(head))
        v += Fraction(int(cycle), (10 ** len(cycle) - 1) * 10 ** len(head))
        return ("num", -v if sign else v), frozenset()
    return parse_fast(text)


def _repeating(text: str) -> tuple[str, ...] | None:
    """(sign, whole part, head, cycle) of a repeating decimal: ``0.1\\overline{6}``, or ``0.272727\\ldots``
    read as ``0.\\overline{27}`` (the shortest block repeated at least twice at the end of the digits;
    ``0.1666\\ldots`` is ``0.1\\overline{6}``). Digits that do not repeat (``3.14159\\ldots``): None."""
    m = _REPEATING_RE.match(text)
    if m:
        return m.groups()
    m = _DOTTED_RE.match(text)
    if m is None:
        return None
    sign, whole, digits = m.groups()
    for size in range(1, len(digits) // 2 + 1):
        cycle = digits[-size:]
        start = len(digits) - size
        while start >= size and digits[start - size : start] == cycle:
            start -= size
        if len(digits) - start >= 2 * size:
            return sign, whole, digits[:start], cycle
    return None


def _rename(node: tuple, old: str, new: str) -> tuple:
    """The parse tree with variable `old` renamed to `new`."""
    if node[0] == "var":
        return ("var", new) if node[1] == old else node
    return tuple(_rename(c, old, new) if isinstance(c, tuple) else c for c in node)


def _equal_at_points(na: Node, nr: Node, points: Points) -> bool:
    """Exact equality at sample points (raises Refuse when a side cannot be evaluated exactly).

    The main points must all evaluate; at the partial ones (negative reals, integers for real
    variables) a side that is not defined there is skipped.
    """
    if not all(evaluate(na, env) == evaluate(nr, env) for env in points.exact):
        return False
    for env in points.partial:
        try:
            if evaluate(na, env) != evaluate(nr, env):
                return False
        except (OutsideDomain, ZeroDivisionError):
            continue
    return True


def _numbers_equal(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Exact (or shown-precision) comparison of two fast-parseable expressions."""
    pa, pr = _value(a), _value(r)
    if pa is None or pr is None:
        return None
    (na, va), (nr, vr) = pa, pr
    if va != vr and len(va) == len(vr) == 1 and va | vr <= INTEGER_NAMES:
        # k\pi vs n\pi: a solution family's integer parameter is a bound name
        na, va = _rename(na, next(iter(va)), next(iter(vr))), vr
    names = va | vr
    points = sample_points(names, a + r)
    try:
        if not names:
            answer_value = evaluate(na, {})
            abs_tol = shown_precision(r, options, answer_value.rational() is not None)
            literals = bool(INTEGER_RE.match(a) and INTEGER_RE.match(r))
            return close_enough(answer_value, evaluate(nr, {}), abs_tol, options.rel_tol, literals)
        # over the union of names: "2x" vs "2y" differ as functions, and x - x + 2 vs 2 still agree
        if _equal_at_points(na, nr, points):
            return True
        if len(names) == 1 and names <= INTEGER_NAMES and "\\pi" in a and "\\pi" in r:
            return same_family(na, nr, next(iter(names)))  # -pi/4 + k pi is 3 pi/4 + (k-1) pi
        return False
    except (Refuse, ZeroDivisionError, KeyError, OverflowError, RecursionError):
        pass
    # small points too: at x ~ 1000, 2^x - 1 and 2^x + 1 agree to 300 digits
    envs = points.numeric if names else [{}]
    # no exact value: a logarithm or a trigonometric value, which a decimal reference can only round
    abs_tol = shown_precision(r, options, answer_rational=False) if not names else None
    if numerically_different(na, nr, envs, abs_tol, options.rel_tol):
        return False
    tolerance = abs_tol is not None or options.rel_tol is not None
    if not names and tolerance and numerically_within(na, nr, abs_tol, options.rel_tol):
        return True  # log_2 3 vs 1.58
    return True if _formally_equal(na, nr, points.formal if names else [{}]) else None


_FAMILY_POINTS = (-1, 0, 1, 2, 7)


def same_family(na: Node, nr: Node, name: str) -> Tri:
    """Do two solution families ``a + b k`` (k any integer) list the same numbers?

    Only for families linear in k (checked at several integers): then they are the same set exactly
    when the steps agree up to sign and the offsets differ by a whole number of steps. Else None.
    """
    steps = []
    offsets = []
    for node in (na, nr):
        values = [evaluate(node, {name: Value.of(k)}) for k in _FAMILY_POINTS]
        step = values[2] - values[1]
        if step.is_zero() or any(
            (v - values[1]) != step * Value.of(k) for k, v in zip(_FAMILY_POINTS, values, strict=True)
        ):
            return None
        steps.append(step)
        offsets.append(values[1])
    if steps[0] != steps[1] and steps[0] != -steps[1]:
        return False
    shift = ((offsets[0] - offsets[1]) / steps[0]).rational()
    return shift is not None and shift.denominator == 1


def _formally_equal(na: Node, nr: Node, envs: list[dict[str, Value]]) -> bool:
    """Equal with transcendental parts as uninterpreted functions (sin(2t)/4 + cos(2t)/4 vs ...)."""
    try:
        return all(
            evaluate(na, env, oracle=salt) == evaluate(nr, env, oracle=salt)
            for env in envs
            for salt in (1, 2)  # two independent draws of the uninterpreted values
        )
    except (Refuse, ZeroDivisionError, KeyError, OverflowError, RecursionError):
        return False


def _with_percent(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Percent signs: ``P%`` against a plain number ``x`` matches when P = x (the number was meant in
    percent: 37.5% vs 37.5) or when P/100 = x and x is a proportion, |x| <= 1 (25% vs 0.25).

    Percent is x100, so ``3750%`` is the number 37.5, but nobody means a reference of 37.5 as 3750%: the
    x100 / /100 leniency of other graders accepts exactly that slip (REFERENCE.md section 4).
    """
    a_pct, r_pct = a.endswith("%"), r.endswith("%")
    raw = _numbers_equal(a.rstrip("%"), r.rstrip("%"), options)
    if a_pct == r_pct or raw is not False:
        return raw
    if not is_proportion(r if a_pct else a):
        return False
    return _numbers_equal(a, r, options)  # 25% vs 0.25: both as values


def is_proportion(text: str) -> bool:
    """A constant between -1 and 1: the only plain numbers a percentage may stand for as a value."""
    value = value_of(text)
    try:
        return value is not None and abs(value.to_float()) <= 1
    except (Refuse, OverflowError):
        return False


def numbers_equal(a: Number, r: Number, options: EquivalenceOptions) -> bool:
    """Two rational literals: exact, or within the reference's shown precision / options.rel_tol."""
    integers = bool(INTEGER_RE.match(a.text) and INTEGER_RE.match(r.text))
    tolerance = shown_precision(r.text, options)
    return close_enough(Value.of(a.value), Value.of(r.value), tolerance, options.rel_tol, integers)


def text_equal(a: str, r: str, options: EquivalenceOptions) -> Tri:
    """Fast verdict on two scalar texts (no top-level relation signs); None when undecided."""
    if a == r:
        return True
    if len(a) > MAX_SCALAR_CHARS or len(r) > MAX_SCALAR_CHARS:
        return None  # parse trees this large recurse deeply; not the fast path's business
    if not a or not r:
        return False
    inf_a, inf_r = infinity_sign(a), infinity_sign(r)
    if inf_a or inf_r:
        if inf_a and inf_r:
            return inf_a == inf_r
        return False if _value(a if inf_r else r) is not None else None
    base = _base_digits(a, r)
    if base is not None:
        return base
    words = _words_equal(a, r, options)
    if words is not None:
        return words
    if "%" in a or "%" in r:
        return _with_percent(a, r, options)
    return _numbers_equal(a, r, options)


def scalar_equal(a: Scalar, r: Scalar, options: EquivalenceOptions) -> Tri:
    """The fast backend's scalar comparison: exact for two literals, else `text_equal`."""
    if isinstance(a, Number) and isinstance(r, Number):
        try:
            return numbers_equal(a, r, options)
        except Refuse:
            return None
    return text_equal(a.text, r.text, options)


def value_of(text: str) -> Value | None:
    """Exact value of a constant expression, or None (used for interval endpoints and sorting)."""
    p = _value(text)
    if p is None or p[1]:
        return None
    try:
        return evaluate(p[0], {})
    except (Refuse, ZeroDivisionError):
        return None


# --------------------------------------------------------------------------- the rule for two scalars

_RADIAN_UNITS = frozenset({"rad", "radian", "radians"})
_DEGREE_UNIT_RE = re.compile(r"^(?:\^\s*\{?\s*\\circ\s*\}?|\\circ|°|degrees?|deg|\\degree)$")


def as_scalar(value: object) -> Scalar | None:
    if isinstance(value, (Number, Expression)):
        return value
    if isinstance(value, Text):
        return Expression(value.text)
    return None


def _in_radians(answer: Answer, value: Scalar) -> bool:
    unit = (answer.unit or "").lower()
    return unit in _RADIAN_UNITS or (not answer.degrees and "\\pi" in value.text)


def _radians(value: Scalar) -> Expression:
    return Expression(f"({value.text})\\cdot\\frac{{\\pi}}{{180}}")


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Two numbers, expressions or words, with their fields: label, unit, degrees, approximation tail.

    - Different labels state different equations (``x = 3`` vs ``y = 3``): compared as relations.
    - Units on both sides: the answer in the reference's unit (`quantities.py`); different kinds or
      scales are DIFFERENT (``42 m^2`` vs ``42 cm^2``), a unit on one side only says nothing.
    - ``120^\\circ`` meets ``\\frac{2\\pi}{3}`` as 120 pi / 180 only when the other side is in radians
      (it has a pi or a radian unit); ``30^\\circ`` vs ``30`` compares the numbers. ``options.unit``
      in degrees makes a reference without a unit an angle in degrees.
    - An approximation tail of the reference (``\\frac{\\sqrt7}{7} \\approx 0.378``) also accepts a decimal
      answer equal to it at its shown precision (the tail is rounded by its own statement). The
      answer's own tail must agree with its value (to a unit in its last place: rounded or cut off);
      the value counts, but an answer whose decimal contradicts it (``\\sqrt{10} \\approx 3.46``)
      states two different numbers and is DIFFERENT.
    """
    if answer.label and reference.label and answer.label != reference.label:
        return relations.compare(answer, reference, ctx)
    a, r = as_scalar(answer.value), as_scalar(reference.value)
    if a is None or r is None:
        return False
    if answer.approx is not None and _contradicts(a, answer.approx):
        return False
    factor = quantities.unit_factor(answer, reference, ctx.options)
    if factor is False:
        return False
    options = ctx.options
    if factor != 1:
        a, options = quantities.in_reference_unit(a, factor), quantities.converted_options(options)
    answer_degrees = answer.degrees
    reference_degrees = reference.degrees or (_degree_option(ctx.options) and not _in_radians(reference, r))
    if answer_degrees and not reference_degrees and _in_radians(reference, r):
        a = _radians(a)
    elif reference_degrees and not answer_degrees and _in_radians(answer, a):
        r = _radians(r)
    same = ctx.backend.scalars(a, r, options)
    decimal_answer = isinstance(a, Number) and "." in a.text
    if same is not True and reference.approx is not None and decimal_answer:
        return True if ctx.backend.scalars(a, reference.approx, rounded(options)) is True else same
    return same


def _degree_option(options: EquivalenceOptions) -> bool:
    """options.unit says the reference is in degrees (``^{\\circ}``, ``degrees``)."""
    return options.unit is not None and (
        bool(_DEGREE_UNIT_RE.match(options.unit.strip().strip("$").strip()))
    )


def _contradicts(value: Scalar, tail: Scalar) -> bool:
    """The answer's ``\\approx`` tail is more than a unit in its last place away from its own value."""
    half_ulp = decimal_half_ulp(tail.text) if isinstance(tail, Number) else None
    exact = value_of(value.text)
    if half_ulp is None or exact is None or not isinstance(tail, Number):
        return False
    try:
        return abs(exact.to_float() - float(tail.value)) > 2 * float(half_ulp) * (1 + 1e-9)
    except (Refuse, OverflowError):
        return False
