"""Hypothesis properties of structured answers: names bind values, an interval is not its endpoints,
variables are real under floor and ceiling, absolute-value inequalities and the real line minus points
are their intervals, odd roots of negative numbers are real.

Each case is checked on the full comparison (`compare`) and, when it decides, on the in-process fast
path too (they must agree).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier.equivalence import compare, fast_compare
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

EQ, NE = ContentStatus.EQUAL, ContentStatus.DIFFERENT
OPTS = EquivalenceOptions()
SETTINGS = settings(max_examples=60, deadline=None)

small = st.integers(min_value=-40, max_value=40)
# names that are never constants (e, i) nor integer-named (k, m, n, j, l), so they are plain reals
real_names = st.sampled_from(list("abcdpqrstuvwxyz"))
nonzero = st.integers(min_value=-9, max_value=9).filter(bool)


def _assert(answer: str, reference: str, expected: ContentStatus, opts: EquivalenceOptions = OPTS) -> None:
    fast = fast_compare(answer, reference, opts)
    assert fast in (None, expected), f"fast path: {answer!r} vs {reference!r} -> {fast}"
    got = compare(answer, reference, opts)
    assert got is expected, f"{answer!r} vs {reference!r} -> {got}"


def _frac(q: Fraction) -> str:
    sign, p, d = ("-" if q < 0 else ""), abs(q.numerator), q.denominator
    return f"{sign}{p}" if d == 1 else f"{sign}\\frac{{{p}}}{{{d}}}"


# --------------------------------------------------------------------------- names bind values


@SETTINGS
@given(
    st.lists(real_names, min_size=2, max_size=4, unique=True),
    st.lists(small, min_size=4, max_size=4, unique=True),
    st.randoms(use_true_random=False),
)
def test_names_bind_values(names: list[str], values: list[int], rnd) -> None:
    """``(a, b) = (1, 2)`` is met by its names in any order, never by the values moved between names."""
    values = values[: len(names)]
    reference = f"({', '.join(names)}) = ({', '.join(map(str, values))})"
    order = list(range(len(names)))
    rnd.shuffle(order)
    _assert(", ".join(f"{names[k]} = {values[k]}" for k in order), reference, EQ)
    tuple_in_order = f"({', '.join(names[k] for k in order)}) = ({', '.join(str(values[k]) for k in order)})"
    _assert(tuple_in_order, reference, EQ)
    moved = values[1:] + values[:1]  # every name gets another name's value
    _assert(", ".join(f"{names[k]} = {moved[k]}" for k in order), reference, NE)
    _assert(f"({', '.join(names)}) = ({', '.join(map(str, moved))})", reference, NE)


# --------------------------------------------------------------------------- intervals vs lists


_INTERVALS = ["[{a}, {b}]", "{x} \\in [{a}, {b}]", "{x} \\in ({a}, {b})", "{x} \\in [{a}, {b})"]


@SETTINGS
@given(small, st.integers(1, 50), real_names, st.sampled_from(_INTERVALS))
def test_interval_is_not_its_endpoints(a: int, width: int, x: str, spelling: str) -> None:
    b = a + width
    interval = spelling.format(a=a, b=b, x=x)
    for values in (f"{a}, {b}", f"{b}, {a}"):
        _assert(interval, values, NE)
        _assert(values, interval, NE)
    if spelling.startswith("{x}"):
        bare = spelling.split("\\in ")[1].format(a=a, b=b)
        _assert(interval, bare, EQ)  # membership is the interval itself


# --------------------------------------------------------------------------- variables are real


@SETTINGS
@given(real_names, nonzero, st.integers(2, 7), small, st.sampled_from(["lfloor", "lceil"]))
def test_floor_of_a_real_variable_is_not_the_variable(x: str, p: int, q: int, c: int, kind: str) -> None:
    """``\\lfloor (p/q) x + c \\rfloor`` differs from its argument: x is real, not an integer."""
    assume(p % q != 0)
    close = "rfloor" if kind == "lfloor" else "rceil"
    argument = f"\\frac{{{p}}}{{{q}}}{x} + {c}"
    _assert(f"\\{kind} {argument} \\{close}", argument, NE)
    _assert(f"{x} - \\{kind} {x} \\{close}", "0", NE)
    _assert(f"\\{kind} {x} + {c} \\{close}", f"\\{kind} {x} \\{close} + {c}", EQ)  # true for every real x


@SETTINGS
@given(st.sampled_from(list("kmn")), st.integers(2, 6))
def test_integer_named_variables_keep_integer_identities(n: str, d: int) -> None:
    """``\\lfloor n/d \\rfloor + ... `` identities of integers still hold for k, m, n."""
    _assert(f"\\lceil \\frac{{{n}}}{{{d}}} \\rceil", f"\\lfloor \\frac{{{n} + {d - 1}}}{{{d}}} \\rfloor", EQ)


# --------------------------------------------------------------------------- sets of reals


@SETTINGS
@given(real_names, nonzero, small, st.integers(1, 30), st.sampled_from(["<", "\\le", ">", "\\ge"]))
def test_absolute_inequality_is_its_interval(x: str, s: int, c: int, r: int, op: str) -> None:
    """``|s x - s c| < |s| r`` is (c - r, c + r); ``>`` the rays outside; a moved end is another set."""
    relation = f"|{s}{x} + {-s * c}| {op} {abs(s) * r}"
    lo, hi = c - r, c + r
    closed = op in ("\\le", "\\ge")
    if op in ("<", "\\le"):
        expected = f"{'[' if closed else '('}{lo}, {hi}{']' if closed else ')'}"
        moved = f"{'[' if closed else '('}{lo}, {hi + 1}{']' if closed else ')'}"
    else:
        expected = f"(-\\infty, {lo}{']' if closed else ')'} \\cup {'[' if closed else '('}{hi}, \\infty)"
        moved = f"(-\\infty, {lo - 1}{']' if closed else ')'} \\cup {'[' if closed else '('}{hi}, \\infty)"
    _assert(relation, expected, EQ)
    _assert(relation, moved, NE)


@SETTINGS
@given(st.lists(st.fractions(-20, 20, max_denominator=6), min_size=1, max_size=3, unique=True))
def test_reals_minus_points(points: list[Fraction]) -> None:
    ends = ["-\\infty", *(_frac(p) for p in sorted(points)), "\\infty"]
    union = " \\cup ".join(f"({a}, {b})" for a, b in pairwise(ends))
    answer = f"\\mathbb{{R}} \\setminus \\{{{', '.join(_frac(p) for p in points)}\\}}"
    _assert(answer, union, EQ)
    _assert(answer, "(-\\infty, \\infty)", NE)


# --------------------------------------------------------------------------- real roots


@SETTINGS
@given(st.integers(1, 30), st.sampled_from([3, 5]), st.integers(2, 7))
def test_odd_roots_of_negative_numbers_are_real(n: int, k: int, c: int) -> None:
    _assert(f"\\sqrt[{k}]{{-{n**k}}}", f"-{n}", EQ)
    _assert(f"\\sqrt[{k}]{{-{n**k}}}", f"{n}", NE)
    _assert(f"\\sqrt[{k}]{{-{c}}}", f"-\\sqrt[{k}]{{{c}}}", EQ)
