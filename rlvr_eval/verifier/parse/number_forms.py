"""Ways people write an amount that are not TeX: a dollar sign, ``x 10^7``, two units, ordinal words.

Each ``read_*`` rewrites a whole answer text into the spelling the rest of `parse` already reads
(``\\$3.8`` -> ``3.8 \\text{ dollars}``, ``3 hours 45 minutes`` -> ``\\frac{15}{4} \\text{ hours}``), or
returns it unchanged; `ordinal_word` gives the number of a word like ``fifth``.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr_eval.verifier.normalize import unwrap_text_commands
from rlvr_eval.verifier.prose_numbers import TENS
from rlvr_eval.verifier.units import conversion, fraction_latex

__all__ = ["ordinal_word", "read_compound", "read_currency", "read_times_ten"]

_CURRENCY_RE = re.compile(r"^\s*(-?)\s*\\\$\s*(-?[\d.,{}]{1,40})\s*$")


def read_currency(text: str) -> str:
    """``\\$3.8`` -> ``3.8 \\text{ dollars}``: the dollar sign is a unit (``\\$3.8`` is not 3.8 cents).

    Read before `normalize.clean`, which drops the sign; only an amount alone is rewritten.
    """
    m = _CURRENCY_RE.match(text) if "\\$" in text else None
    return f"{m.group(1)}{m.group(2)} \\text{{ dollars}}" if m else text


_TIMES_TEN_RE = re.compile(
    r"^(-?\d{1,30}(?:\.\d{1,30})?)\s*[xX]\s*(10\s*\^\s*(?:\{\s*[-+]?\d{1,4}\s*\}|[-+]?\d{1,4}))$"
)


def read_times_ten(text: str) -> str:
    """``4.5 x 10^7`` (a plain-text times sign) -> ``4.5 \\times 10^7``; only between a number and 10^k."""
    m = _TIMES_TEN_RE.match(text) if "10" in text else None
    return f"{m.group(1)}\\times {m.group(2)}" if m else text


_COMPOUND_RE = re.compile(
    r"^(\d{1,12}(?:\.\d{1,12})?)\s*([A-Za-z]{1,12})\s*(?:,\s*|and\s+)?(\d{1,12}(?:\.\d{1,12})?)\s*([A-Za-z]{1,12})$"
)
_DEGREES_MINUTES_RE = re.compile(
    r"^(\d{1,4})\s*(?:\^\s*\{?\s*\\circ\s*\}?|°)\s*(\d{1,2}(?:\.\d{1,6})?)\s*(?:'|\\prime|\^\s*\{?\s*\\prime\s*\}?)$"
)


def read_compound(text: str) -> str:
    """One amount in two units -> the amount in the first (larger) unit, so units compare as usual.

    ``14 \\text{ dollars and } 50 \\text{ cents}`` -> ``\\frac{29}{2} \\text{ dollars}``,
    ``3 hours 45 minutes`` -> 3.75 hours, ``22^\\circ 30'`` -> 22.5 degrees. The second unit must be a
    smaller unit of the same kind (pint decides), so ``3 apples 4 pears`` stays as it was.
    """
    m = _DEGREES_MINUTES_RE.match(text)
    if m:
        return f"{fraction_latex(Fraction(m.group(1)) + Fraction(m.group(2)) / 60)}^\\circ"
    if not any(c.isdigit() for c in text[1:]):
        return text
    m = _COMPOUND_RE.match(" ".join(unwrap_text_commands(text).split()))
    if m is None:
        return text
    big, big_unit, small, small_unit = m.groups()
    factor = conversion(small_unit, big_unit)
    if not factor or factor >= 1:
        return text
    return f"{fraction_latex(Fraction(big) + Fraction(small) * factor)} \\text{{ {big_unit}}}"


_ORDINAL_UNITS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth",
)
_ORDINAL_TENS = {"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
                 "seventieth": 70, "eightieth": 80, "ninetieth": 90, "hundredth": 100}
_ORDINAL_WORD_RE = re.compile(rf"^(?:the\s+)?(?:({'|'.join(TENS)})[-\s])?([a-z]+)$")


def ordinal_word(text: str) -> int | None:
    """``fifth`` -> 5, ``twenty-first`` -> 21 (an ordinal word as a whole answer); else None.

    "second" is also a unit of time, but alone as an answer it is the ordinal.
    """
    m = _ORDINAL_WORD_RE.match(text.strip().lower())
    if m is None:
        return None
    tens, word = m.groups()
    if word in _ORDINAL_TENS:
        return None if tens else _ORDINAL_TENS[word]
    if word not in _ORDINAL_UNITS:
        return None
    index = _ORDINAL_UNITS.index(word) + 1
    if tens:
        return TENS[tens] + index if index < 10 else None
    return index
