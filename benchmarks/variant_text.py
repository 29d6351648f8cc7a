"""Text helpers and the independent numeric oracle of the reference-variant generator (`variant_rules`).

The oracle evaluates both sides with latex2sympy2_extended and sympy (another project's parser, never rlvr's),
at random points for free symbols, so the generator's labels do not depend on the grader under test.
"""

from __future__ import annotations

import logging
import random
import re
from fractions import Fraction

__all__ = [
    "DEC_RE", "DEGREE_RE", "FRAC_RE", "INT_RE", "SCI_RE", "SQRT_COEF_RE", "decimal", "frac_latex",
    "has_words", "is_thousands", "oracle_equal", "outer_pair", "parse_latex", "plain_number", "sig_round",
    "split_top_level",
]

logging.getLogger("latex2sympy2_extended").setLevel(logging.ERROR)

INT_RE = re.compile(r"-?\d+")
DEC_RE = re.compile(r"-?(\d*)\.(\d+)")
SCI_RE = re.compile(r"(-?\d+(?:\.\d+)?)e(-?\d+)")
FRAC_RE = re.compile(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")
SQRT_COEF_RE = re.compile(r"(\d+)\s*\\sqrt\{(\d+)\}")
DEGREE_RE = re.compile(r"(-?\d+(?:\.\d+)?)\s*\^\s*\{?\\circ\}?")


# --------------------------------------------------------------------------- the oracle


def parse_latex(latex: str):
    """The reference parser of another project, used only to check our labels; None when it cannot."""
    from latex2sympy2_extended import latex2sympy

    text = latex.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"\\text\{\s*[a-zA-Z ]*\}", "", text)
    text = re.sub(r"(?<=\d)[eE](-?\d+)", r"\\times 10^{\1}", text)
    if not text.strip() or "=" in text or "," in text or "\\cup" in text or "\\in" in text:
        return None
    try:
        return latex2sympy(text)
    except BaseException:
        return None


def _numeric(expr, point: dict) -> complex | None:
    import sympy

    try:
        value = complex(sympy.N(expr.subs(point), 30))
    except (TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    return value


def oracle_equal(a: str, b: str) -> bool | None:
    """True/False when both sides evaluate (at 3 random points for free symbols), None when unsure."""
    import sympy

    ea, eb = parse_latex(a), parse_latex(b)
    if ea is None or eb is None:
        return None
    try:
        symbols = sorted(ea.free_symbols | eb.free_symbols, key=str)
    except AttributeError:
        return None
    rng = random.Random(7)
    for _ in range(3):
        point = {s: sympy.Rational(rng.randint(11, 97), rng.randint(3, 13)) for s in symbols}
        va, vb = _numeric(ea, point), _numeric(eb, point)
        if va is None or vb is None:
            return None
        scale = max(abs(va), abs(vb), 1e-30)
        if abs(va - vb) > 1e-12 * scale:
            return False
    return True


# --------------------------------------------------------------------------- text helpers


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside (), [], {} and \\left...\\right pairs."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def outer_pair(ref: str) -> tuple[str, str, str] | None:
    """(open, inner, close) when the whole reference is one bracketed group, e.g. ``(1, 2)``."""
    if len(ref) < 2 or ref[0] not in "([" or ref[-1] not in ")]":
        return None
    depth = 0
    for i, ch in enumerate(ref):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and i < len(ref) - 1:
            return None
    return ref[0], ref[1:-1], ref[-1]


def is_thousands(ref: str) -> bool:
    bare = re.sub(r"\\!|\s|\\\$", "", ref.replace("{,}", ","))
    return bool(re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", bare))


def has_words(ref: str) -> bool:
    """Prose in the reference ("where b is an arbitrary integer"): spacing and list rules do not apply."""
    return bool(re.search(r"[A-Za-z]{4,}", re.sub(r"\\[A-Za-z]+", "", ref)))


def plain_number(ref: str) -> Fraction | None:
    if INT_RE.fullmatch(ref) or DEC_RE.fullmatch(ref):
        return Fraction(ref)
    return None


def decimal(value: Fraction) -> str | None:
    """The exact decimal of a terminating rational, else None."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return None
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
    scaled = str(abs(value.numerator) * 10**digits // value.denominator).rjust(digits + 1, "0")
    text = f"{scaled[:-digits]}.{scaled[-digits:]}" if digits else scaled
    return ("-" if value < 0 else "") + text


def frac_latex(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def sig_round(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


