"""Unit tests of the content layer: normalization, exact numbers, parsed kinds, and typical model outputs."""

from __future__ import annotations

from fractions import Fraction

import pytest

from rlvr_eval.verifier.answer import Matrix
from rlvr_eval.verifier.brackets import split_top
from rlvr_eval.verifier.equivalence import compare, fast_compare, symbolic_compare
from rlvr_eval.verifier.latex_fast import evaluate, parse_fast, sample_envs
from rlvr_eval.verifier.normalize import normalize_answer
from rlvr_eval.verifier.numbers import Refuse, Value, decimal_half_ulp
from rlvr_eval.verifier.parse import parse
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

EQ, NE = ContentStatus.EQUAL, ContentStatus.DIFFERENT
OPTS = EquivalenceOptions()


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("$\\dfrac{1}{2}$", "\\frac{1}{2}"),
        ("\\boxed{\\left( 1, 2 \\right)}", "(1,2)"),
        ("The answer is 5/6.", "5/6"),
        ("10{,}000", "10000"),
        ("10,\\!000", "10000"),
        ("x = 10,000", "x=10000"),
        ("12^{\\mathrm{th}}", "12"),
        ("\\text{(C)}", "(C)"),
        ("\\$18.90", "18.90"),
        ("1, 000", "1,000"),  # a list, not a number
        ("\\frac12", "\\frac{1}{2}"),
        ("\\sqrt2", "\\sqrt{2}"),
        ("\\pi r^2", "\\pi r^2"),
    ],
)
def test_normalize_answer(raw: str, normal: str) -> None:
    assert normalize_answer(raw) == normal


def test_normalize_is_idempotent() -> None:
    raws = ("$\\boxed{\\dfrac{3}{4}\\text{ m}}$", "x \\in [1, 2)", "\\left\\{ 1, 2 \\right\\}", "-4e - 5")
    for raw in raws:
        once = normalize_answer(raw)
        assert normalize_answer(once) == once


@pytest.mark.parametrize(
    ("raw", "value", "unit", "degrees"),
    [
        ("30^\\circ", "30", None, True),
        ("5\\text{ cm}", "5", "cm", False),
        ("12 \\mathrm{~m/s}", "12", "m/s", False),
        ("25\\pi \\text{ m}^2", "25\\pi", "m^2", False),
        ("6 meters/second", "6", "meters/second", False),
        ("a+b", "a+b", None, False),  # a single letter is never a unit
    ],
)
def test_units_and_degrees_are_fields(raw: str, value: str, unit: str | None, degrees: bool) -> None:
    answer = parse(raw)
    assert (answer.text, answer.unit, answer.degrees) == (value, unit, degrees)


def test_given_unit_is_stripped() -> None:
    assert parse("12 \\mathrm{~m/s}", EquivalenceOptions(unit="m/s")).text == "12"


def test_values_are_exact_and_canonical() -> None:
    two_sqrt3 = Value.of(2) * Value.of(3).sqrt()
    assert two_sqrt3 == Value.of(12).sqrt()
    assert Value.of(2).sqrt() != Value.of(3).sqrt()
    assert (Value.of(1) / (Value.of(1) + Value.of(2).sqrt())) == Value.of(2).sqrt() - Value.of(1)
    assert Value.of(8).root(3) == Value.of(2)
    with pytest.raises(Refuse):
        Value.of(2).root(3)
    with pytest.raises(Refuse):
        Value.of(3).power(Value.of(10**6))  # bounded: refused, not computed


def test_decimal_half_ulp() -> None:
    assert decimal_half_ulp("12.7") == Fraction(1, 20)
    assert decimal_half_ulp("0.5") == Fraction(1, 100)  # capped at 2% of the value, not 0.05
    assert decimal_half_ulp("1.5\\times10^{3}") == Fraction(30)  # half a unit is 50, 2% of 1500 is 30
    assert decimal_half_ulp("27.0") is None  # AMC floats are exact integers
    assert decimal_half_ulp("12") is None


def test_fast_parser_refuses_what_it_does_not_model() -> None:
    for text in ("\\sin x", "e^{2}", "3i", "f(x)", "\\log 2", "2^{3^{4^{5}}}"):
        parsed = parse_fast(text)
        if parsed is not None:
            with pytest.raises(Refuse):
                evaluate(parsed[0], sample_envs(parsed[1])[0])
    parsed = parse_fast("2x^2+\\frac{y}{3}")
    assert parsed is not None and parsed[1] == {"x", "y"}


