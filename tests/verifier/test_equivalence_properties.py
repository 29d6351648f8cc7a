"""Hypothesis properties of answer equivalence.

Equivalent renderings of a number are accepted, perturbed values are rejected, sets are permutation
invariant and tuples are not, and cosmetic LaTeX never changes a verdict.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier.equivalence import compare, fast_compare
from rlvr_eval.verifier.parse import parse
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

EQ, NE = ContentStatus.EQUAL, ContentStatus.DIFFERENT
OPTS = EquivalenceOptions()
SETTINGS = settings(max_examples=150, deadline=None)

integers = st.integers(min_value=-(10**12), max_value=10**12)
fractions = st.builds(
    Fraction, st.integers(min_value=-5000, max_value=5000), st.integers(min_value=1, max_value=5000)
).filter(lambda q: q.denominator != 1)


def _frac_renderings(q: Fraction, k: int) -> list[str]:
    """Ways to write q: unreduced by k, \\frac / \\dfrac / a/b, sign inside or outside."""
    n, d = q.numerator, q.denominator
    sign = "-" if n < 0 else ""
    a = abs(n)
    return [
        f"{sign}\\frac{{{a}}}{{{d}}}",
        f"{sign}\\dfrac{{{a * k}}}{{{d * k}}}",
        f"\\tfrac{{{n}}}{{{d}}}",
        f"{n}/{d}",
        f"{sign}{a * k}/{d * k}",
        f"\\frac{{{n * k}}}{{{d * k}}}",
    ]


def _cosmetic(text: str, variant: int) -> str:
    """Presentation-only rewrites of an answer."""
    return [
        f"${text}$",
        f"\\boxed{{{text}}}",
        f" {text} ",
        f"\\({text}\\)",
        f"The answer is {text}.",
        f"$\\boxed{{ {text} }}$",
        f"\\left({text}\\right)",
        f"{{{text}}}",
    ][variant]


def _thousands(n: int, sep: str) -> str:
    s = f"{abs(n):,}".replace(",", sep)
    return ("-" if n < 0 else "") + s


def _assert(answer: str, reference: str, expected: ContentStatus, opts: EquivalenceOptions = OPTS) -> None:
    fast = fast_compare(answer, reference, opts)
    assert fast in (None, expected), f"fast: {answer!r} vs {reference!r} -> {fast}"
    got = compare(answer, reference, opts)
    assert got is expected, f"{answer!r} vs {reference!r} -> {got}"


@SETTINGS
@given(integers, st.sampled_from(["{,}", ",", "\\,", "\\!", " ", ""]), st.integers(0, 7))
def test_integer_renderings_accepted(n: int, sep: str, variant: int) -> None:
    assume(not (sep == "," and variant == 6 and abs(n) >= 1000))  # (1,000) is a pair, not a number
    _assert(_cosmetic(_thousands(n, sep), variant), str(n), EQ)


@SETTINGS
@given(integers, st.sampled_from([1, -1, 10, 100, 1000, 10**6]))
def test_integer_perturbations_rejected(n: int, delta: int) -> None:
    _assert(str(n + delta), str(n), NE)
    _assert(str(n), str(n + delta), NE)


@SETTINGS
@given(fractions, st.integers(1, 9), st.integers(0, 5), st.integers(0, 7))
def test_fraction_renderings_accepted(q: Fraction, k: int, which: int, variant: int) -> None:
    reference = _frac_renderings(q, 1)[0]
    answer = _cosmetic(_frac_renderings(q, k)[which], variant)
    _assert(answer, reference, EQ)


@SETTINGS
@given(fractions, st.sampled_from([Fraction(1), Fraction(-1), Fraction(1, 1000), Fraction(1, 10**9)]))
def test_fraction_perturbations_rejected(q: Fraction, delta: Fraction) -> None:
    p = q + delta
    _assert(f"\\frac{{{p.numerator}}}{{{p.denominator}}}", f"\\frac{{{q.numerator}}}{{{q.denominator}}}", NE)
    # the reciprocal is a classic slip
    if abs(q) != 1:
        ref = f"\\frac{{{q.numerator}}}{{{q.denominator}}}"
        _assert(f"\\frac{{{q.denominator}}}{{{q.numerator}}}", ref, NE)


@SETTINGS
@given(st.integers(-(10**6), 10**6), st.integers(1, 6), st.integers(0, 3))
def test_decimal_reference_precision(units: int, places: int, extra_zeros: int) -> None:
    """A decimal reference accepts its own value written with more zeros, rejects one unit off."""
    assume(units % 10 != 0)  # the last shown digit is significant
    ref = Fraction(units, 10**places)
    text = f"{float(ref):.{places}f}"
    _assert(text + "0" * extra_zeros, text, EQ)
    off = ref + Fraction(1, 10**places)
    _assert(f"{float(off):.{places}f}", text, NE)


@SETTINGS
@given(st.lists(integers, min_size=2, max_size=5, unique=True), st.randoms(use_true_random=False))
def test_sets_are_permutation_invariant(values: list[int], rnd) -> None:
    shuffled = values[:]
    rnd.shuffle(shuffled)
    ref = "\\{" + ", ".join(map(str, values)) + "\\}"
    _assert("\\{" + ",".join(map(str, shuffled)) + "\\}", ref, EQ)
    _assert(", ".join(map(str, shuffled)), ", ".join(map(str, values)), EQ)


@SETTINGS
@given(st.lists(integers, min_size=2, max_size=5, unique=True), st.randoms(use_true_random=False))
def test_tuples_are_ordered(values: list[int], rnd) -> None:
    shuffled = values[:]
    rnd.shuffle(shuffled)
    ref = "(" + ", ".join(map(str, values)) + ")"
    expected = EQ if shuffled == values else NE
    _assert("\\left(" + ",".join(map(str, shuffled)) + "\\right)", ref, expected)


@SETTINGS
@given(
    st.sampled_from(["3", "-7", "\\frac{2}{3}", "2\\sqrt{3}", "(1,2)", "[0,1)", "\\{1,2\\}", "x^2+1", ".25"]),
    st.sampled_from(["3", "-7", "\\frac{2}{3}", "\\sqrt{12}", "(1,2)", "[0,1]", "\\{2,1\\}", "1+x^2", "25%"]),
    st.integers(0, 7),
)
def test_cosmetic_latex_never_changes_verdict(answer: str, reference: str, variant: int) -> None:
    plain = compare(answer, reference, OPTS)
    assert compare(_cosmetic(answer, variant), reference, OPTS) is plain
    assert compare(answer, _cosmetic(reference, variant), OPTS) is plain
    spaced = answer.replace(",", ", \\,").replace("\\frac", "\\dfrac")
    assert compare(spaced, reference, OPTS) is plain


@SETTINGS
@given(st.integers(1, 50), st.integers(1, 50), st.integers(-20, 20))
def test_polynomial_forms(a: int, b: int, c: int) -> None:
    """(ax+b)(x+c) equals its expansion, and not the expansion with a perturbed constant."""
    expanded = f"{a}x^2+{a * c + b}x+{b * c}"
    factored = f"({a}x+{b})(x+{c})".replace("+-", "-")
    _assert(factored, expanded.replace("+-", "-"), EQ)
    wrong = f"{a}x^2+{a * c + b}x+{b * c + 1}"
    _assert(factored, wrong.replace("+-", "-"), NE)


_TOKENS = [
    "1", "2", "0", "x", "y", "e", "i", "k", "+", "-", "/", "^", "(", ")", "[", "]", "{", "}", "\\{", "\\}",
    ",", "=", "<", "\\leq", "\\frac", "\\sqrt", "\\pi", "\\infty", "!", "%", ".", " ", "\\cdot", "\\sin",
    "\\ln", "_", "\\text{cm}", "\\boxed{", "\\left(", "\\right)", "\\cup", "\\pm", "\\lfloor", "\\rfloor",
    "&", "\\\\", "\\begin{pmatrix}", "\\end{pmatrix}", "$", "\\,", "{,}", "^\\circ", "1.5", "\\emptyset",
]
_garbage = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=14).map("".join)
_any_options = st.sampled_from(
    [OPTS, EquivalenceOptions(multiple_answers=True), EquivalenceOptions(rel_tol=0.01),
     EquivalenceOptions(answer_type="choice", choices=("A", "B")), EquivalenceOptions(unit="cm")]
)


@settings(max_examples=300, deadline=None)
@given(_garbage, _garbage, _any_options)
def test_malformed_latex_never_raises(answer: str, reference: str, opts: EquivalenceOptions) -> None:
    """Garbage in, a status out: both paths return a ContentStatus (or None for fast) and never raise."""
    fast = fast_compare(answer, reference, opts)
    assert fast in (None, EQ, NE)
    # an answer equals itself, unless there is nothing there at all ("$", "."): empty equals nothing
    assert fast_compare(reference, reference, opts) is (NE if parse(reference, opts).kind == "empty" else EQ)
    slow = compare(answer, reference, opts)
    assert isinstance(slow, ContentStatus)
    assert fast in (None, slow)
