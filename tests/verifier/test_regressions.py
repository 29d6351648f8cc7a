"""Known grader defects (REFERENCE.md section 4 and the issue), as (answer, reference, expected) tables.

Each table is named after where the case comes from. `compare` gives the verdict; whenever the fast path
decides a pair, it must agree with `compare`.
"""

from __future__ import annotations

import pytest

from rlvr_eval.verifier.equivalence import compare, fast_compare
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

EQ, NE = ContentStatus.EQUAL, ContentStatus.DIFFERENT
DEFAULT = EquivalenceOptions()

# Wrong answers that widely used graders accept (REFERENCE.md §4, "Wrong answers accepted").
WRONGLY_ACCEPTED_ELSEWHERE = [
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}"),
    ("1/2^{99}", "1/2^{98}"),
    ("1/2004!", "1/2006!"),
    (r"\frac{1}{2004!}", r"\frac{1}{2006!}"),
    ("0.0000001", "0.0000002"),
    (r"1-\frac{1}{e}", r"1+\frac{1}{e}"),
    (r"1+\frac{1}{e}", r"1-\frac{1}{e}"),
    ("2", "200"),
    ("200", "2"),
    ("0.02", "2"),
    ("10001", "10000"),
    ("(1,2)", "[1,2]"),
    ("[1,2]", "(1,2)"),
    ("a+b", "b"),
    ("b", "a+b"),
    ("x = 1", "y = 2"),
    ("x - 1 = 0", "x + 1 = 0"),
    ("x^2 = 4", "x = 2"),
    ("x + y = 0", "x - y = 0"),
    ("x^2 = x", "x = 1"),
    (r"2k\pi", r"k\pi"),
]

# A subset of a multiple-answer reference (OlympiadBench is_multiple_answer items).
MULTI_SUBSET = [
    ("1", "1, 2"),
    ("x = 1", "1, -2"),
    ("(1,2)", "(1,2), (3,4)"),
]

# Correct answers that widely used graders reject (REFERENCE.md §4, "Correct answers rejected").
WRONGLY_REJECTED_ELSEWHERE = [
    ("The answer is 5/6.", r"\frac{5}{6}"),
    ("5/6.", r"\frac{5}{6}"),
    ("10{,}000", "10000"),
    ("10,000", "10000"),
    (r"10\,000", "10000"),
    (r"10\!000", "10000"),
    ("10 000", "10000"),
    (r"\sqrt{1/n}", r"\frac{1}{\sqrt{n}}"),
    (r"\frac{1}{2}", "$\\frac{1}{2}$"),
    (r"\frac12", r"\frac{1}{2}"),
    ("w=16, d=3", "(16,3)"),
    ("x>2", r"(2,\infty)"),
    (r"x \geq -1", r"[-1,\infty)"),
    (r"-3 < x \leq 5", "(-3,5]"),
    ("f(x)=x", "f(z)=z"),
    ("f(t)=2t", "f(x)=2x"),
    ("12.70", "12.7"),
    (r"12^{\mathrm{th}}", "12"),
    (r"12^{th}", "12"),
    ("12th", "12"),
    (r"k\pi", r"\pi k"),
    (r"2k\pi", r"2\pi k"),
    (r"\text{(C)}", "C"),
    (r"\textbf{Evelyn}", r"\text{Evelyn}"),
    ("x^2/4+y^2/3=1", "3x^2+4y^2=12"),
    (r"n\pi", r"k\pi"),
    (r"x = \frac{\pi}{2} + n\pi, n \in \mathbb{Z}", r"\frac{\pi}{2}+k\pi"),
    (r"k\pi \text{ for any integer } k", r"k\pi"),
    (r"\frac{(2k+1)\pi}{2}", r"k\pi+\frac{\pi}{2}"),
    ("3x^2+4y^2=12", "x^2/4+y^2/3=1"),
]