def test_parsed_kinds() -> None:
    assert parse("[1,2)").kind == "interval"
    assert parse("(1,2)").kind == "tuple"  # a pair, or an interval when the other side is one
    assert parse("\\{1,2\\}").kind == "set"
    assert parse("1,2").kind == "list"
    assert parse("(1,2)\\cup(3,4)").kind == "union"
    matrix = parse("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}").value
    assert isinstance(matrix, Matrix)
    assert [[c.text for c in row] for row in matrix.rows] == [["1", "2"], ["3", "4"]]
    assert parse("a<x\\leq b").value.ops == ("<", "<=")  # type: ignore[union-attr]
    assert split_top("(1,2),\\{3,4\\},f(5,6)", ",") == ["(1,2)", "\\{3,4\\}", "f(5,6)"]


# Typical model outputs against MATH-style references.
MODEL_OUTPUTS_ACCEPT = [
    ("\\frac{1}{2}\\sqrt{3}", "\\frac{\\sqrt{3}}{2}"),
    ("\\sqrt{3}/2", "\\frac{\\sqrt{3}}{2}"),
    ("0.5\\sqrt{3}", "\\frac{\\sqrt{3}}{2}"),
    ("\\sqrt{18}", "3\\sqrt{2}"),
    ("A", "\\text{(A)}"),
    ("(x+1)^2", "x^2+2x+1"),
    ("18.9", "\\$18.90"),
    ("90", "90^\\circ"),
    ("0.25", "\\frac{1}{4}"),
    ("0.05", "5\\%"),
    ("\\pm 2", "2, -2"),
    ("\\frac97", "\\dfrac{9}{7}"),
    ("y=-0.5x+3", "y = -\\frac{1}{2}x + 3"),
    ("(1,2)", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1,2)"),
    ("Devon", "\\text{Devon}"),
    ("11\\sqrt{2}", "11\\sqrt2"),
    ("\\frac{-1}{2}", "-\\frac{1}{2}"),
    ("6-5i", "6 - 5i"),
    ("5-6i+1", "6 - 5i - i"),
    ("(1+i)^2", "2i"),
    ("\\frac{1}{i}", "-i"),
    ("(3,\\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("-2 \\le x \\le 7", "[-2,7]"),
    ("x \\in [-2,7]", "[-2,7]"),
    ("1+\\sqrt2", "\\sqrt{2}+1"),
    ("(x,y)=(1,-2)", "(1,-2)"),
    ("Even", "\\text{even}"),
    ("\\frac{5}{2}", "2.5"),
    ("50\\%", "0.5"),
    ("+\\infty", "\\infty"),
    ("\\{\\}", "\\emptyset"),
    ("2\\frac{2}{3}", "\\frac{8}{3}"),
    ("1\\frac{1}{2}", "1.5"),
    ("1.3 \\times 10^{-7}", "1.3e-7"),
    ("e^{2}", "e^2"),
    ("\\ln 8", "3\\ln 2"),
    ("\\sin^2 x", "1-\\cos^2 x"),
    ("\\frac{\\sqrt{2}}{2}", "\\cos\\frac{\\pi}{4}"),
    ("\\binom{5}{2}", "10"),
    ("2^{10}", "1024"),
    ("5!", "120"),
    ("\\sqrt[3]{27}", "3"),
    ("4\\sqrt{3}-\\sqrt{3}", "3\\sqrt{3}"),
    ("x^{-1}", "\\frac{1}{x}"),
    ("\\frac{a}{b}", "a/b"),
    ("2ab", "2ba"),
    ("n(n+1)/2", "\\frac{n^2+n}{2}"),
    ("2x=2y", "x=y"),
    ("\\tan 45^\\circ", "1"),  # degrees inside trigonometry are a value, not a unit
    ("\\sin 30^\\circ", "\\frac12"),
    ("0.\\overline{3}", "\\frac13"),
    ("0.1\\overline{6}", "\\frac16"),
    ("x = \\pm 2", "2, -2"),
    ("\\sqrt{3+2\\sqrt{2}}", "1+\\sqrt{2}"),
    ("e^{i\\pi}", "-1"),
    ("\\cos^2 x - \\sin^2 x", "\\cos 2x"),
    ("\\frac{x^2-1}{x-1}", "x+1"),
    ("(x-2)^2+(y+3)^2=16", "x^2-4x+y^2+6y-3=0"),
    ("\\log_{2} 32", "5"),
    ("\\lfloor (n+1)/2 \\rfloor", "\\lceil n/2 \\rceil"),  # floor/ceil: integer variables
    ("\\lfloor\\sqrt{n}\\rfloor+\\lfloor (n+1)/2\\rfloor", "\\lfloor\\sqrt{n}\\rfloor+\\lceil n/2\\rceil"),
    ("(-1)^n", "\\cos(n\\pi)"),  # integer n, as (-1)^n implies
    ("\\binom{n}{2}", "\\frac{n(n-1)}{2}"),
    ("\\frac{(n+1)!}{n!}", "n+1"),
    ("a-b-c-d", "a-c-b-d"),  # letters and minus signs are an expression, not a word
    ("north east", "\\text{North East}"),
    ("\\log_4 8", "\\frac32"),
    ("\\log 1000", "3"),
    ("\\log_2 3", "1.58"),  # decimal reference: agreement to its shown precision
    ("\\sqrt[3]{2048}", "12.7"),  # the pi_1 training example's true value
    ("\\frac{\\sin(2t)}{4} + \\frac{\\cos(2t)}{4}", "\\frac{\\cos (2 t)+\\sin (2 t)}{4}"),
    ("2\\sqrt[3]{2}", "\\sqrt[3]{2}+\\sqrt[3]{2}"),
    ("\\sqrt[3]{16}", "2\\sqrt[3]{2}"),
    ("e^{2}\\cdot e", "e^3"),
    ("\\sin(t+t)", "\\sin(2t)"),
    ("-2e-\\frac{5}{2}", "\\frac{-4 e - 5}{2}"),  # spaced: Euler's e, not 4e-5
    ("4 \\times 10^{-5}", "4e-5"),
    ("(n-2)2^n+1", "2^n(n-2)+1"),
    ("x+y>2", "y>2-x"),
    ("-x<-2", "x>2"),
    ("2x+2y>4", "x+y>2"),
    ("\\sin x > 0", "0 < \\sin x"),
    (
        "\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]",
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
    ),
]

MODEL_OUTPUTS_REJECT = [
    ("\\frac{1}{2}", "\\frac{1}{3}"),
    ("2", "2, 3"),
    ("x = 2", "x = 3"),
    ("[0,\\infty)", "(0,\\infty)"),
    ("\\sqrt{3}", "\\frac{\\sqrt{3}}{2}"),
    ("(x+1)^2", "x^2+x+1"),
    ("6+5i", "6 - 5i"),
    ("(1+i)^2", "-2i"),
    ("\\ln 8", "2\\ln 2"),
    ("e^{2}", "e^3"),
    ("\\binom{5}{2}", "20"),
    ("A", "\\text{(B)}"),
    ("\\lfloor\\sqrt[3]{n-1}\\rfloor", "\\lfloor\\sqrt{n-1}\\rfloor"),
    ("2^{100}", "2^{101}"),
    ("n(n-1)/2", "\\frac{n^2+n}{2}"),
    ("\\tan 30^\\circ", "1"),
    ("\\lceil n/2 \\rceil - 1", "\\lfloor n/2 \\rfloor"),  # differ at even n only
    ("\\lfloor\\sqrt{n}\\rfloor+\\lceil n/3\\rceil-1", "\\lfloor\\sqrt{n}\\rfloor+\\lfloor n/3\\rfloor"),
    ("\\binom{n}{2}", "\\frac{n(n+1)}{2}"),
    ("(-1)^n n", "n"),
    ("\\sqrt[3]{2048}", "12.8"),  # ... and its off-by-0.1 label
    ("\\log_2 3", "1.59"),
    ("x+y>2", "y<2-x"),
    ("x+y\\geq 2", "x+y>2"),
    ("xy>1", "x>1"),
    ("0.\\overline{3}", "\\frac{3}{10}"),
    ("\\cos^2 x + \\sin^2 x", "\\cos 2x"),
]


@pytest.mark.parametrize(("answer", "reference"), MODEL_OUTPUTS_ACCEPT)
def test_model_outputs_accepted(answer: str, reference: str) -> None:
    assert compare(answer, reference, OPTS) is EQ
    assert fast_compare(answer, reference, OPTS) in (None, EQ)


@pytest.mark.parametrize(("answer", "reference"), MODEL_OUTPUTS_REJECT)
def test_model_outputs_rejected(answer: str, reference: str) -> None:
    assert compare(answer, reference, OPTS) is NE
    assert fast_compare(answer, reference, OPTS) in (None, NE)


def test_fast_path_decides_common_pairs_without_sympy() -> None:
    pairs = [("5/6", "\\frac{5}{6}"), ("(1,2)", "(2,1)"), ("12.70", "12.7"), ("2x+1", "1+2x"),
             ("\\log_2 32", "5"), ("1-\\frac{1}{e}", "1+\\frac{1}{e}"), ("\\sqrt[3]{2048}", "12.8"),
             ("\\frac{\\sin(2t)}{4} + \\frac{\\cos(2t)}{4}", "\\frac{\\cos (2 t)+\\sin (2 t)}{4}")]
    for answer, reference in pairs:
        assert fast_compare(answer, reference, OPTS) is not None


def test_unparseable_answer() -> None:
    assert symbolic_compare("\\frac{", "3", OPTS) is ContentStatus.UNPARSEABLE
    assert compare("", "3", OPTS) is NE
