"""Hypothesis properties of quantities: units, exact vs rounded decimal references, percent.

- a unit mismatch (the same number in units of another scale or kind) is never EQUAL;
- the same amount converted to another unit of its kind is EQUAL;
- a unit on one side only never changes the verdict of the numbers;
- a decimal reference is exact: a different answer, however close, is DIFFERENT unless the reference
  is marked rounded, and then exactly the answers that round to it are EQUAL;
- ``P%`` against a plain number above 1 is never the x100 reading.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier.equivalence import compare
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

EQ, NE = ContentStatus.EQUAL, ContentStatus.DIFFERENT
SETTINGS = settings(max_examples=120, deadline=None)

# (unit, how many base units it is) per kind; spellings as people write them
UNITS = {
    "length": [
        ("mm", Fraction(1, 1000)), ("cm", Fraction(1, 100)), ("m", Fraction(1)), ("km", Fraction(1000)),
        ("inches", Fraction(254, 10000)), ("feet", Fraction(3048, 10000)),
    ],
    "time": [
        ("seconds", Fraction(1)), ("minutes", Fraction(60)), ("hours", Fraction(3600)),
        ("days", Fraction(86400)),
    ],
    "mass": [("g", Fraction(1)), ("kg", Fraction(1000)), ("mg", Fraction(1, 1000))],
    "money": [("cents", Fraction(1, 100)), ("dollars", Fraction(1))],
    "area": [("cm^2", Fraction(1, 10000)), ("m^2", Fraction(1)), ("km^2", Fraction(10**6))],
}
kinds = st.sampled_from(sorted(UNITS))
amounts = st.builds(Fraction, st.integers(1, 10**6), st.sampled_from([1, 2, 4, 5, 10, 100]))


def _tex(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"\\frac{{{q.numerator}}}{{{q.denominator}}}"


def _with_unit(q: Fraction, unit: str) -> str:
    base, _, power = unit.partition("^")
    return f"{_tex(q)} \\text{{ {base}}}" + (f"^{power}" if power else "")


@SETTINGS
@given(kinds, st.data(), amounts)
def test_unit_mismatch_is_never_equal(kind: str, data: st.DataObject, q: Fraction) -> None:
    (u1, _), (u2, _) = data.draw(st.permutations(UNITS[kind]))[:2]
    assert compare(_with_unit(q, u1), _with_unit(q, u2)) is NE


@SETTINGS
@given(st.data(), amounts)
def test_different_kinds_are_never_equal(data: st.DataObject, q: Fraction) -> None:
    k1, k2 = data.draw(st.permutations(sorted(UNITS)))[:2]
    u1, _ = data.draw(st.sampled_from(UNITS[k1]))
    u2, _ = data.draw(st.sampled_from(UNITS[k2]))
    assert compare(_with_unit(q, u1), _with_unit(q, u2)) is NE


@SETTINGS
@given(kinds, st.data(), amounts)
def test_converted_amount_is_equal(kind: str, data: st.DataObject, q: Fraction) -> None:
    (u1, s1), (u2, s2) = data.draw(st.permutations(UNITS[kind]))[:2]
    assert compare(_with_unit(q, u1), _with_unit(q * s1 / s2, u2)) is EQ


@SETTINGS
@given(kinds, st.data(), amounts, amounts)
def test_unit_on_one_side_keeps_the_numbers_verdict(
    kind: str, data: st.DataObject, q: Fraction, r: Fraction
) -> None:
    unit, _ = data.draw(st.sampled_from(UNITS[kind]))
    plain = compare(_tex(q), _tex(r))
    assert compare(_with_unit(q, unit), _tex(r)) is plain
    assert compare(_tex(q), _with_unit(r, unit)) is plain


@SETTINGS
@given(st.integers(1, 10**6), st.integers(1, 4), st.integers(-9, 9))
def test_decimal_reference_is_exact_unless_rounded(digits: int, places: int, extra: int) -> None:
    assume(extra != 0 and digits % 10 != 0)  # the reference shows exactly `places` decimals
    reference = Fraction(digits, 10**places)
    answer = reference + Fraction(extra, 10 ** (places + 1))
    assume(answer > 0)
    ref_text, answer_text = f"{float(reference):.{places}f}", f"{float(answer):.{places + 1}f}"
    assert compare(answer_text, ref_text) is NE
    rounds_to_it = abs(extra) <= 5 and abs(answer - reference) <= reference / 50  # 2% cap on one-digit refs
    rounded = compare(answer_text, ref_text, EquivalenceOptions(rounded_reference=True))
    if abs(extra) > 5:
        assert rounded is NE
    elif rounds_to_it:
        assert rounded is EQ


@SETTINGS
@given(st.integers(101, 10**6), st.integers(0, 3))
def test_percent_is_not_a_hundredfold_number(n: int, places: int) -> None:
    value = Fraction(n, 10**places)
    assume(value > 1)
    number = f"{float(value):.{places}f}"
    hundredfold = _tex(value * 100)
    assert compare(f"{hundredfold}\\%", number) is NE
    assert compare(f"{number}\\%", number) is EQ