# The content requirements of the issue, must-accept.
ISSUE_ACCEPT = [
    ("x = 3", "3"),
    ("3", "x = 3"),
    ("2x + 1 = y", "y = 2x + 1"),
    (r"\{2,1\}", r"\{1,2\}"),
    (r"\begin{bmatrix}1&2\\3&4\end{bmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
    (r"30^\circ", "30"),
    (r"30^{\circ}", "30"),
    (r"5\text{ cm}", "5"),
    ("5 cm", "5"),
    (r"2\sqrt{3}", r"\sqrt{12}"),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}"),
    (r"1.5\times10^{3}", "1500"),
    ("1.5e3", "1500"),
    (r"2\frac{1}{2}", r"\frac{5}{2}"),
    (r"\dfrac{3}{4}", r"\tfrac{3}{4}"),
    ("3/4", r"\frac{3}{4}"),
    ("0.75", r"\frac{3}{4}"),
    ("25\\%", "25"),
    ("0.25", "25\\%"),
    ("25", "25\\%"),
    ("27", "27.0"),
    ("27.0", "27"),
    (r"\$5", "5"),
    (r"\left( 1, 2 \right)", "(1,2)"),
    (r"\frac{\pi}{6}", r"\frac{1}{6}\pi"),
    (r"1-\frac{1}{e}", r"1-e^{-1}"),
    (r"\sin^2 x + \cos^2 x", "1"),
    (r"x \in (2, \infty)", r"(2,\infty)"),
    (r"x<1 \text{ or } x>2", r"(-\infty,1)\cup(2,\infty)"),
    (r"(2,\infty)\cup(-\infty,1)", r"(-\infty,1)\cup(2,\infty)"),
    ("Evelyn", r"\text{Evelyn}"),
    ("evelyn", r"\text{Evelyn}"),
    (r"\boxed{\frac{5}{6}}", "5/6"),
    (r"$\boxed{10}$", "10"),
    (r"x = 1, x = 2", "1, 2"),
    ("2, 1", "1, 2"),
    (r"\{-2, 1\}", "1, -2"),
    ("(x-1)(x+1)", "x^2-1"),
    (r"\frac{x+1}{2}", r"\frac{1}{2}x+\frac{1}{2}"),
    (r"\pi r^2", r"r^2\pi"),
    (r"\frac{1}{1+\sqrt{2}}", r"\sqrt{2}-1"),
    (r"4\sqrt[3]{2}", r"\sqrt[3]{128}"),
    (r"\log_2 8", "3"),
    ("(x,y) = (1,2)", "(1,2)"),
    (r"\langle 1, 2 \rangle", "(1,2)"),
    (r"[1,\infty)", r"[1,\infty)"),
    ("-5", "-5"),
    (r"\pi", "3.14"),  # the reference shows 2 decimals: an exact answer that rounds to it is correct
    ("+5", "5"),
    (r"\infty", r"\infty"),
]

ISSUE_REJECT = [
    ("(2,1)", "(1,2)"),
    ("[1,2]", "[1,2)"),
    ("(1,2]", "(1,2)"),
    ("0.333", r"\frac{1}{3}"),
    ("12.8", "12.7"),
    ("12.7", "12.8"),
    ("13", "12.7"),
    ("2^{1000}", "2^{1000}+1"),  # agree to 300 digits: only an exact difference tells them apart
    ("0.54", "0.5"),  # within half a unit of the last place, but 8% off: the 2% cap rejects it
    ("-0.46", "-0.5"),
    ("5", "6"),
    (r"\frac{5}{6}", r"\frac{6}{5}"),
    (r"\sqrt{2}", r"\sqrt{3}"),
    (r"2\sqrt{3}", r"3\sqrt{2}"),
    ("3.14", r"\pi"),
    ("x+1", "x-1"),
    (r"\{1,2\}", r"\{1,3\}"),
    (r"\{1,2\}", r"\{1,2,3\}"),
    ("1, 2", "1, 2, 3"),
    ("(1,2)", r"\{1,2\}"),
    ("x>2", r"[2,\infty)"),
    ("x<2", r"(2,\infty)"),
    (r"-\infty", r"\infty"),
    ("Tuesday", r"\text{Monday}"),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix}1&2\\4&3\end{pmatrix}"),
    ("25", "0.25"),
    ("-5", "5"),
    ("27.4", "27.0"),
    ("2x", "2y"),
    ("4", "x = 3"),
    ("f(x) = 2x", "f(x) = 3x"),
    (r"10\%", "1000"),
]


