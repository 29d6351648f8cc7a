"""Units as physical quantities: is ``42 m^2`` the same amount as ``42 cm^2``? (pint, loaded on first use)

A unit is the text `parse.fields.peel_unit` read after a value (``m^2``, ``inches^2``, ``kg m s^{-2}``,
``J/(mol K)``, ``\\mu m``, ``cents``). `conversion` turns two of them into the factor between them, so a
comparison can say ``42 m^2`` != ``42 cm^2`` but ``240 minutes`` = ``4 hours``.

Only unit names pint knows count; anything else (``apples``, ``students``, a word pint would read as a
prefixed oddity such as ``units`` = micro-nits) makes the units say nothing, which is the verifier's rule
for a unit it cannot read: the numbers alone decide. Angles are left out here (the degree field and
`compare.scalars` handle degrees vs radians), and so are offset units (degrees Celsius): their
conversion is not a factor. Text reaches pint only after it has been rebuilt from checked tokens, never
raw; pint itself is imported only when two differently spelled units meet, so unitless answers pay nothing.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

__all__ = ["Conversion", "conversion", "fraction_latex", "same_unit_text", "unit_expression"]

Conversion = Fraction | Literal[False] | None
"""``Fraction``: 1 unit = this many of the other; False: different kinds (area vs length); None: unknown."""

MAX_UNIT_CHARS = 60
MAX_POWER = 4
MAX_FACTOR_DENOMINATOR = 10**12
_TOKEN_RE = re.compile(r"\s*(?:([A-Za-zµμ]+)|(\^)\s*(?:\{\s*(-?\d)\s*\}|(-?\d))|([*/()])|(\\cdot))")
# Single letters pint knows that are not units in a math answer (a = year, b = barn, c = speed of light)
_LETTER_UNITS = frozenset("mgsKNJWVACTLlh")
# Words pint knows as units that answers use for counts ("15 points" is a score, not 15 printer's points)
_COUNT_WORDS = frozenset({"point", "points", "unit", "units", "count", "counts"})
_ANGLES = frozenset({"degree", "radian", "arcminute", "arcsecond", "turn", "revolution", "gradian"})
_POWER_WORDS = {"square": 2, "sq": 2, "cubic": 3}
_PER_RE = re.compile(r"\s+per\s+")
_MICRO_RE = re.compile(r"\\mu\s*")
_SPACING_RE = re.compile(r"\\[,;:! ]|~|\\(?:text|mathrm|textrm|mbox|rm)\s*\{([^{}]*)\}")


def same_unit_text(a: str, b: str) -> bool:
    """The same unit, spelled alike once TeX spacing and wrappers are gone (the fast path: no pint)."""
    return _plain(a) == _plain(b)


def _plain(unit: str) -> str:
    return " ".join(_unwrapped(unit).replace("{", " ").replace("}", " ").split()).casefold()


def _unwrapped(unit: str) -> str:
    """The unit without TeX spacing and text wrappers (``\\mathrm{J/(mol\\,K)}`` -> ``J/(mol K)``)."""
    for _ in range(3):  # a wrapper may hold spacing: bounded passes
        unit, count = _SPACING_RE.subn(lambda m: m.group(1) if m.group(1) is not None else " ", unit)
        if not count:
            break
    return unit


@lru_cache(maxsize=1024)
def unit_expression(unit: str) -> str | None:
    """The unit rebuilt as a pint expression (``kg m s^{-2}`` -> ``kg*m*s**-2``), or None if it has
    anything but unit words, powers, products and quotients."""
    text = _MICRO_RE.sub("µ", _unwrapped(unit)).strip().strip(".")
    text = _PER_RE.sub("/", text)
    if not text or len(text) > MAX_UNIT_CHARS:
        return None
    out: list[str] = []
    pending_power = 1
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            return None
        pos = m.end()
        word, caret, braced, bare, op, cdot = m.groups()
        if word is not None:
            if word.lower() in _POWER_WORDS:
                pending_power = _POWER_WORDS[word.lower()]
                continue
            if out and out[-1] not in ("*", "/", "("):
                out.append("*")  # "kg m" is kg times m
            out.append(word if pending_power == 1 else f"{word}**{pending_power}")
            pending_power = 1
        elif caret is not None:
            power = int(braced if braced is not None else bare)
            if not out or (not out[-1][-1:].isalpha() and out[-1] != ")") or abs(power) > MAX_POWER:
                return None
            out[-1] = f"{out[-1]}**{power}"
        elif cdot is not None:
            out.append("*")
        else:
            out.append(op)
    expression = "".join(out)
    return expression if expression and expression.count("(") == expression.count(")") else None


@lru_cache(maxsize=1024)
def conversion(from_unit: str, to_unit: str) -> Conversion:
    """How many `to_unit` make one `from_unit` (``ft^2`` -> ``inches^2``: 144); see `Conversion`."""
    if same_unit_text(from_unit, to_unit):
        return Fraction(1)
    source, target = _units(from_unit), _units(to_unit)
    if source is None or target is None:
        return None
    if source.dimensionality != target.dimensionality:
        return False
    try:
        factor = (1 * source).to(target).magnitude
    except Exception:  # pint's own errors (offset units, odd definitions): the units say nothing
        return None
    return _rational(float(factor))


def _rational(factor: float) -> Fraction:
    """pint's float factor as the rational it stands for: 1/60 for minutes to hours, 127/50 for inches
    to cm; factors that are not simple ratios (eV to J) keep their shortest decimal."""
    simple = Fraction(factor).limit_denominator(MAX_FACTOR_DENOMINATOR)
    if simple and abs(simple - Fraction(factor)) <= Fraction(1, 10**12) * abs(Fraction(factor)):
        return simple
    return Fraction(repr(factor))


def _units(unit: str) -> Any | None:
    """pint's Unit for a unit text, or None when it is not a (non-angle, multiplicative) unit pint knows."""
    expression = unit_expression(unit)
    if expression is None:
        return None
    registry = _registry()
    for name in re.findall(r"[A-Za-zµ]+", expression):
        if not _known(registry, name):
            return None
    try:
        parsed = registry.parse_units(expression)
    except Exception:  # pint raises several types on odd input: an unknown unit
        return None
    if not getattr(parsed, "is_multiplicative", True) or parsed.dimensionless:
        return None
    return parsed


def _known(registry: Any, name: str) -> bool:
    """A name pint reads as one unit, with a prefix only in the usual forms (``km``, ``kilometers``).

    ``units`` would be micro-nits and ``a`` a year: such readings are not what anyone wrote.
    """
    if (len(name) == 1 and name not in _LETTER_UNITS) or name.lower() in _COUNT_WORDS:
        return False
    candidates = registry.parse_unit_name(name)
    for prefix, unit_name, _suffix in candidates:
        if unit_name in _ANGLES:
            return False
        if not prefix:
            return True
        definition = registry._units[unit_name]  # pint has no public accessor for symbols
        prefix_def = registry._prefixes[prefix]
        prefixes = {prefix_def.symbol, *prefix_def.aliases} - {""}
        units = {definition.symbol, *definition.aliases} - {""}
        if any(name == p + u for p in prefixes for u in units) or name.lower().startswith(prefix):
            return True
    return False


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint  # a second or so to load: only when two differently spelled units meet

    registry: Any = pint.UnitRegistry()
    registry.define("dollar = [currency] = usd = dollars")
    registry.define("cent = 0.01 dollar = cents")
    return registry


def fraction_latex(value: Fraction) -> str:
    """A converted amount written back as TeX the parser reads exactly (``7``, ``\\frac{29}{2}``)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