# False positives of the first verifier (issue 8): symbols are real, empty is nothing, agreement is no proof.
ISSUE8_FALSE_POSITIVES = [
    ("|t|", "t", NE),
    ("\\sqrt{t^2}", "t", NE),
    ("\\sqrt{x^2 y^2}", "xy", NE),
    ("\\ln|x|", "\\ln x", NE),
    ("(x-1)^2 + y^2 = 10", "10", NE),  # an equation is not its right-hand side
    ("x^2 = 4", "4", NE),
    ("", "", NE),
    ("\\,", "\\,", NE),
    ("\\sqrt{t^2}", "|t|", EQ),
    ("\\sqrt{1/n}", "\\frac{1}{\\sqrt{n}}", EQ),  # equal wherever both are real
    ("2 + 3 = 5", "5", EQ),  # a worked computation states its value
]


def _check(
    answer: str, reference: str, expected: ContentStatus, options: EquivalenceOptions = DEFAULT
) -> None:
    got = compare(answer, reference, options)
    assert got is expected, f"{answer!r} vs {reference!r}: {got} (expected {expected})"
    fast = fast_compare(answer, reference, options)
    assert fast in (None, got), f"fast path says {fast} but compare says {got}"


@pytest.mark.parametrize(("answer", "reference"), WRONGLY_ACCEPTED_ELSEWHERE)
def test_reference_wrongly_accepted(answer: str, reference: str) -> None:
    _check(answer, reference, NE)


@pytest.mark.parametrize(("answer", "reference"), MULTI_SUBSET)
def test_multi_answer_subset_rejected(answer: str, reference: str) -> None:
    _check(answer, reference, NE, EquivalenceOptions(multiple_answers=True))


@pytest.mark.parametrize(("answer", "reference"), WRONGLY_REJECTED_ELSEWHERE)
def test_reference_wrongly_rejected(answer: str, reference: str) -> None:
    _check(answer, reference, EQ)


# "Decimal approximations when the question asks for rounding": with a rounded reference (the question
# asks to round, or the task's references are rounded) an answer agreeing to its shown precision is
# right; a decimal reference is otherwise exact (ref 4.5 for "9/2 as a decimal" rejects 4.54).
ROUNDED_REFERENCE = [
    ("12.68", "12.7"),
    ("0.504", "0.5"),  # within the 2% cap of a one-digit decimal reference
    ("3.162", "3.16"),
]


@pytest.mark.parametrize(("answer", "reference"), ROUNDED_REFERENCE)
def test_rounded_reference_accepts_shown_precision(answer: str, reference: str) -> None:
    _check(answer, reference, EQ, EquivalenceOptions(rounded_reference=True))
    _check(answer, reference, NE)


@pytest.mark.parametrize(("answer", "reference"), ISSUE_ACCEPT)
def test_issue_accept(answer: str, reference: str) -> None:
    _check(answer, reference, EQ)


@pytest.mark.parametrize(("answer", "reference"), ISSUE_REJECT)
def test_issue_reject(answer: str, reference: str) -> None:
    _check(answer, reference, NE)


@pytest.mark.parametrize(("answer", "reference", "expected"), ISSUE8_FALSE_POSITIVES)
def test_issue8_false_positives(answer: str, reference: str, expected: ContentStatus) -> None:
    _check(answer, reference, expected)


@pytest.mark.parametrize("answer", ["2^{1/2^{300}}", "2^{2^{-300}}", "1 + 10^{-100}"])
def test_agreeing_to_60_digits_is_not_equal(answer: str) -> None:
    # 2^{1/2^{300}} and 1 agree to about 90 digits; without a proof there is no verdict, never EQUAL
    assert compare(answer, "1", EquivalenceOptions()) is not EQ


def test_too_large_to_tell_apart_is_never_equal() -> None:
    # 10^{10^{10}} has ten billion digits: no exact check is affordable, and agreeing to 60 digits is
    # no proof, so the verifier must not say EQUAL (it says it cannot decide)
    assert compare(r"10^{10^{10}}", r"10^{10^{10}}+1", EquivalenceOptions()) is ContentStatus.UNPARSEABLE


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("(3,4), (1,2)", "(1,2), (3,4)", EQ),
        ("2, 1", "1, 2", EQ),
        (r"\frac{1}{2}, 3", "3, 0.5", EQ),
        ("1, 2, 2", "1, 2", NE),
        ("\\boxed{2} and \\boxed{1}", "1, 2", EQ),  # one box per answer
        ("\\boxed{2}", "1, 2", NE),
    ],
)
def test_multiple_answers(answer: str, reference: str, expected: ContentStatus) -> None:
    _check(answer, reference, expected, EquivalenceOptions(multiple_answers=True))


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("b", "B", EQ),
        ("(B)", "B", EQ),
        (r"\text{B}", "B", EQ),
        (r"\textbf{(B)}", "B", EQ),
        ("B.", "B", EQ),
        ("(B) 15", "B", EQ),
        ("B: 15", "B", EQ),
        ("Bob", "B", NE),
        ("C", "B", NE),
        ("(c)", "B", NE),
    ],
)
def test_choice_letters(answer: str, reference: str, expected: ContentStatus) -> None:
    options = EquivalenceOptions(answer_type="choice", choices=("A", "B", "C", "D"))
    _check(answer, reference, expected, options)


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("0.333", r"\frac{1}{3}", EQ),
        ("0.3", r"\frac{1}{3}", NE),
        ("10001", "10000", NE),  # never a tolerance between two integers
        ("1.001e5", "1e5", EQ),
    ],
)
def test_rel_tol(answer: str, reference: str, expected: ContentStatus) -> None:
    _check(answer, reference, expected, EquivalenceOptions(rel_tol=1e-2))


@pytest.mark.parametrize(
    ("answer", "reference", "unit", "expected"),
    [
        ("5 m/s", "5", "m/s", EQ),
        (r"5\text{ m/s}", "5", "m/s", EQ),
        ("12 meters", "12", "m", EQ),
        ("13 meters", "12", "m", NE),
    ],
)
def test_units(answer: str, reference: str, unit: str, expected: ContentStatus) -> None:
    _check(answer, reference, expected, EquivalenceOptions(unit=unit))


@pytest.mark.parametrize(
    ("answer", "reference"),
    [("x = x", "y = y"), ("1 = 1", "2 = 2"), ("0 = 0", "x - x = 0"), ("a - a = 0", "b = b")],
)
def test_equations_reducing_to_zero_are_not_accepted(answer: str, reference: str) -> None:
    """Two different plain equations that both reduce to 0 = 0 carry no answer: never EQUAL."""
    assert compare(answer, reference, DEFAULT) is not EQ
    assert fast_compare(answer, reference, DEFAULT) is not EQ


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        # minerva_math: I(0) is a function value, not I * 0 (which would make both sides 0)
        (r"I(0) e^{+\frac{t}{R C}}", r"I(0) e^{-\frac{t}{R C}}"),
        ("x(t) + 1", "x(t) - 1"),
    ],
)
def test_function_values_are_not_products_with_zero(answer: str, reference: str) -> None:
    assert compare(answer, reference, DEFAULT) is not EQ
    assert fast_compare(answer, reference, DEFAULT) is not EQ
