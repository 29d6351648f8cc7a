"""Other spellings of a benchmark's reference answer, right and wrong, written by rule (issue 8 red team).

`variants(ref, item)` returns `Variant`s: an answer text, the rule that made it and its true verdict.
Rules only fire on references whose shape they understand, and every variant that changes a value is
checked by an independent numeric oracle (latex2sympy2_extended + sympy at random points, never rlvr's own
parser), so a label is right by construction or the variant is dropped:

- a right spelling must evaluate to the reference's value (or be a pure re-spelling: spaces, ``\\left``,
  ``\\dfrac``, a label, a unit word, a reordered unordered list);
- a wrong answer must evaluate to a different value (or differ by construction: a missing part, a swapped
  ordered pair, an open instead of a closed endpoint).

Used by `benchmarks/reference_variants.py`; nothing here imports rlvr's verifier.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from variant_text import (
    DEC_RE,
    DEGREE_RE,
    FRAC_RE,
    INT_RE,
    SCI_RE,
    SQRT_COEF_RE,
    decimal,
    frac_latex,
    has_words,
    is_thousands,
    oracle_equal,
    outer_pair,
    parse_latex,
    plain_number,
    sig_round,
    split_top_level,
)

__all__ = ["Variant", "variants"]


@dataclass(frozen=True)
class Variant:
    answer: str
    rule: str  # e.g. "right:dfrac", "wrong:sign-flip"
    expected: bool


# --------------------------------------------------------------------------- right spellings


def _right_numbers(ref: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    value = plain_number(ref)
    if value is None:
        return
    if INT_RE.fullmatch(ref):
        n = int(ref)
        yield "int-dot-zero", f"{n}.0"
        yield "text-wrap", f"\\text{{{n}}}"
        yield "mathbf-wrap", f"\\mathbf{{{n}}}"
        if abs(n) >= 1000:
            grouped = f"{n:,}"
            yield "thousands-brace", grouped.replace(",", "{,}")
            yield "thousands-comma", grouped
            yield "thousands-thin", grouped.replace(",", "\\,")
            yield "thousands-bang", grouped.replace(",", ",\\!")
        if abs(n) >= 100 and n % 10 == 0:
            exp = len(str(abs(n))) - 1
            mant = decimal(Fraction(n, 10**exp))
            yield "sci-times", f"{mant} \\times 10^{{{exp}}}"
            yield "sci-e", f"{mant}e{exp}"
    else:
        m = DEC_RE.fullmatch(ref)
        assert m
        intpart = m.group(1)
        if intpart == "":
            yield "leading-zero", ref.replace(".", "0.", 1)
        elif intpart == "0":
            yield "no-leading-zero", ref.replace("0.", ".", 1)
        yield "trailing-zero", ref + "0"
        yield "fraction-of-decimal", frac_latex(value)
        yield "text-wrap", f"\\text{{{ref}}}"
    yield "label", f"x = {ref}"
    yield "spaced-label", f"x=\\;{ref}"


def _right_sci(ref: str) -> Iterator[tuple[str, str]]:
    m = SCI_RE.fullmatch(ref)
    if not m:
        return
    mant, exp = m.groups()
    yield "sci-times", f"{mant} \\times 10^{{{exp}}}"
    yield "sci-times-nobrace", f"{mant}\\times10^{exp}" if len(exp) == 1 else f"{mant}\\times10^{{{exp}}}"
    yield "sci-cdot", f"{mant} \\cdot 10^{{{exp}}}"
    yield "sci-E", f"{mant}E{exp}"
    yield "sci-trailing-zero", f"{mant}{'' if '.' in mant else '.'}0 \\times 10^{{{exp}}}"
    value = Fraction(mant) * Fraction(10) ** int(exp)
    if -6 <= int(exp) <= 9:
        plain = decimal(value)
        if plain:
            yield "sci-expanded", plain
    if "." in mant:  # shift the point: 4.4e7 = 44 x 10^6
        shifted = Fraction(mant) * 10
        text = decimal(shifted)
        if text:
            yield "sci-shifted", f"{text} \\times 10^{{{int(exp) - 1}}}"


def _fraction(ref: str) -> tuple[str, str, str, Fraction] | None:
    """Sign, numerator and denominator texts and the value of a reference ``-\\frac{p}{q}``."""
    m = FRAC_RE.fullmatch(ref)
    if not m:
        return None
    sign, num, den = m.groups()
    return sign, num, den, Fraction(int(num), int(den)) * (-1 if sign else 1)


def _right_fraction(ref: str) -> Iterator[tuple[str, str]]:
    parts = _fraction(ref)
    if parts is None:
        return
    sign, num, den, value = parts
    yield "dfrac", f"{sign}\\dfrac{{{num}}}{{{den}}}"
    yield "tfrac", f"{sign}\\tfrac{{{num}}}{{{den}}}"
    yield "slash", f"{sign}{num}/{den}"
    yield "slash-spaced", f"{sign}{num} / {den}"
    if len(num) == 1 and len(den) == 1:
        yield "frac-shorthand", f"{sign}\\frac{num}{den}"
    elif len(den) == 1:
        yield "frac-half-shorthand", f"{sign}\\frac{{{num}}}{den}"
    if sign:
        yield "neg-numerator", f"\\frac{{-{num}}}{{{den}}}"
    exact = decimal(value)
    if exact:
        yield "decimal-of-fraction", exact
    if abs(value) > 1 and value.denominator != 1:
        whole = abs(value.numerator) // value.denominator
        rest = abs(value) - whole
        yield "mixed-number", f"{sign}{whole}\\frac{{{rest.numerator}}}{{{rest.denominator}}}"
    yield "left-right-parens", f"\\left({ref}\\right)"


def _right_structural(ref: str, item_multiple: bool) -> Iterator[tuple[str, str]]:
    if "\\frac" in ref and not FRAC_RE.fullmatch(ref):
        yield "dfrac", ref.replace("\\frac", "\\dfrac")
    if "\\dfrac" in ref and not FRAC_RE.fullmatch(ref):
        yield "frac", ref.replace("\\dfrac", "\\frac")
    if re.search(r"\\sqrt\{\d\}", ref):
        yield "sqrt-shorthand", re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", ref)
    if re.search(r"[+\-=]", ref.lstrip("-")) and not ref.startswith("\\text"):
        spaced = re.sub(r"\s*([+=])\s*", r" \1 ", ref)
        spaced = re.sub(r"(?<=[\w}\)])\s*-\s*", " - ", spaced)
        if spaced != ref:
            yield "spaces-around-ops", spaced
        tight = re.sub(r"\s+", "", ref) if "\\text" not in ref and not has_words(ref) else ref
        if tight != ref and not re.search(r"\\[a-zA-Z]+\s+[a-zA-Z0-9]", ref):
            yield "no-spaces", tight
    pair = outer_pair(ref)
    if pair:
        open_, inner, close = pair
        yield "left-right", f"\\left{open_}{inner}\\right{close}"
        yield "inner-spaces", f"{open_}{', '.join(split_top_level(inner))}{close}"
        if "\\infty" in ref:
            yield "infty-plus", ref.replace("\\infty", "+\\infty").replace("-+\\infty", "-\\infty")
            yield "infty-unicode", ref.replace("\\infty", "∞")
        if open_ == "(" and close == ")" and not re.search(r"\\infty", ref):
            parts = split_top_level(inner)
            if len(parts) in (2, 3) and not item_multiple:
                names = "xy" if len(parts) == 2 else "xyz"
                yield "tuple-label", f"({', '.join(names)}) = {ref}"
    if "^{\\circ}" in ref or "^\\circ" in ref:
        core = ref.replace("^{\\circ}", "^\\circ")
        yield "degree-unicode", re.sub(r"\s*\^\\circ", "°", core)
        yield "degree-braced", core.replace("^\\circ", "^{\\circ}")
        yield "degree-word", re.sub(r"\s*\^\\circ", lambda _: " \\text{ degrees}", core)
        m = DEGREE_RE.fullmatch(ref)
        if m:
            deg = Fraction(m.group(1))
            rad = deg / 180
            if rad.denominator == 1:
                yield "degree-as-radian", f"{rad.numerator}\\pi" if rad.numerator != 1 else "\\pi"
            else:
                num = "" if rad.numerator == 1 else str(rad.numerator)
                yield "degree-as-radian", f"\\frac{{{num}\\pi}}{{{rad.denominator}}}"
    m = SQRT_COEF_RE.fullmatch(ref)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        yield "sqrt-absorbed", f"\\sqrt{{{a * a * b}}}"
    m = re.fullmatch(r"(\d+)\s*\\pi", ref)
    if m:
        yield "pi-cdot", f"{m.group(1)} \\cdot \\pi"
    m = re.fullmatch(r"(-?\d+)\s*([+-])\s*(\d*)\s*i", ref)
    if m:
        re_, op, im = m.groups()
        yield "complex-swapped", f"{'-' if op == '-' else ''}{im}i + {re_}".replace("+ -", "- ")


def _right_lists(ref: str, multiple: bool) -> Iterator[tuple[str, str]]:
    """Reordered unordered lists: OlympiadBench multi-answers and MATH's bare comma lists."""
    if is_thousands(ref) or outer_pair(ref) or has_words(ref):
        return
    parts = split_top_level(ref)
    if len(parts) < 2 or any(not p for p in parts):
        return
    if len(set(parts)) == len(parts):
        yield "reordered-list", ", ".join(reversed(parts))
    yield "list-and", ", ".join(parts[:-1]) + ", \\text{ and } " + parts[-1]


def _right_sympy(ref: str) -> Iterator[tuple[str, str]]:
    import sympy

    expr = parse_latex(ref)
    if expr is None:
        return
    try:
        rendered = sympy.latex(expr.doit())
    except Exception:
        return
    letters = {str(s) for s in expr.free_symbols}
    if not letters <= set(re.findall(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", ref))):
        return  # the parser renamed a symbol (K -> k): not the same answer
    if rendered.replace(" ", "") != ref.replace(" ", "") and len(rendered) < 400:
        yield "sympy-latex", rendered


def _right_unit(ref: str, unit: str | None) -> Iterator[tuple[str, str]]:
    if not unit or "," in ref:
        return
    word = unit.strip()
    if re.fullmatch(r"[A-Za-z]+(?:\^\{?\d\}?)?", word):
        base = re.sub(r"\^\{?(\d)\}?", "", word)
        power = re.search(r"\^\{?(\d)\}?", word)
        sup = f"^{{{power.group(1)}}}" if power else ""
        yield "with-unit-text", f"{ref} \\text{{ {base}}}{sup}"
        yield "with-unit-mathrm", f"{ref}\\,\\mathrm{{{base}}}{sup}"
    elif word in ("^{\\circ}", "^\\circ", "°"):
        yield "with-unit-degree", f"{ref}^\\circ" if "," not in ref else ref


# --------------------------------------------------------------------------- wrong answers


def _wrong_numbers(ref: str) -> Iterator[tuple[str, str]]:
    value = plain_number(ref)
    if value is None:
        return
    if INT_RE.fullmatch(ref):
        n = int(ref)
        yield "off-by-one-up", str(n + 1)
        yield "off-by-one-down", str(n - 1)
        if abs(n) >= 1000 and n % 100:
            yield "rounded-3-sig", sig_round(n, 3) if "e" not in sig_round(n, 3) else str(round(n, -2))
            digits = len(str(abs(n)))
            mant = Fraction(n) / 10 ** (digits - 1)
            yield "sci-3-sig", f"{float(mant):.2f} \\times 10^{{{digits - 1}}}"
        yield "int-plus-tenth", f"{n}.1"
        if n and len(str(abs(n))) > 1 and str(abs(n))[::-1].lstrip("0") != str(abs(n)):
            yield "digits-reversed", ("-" if n < 0 else "") + str(abs(n))[::-1].lstrip("0")
    else:
        m = DEC_RE.fullmatch(ref)
        assert m
        places = len(m.group(2))
        ulp = Fraction(1, 10**places)
        for k, name in ((3, "near-3-ulp"), (-3, "near-minus-3-ulp")):
            near = value + k * ulp
            text = decimal(near)
            if text and near != 0:
                yield name, text
        # half an ulp more precise but wrong: 4.5 -> 4.54, the rounding-to-shown-precision trap
        finer = decimal(value + Fraction(4, 10 ** (places + 1)))
        if finer:
            yield "finer-but-wrong", finer
        finer = decimal(value - Fraction(4, 10 ** (places + 1)))
        if finer and value - Fraction(4, 10 ** (places + 1)) > 0:
            yield "finer-but-wrong-down", finer
    if value:
        yield "sign-flip", _flip_sign(ref)
        yield "times-ten", decimal(value * 10) or ""
        yield "div-hundred", decimal(value / 100) or ""


def _flip_sign(ref: str) -> str:
    return ref[1:] if ref.startswith("-") else f"-{ref}"


def _wrong_sci(ref: str) -> Iterator[tuple[str, str]]:
    m = SCI_RE.fullmatch(ref)
    if not m:
        return
    mant, exp = m.groups()
    yield "exponent-off-by-one", f"{mant} \\times 10^{{{int(exp) + 1}}}"
    yield "exponent-sign", f"{mant} \\times 10^{{{-int(exp)}}}"
    yield "sign-flip", f"-{mant} \\times 10^{{{exp}}}" if not mant.startswith("-") else f"{mant[1:]}e{exp}"
    places = len(mant.split(".")[1]) if "." in mant else 0
    near = Fraction(mant) + Fraction(3, 10**places)
    text = decimal(near)
    if text:
        yield "near-3-ulp", f"{text} \\times 10^{{{exp}}}"
    finer = decimal(Fraction(mant) + Fraction(4, 10 ** (places + 1)))
    if finer:
        yield "finer-but-wrong", f"{finer} \\times 10^{{{exp}}}"


def _wrong_fraction(ref: str) -> Iterator[tuple[str, str]]:
    parts = _fraction(ref)
    if parts is None:
        return
    sign, num, den, value = parts
    p, q = int(num), int(den)
    yield "numerator-only", f"{sign}{num}"
    yield "denominator-only", den
    if p != q:
        yield "reciprocal", f"{sign}\\frac{{{den}}}{{{num}}}"
    yield "numerator-plus-one", f"{sign}\\frac{{{p + 1}}}{{{q}}}"
    yield "sign-flip", _flip_sign(ref)
    yield "unsimplified-different", f"{sign}\\frac{{{2 * p}}}{{{3 * q}}}"
    if decimal(value) is None:
        yield "decimal-3-digits", f"{float(value):.3f}"
        yield "decimal-4-sig", sig_round(float(value), 4)
    yield "times-ten", frac_latex(value * 10)


def _wrong_structural(ref: str, ordered_hint: bool, interval: bool) -> Iterator[tuple[str, str]]:
    pair = outer_pair(ref)
    if pair:
        open_, inner, close = pair
        parts = split_top_level(inner)
        if len(parts) >= 2:
            if parts[0] != parts[1] and ordered_hint:
                yield "swapped-order", f"{open_}{', '.join([parts[1], parts[0], *parts[2:]])}{close}"
            yield "missing-part", f"{open_}{', '.join(parts[:-1])}{close}"
            if ordered_hint:
                yield "first-part-only", parts[0]
            if not parts[0].startswith("-") and "\\infty" not in parts[0] and parts[0] != "0":
                yield "one-sign-flipped", f"{open_}{', '.join(['-' + parts[0], *parts[1:]])}{close}"
        if len(parts) == 2 and (interval or "[" in open_ + close or "\\infty" in ref):
            # an interval: flip the finite endpoint's bracket
            if "\\infty" not in parts[0]:
                yield "endpoint-flip-left", f"{'[' if open_ == '(' else '('}{inner}{close}"
            if "\\infty" not in parts[1]:
                yield "endpoint-flip-right", f"{open_}{inner}{']' if close == ')' else ')'}"
    elif not is_thousands(ref):
        parts = split_top_level(ref)
        if len(parts) >= 2 and all(parts):
            yield "missing-part", ", ".join(parts[:-1])
            yield "one-part-only", parts[-1]
    m = DEGREE_RE.fullmatch(ref)
    if m:
        yield "degree-off-by-one", f"{Fraction(m.group(1)) + 1}^\\circ"
        yield "degree-supplement", f"{180 - Fraction(m.group(1))}^\\circ"
    m = SQRT_COEF_RE.fullmatch(ref)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if a > 1:
            yield "coefficient-into-root", f"\\sqrt{{{a * b}}}"
            yield "coef-root-swapped", f"{b}\\sqrt{{{a}}}"
    m = re.fullmatch(r"\\sqrt\{(\d+)\}", ref)
    if m:
        yield "radicand-plus-one", f"\\sqrt{{{int(m.group(1)) + 1}}}"
        yield "root-3-digits", f"{float(m.group(1)) ** 0.5:.3f}"
    m = re.fullmatch(r"(\d+)\s*\\pi", ref)
    if m:
        yield "dropped-pi", m.group(1)
        yield "pi-3-digits", f"{int(m.group(1)) * 3.14159265:.1f}"
    m = re.fullmatch(r"(\d+)\^\{(\d+)\}", ref)
    if m:
        yield "exponent-off-by-one", f"{m.group(1)}^{{{int(m.group(2)) - 1}}}"
    if "\\cup" in ref:
        pieces = ref.split("\\cup")
        first = pieces[0].strip()
        if first.endswith(")"):
            yield "union-endpoint-flip", ref.replace(first, first[:-1] + "]", 1)
        yield "union-part-missing", "\\cup".join(pieces[:-1]).strip()


def _wrong_expression(ref: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    """Change one digit, or negate: for any reference the oracle can evaluate."""
    digits = [m.start() for m in re.finditer(r"\d", ref)]
    if digits and not INT_RE.fullmatch(ref) and not DEC_RE.fullmatch(ref):
        i = rng.choice(digits)
        new = str((int(ref[i]) + rng.choice([1, 2, 3])) % 10)
        if new == "0" and (i == 0 or not ref[i - 1].isdigit()):
            new = "7" if ref[i] != "7" else "8"
        yield "digit-changed", ref[:i] + new + ref[i + 1 :]
    if plain_number(ref) is None and not FRAC_RE.fullmatch(ref) and not outer_pair(ref):
        if "\\text" in ref or "\\cup" in ref or "," in ref:
            return
        if re.search(r"[a-z]", ref.replace("\\", "")) or "\\sqrt" in ref or "\\pi" in ref:
            yield "negated", f"-\\left({ref}\\right)"


#: A unit and another of the same dimension but a different size: the same number in it is a wrong answer.
_OTHER_UNIT = {"cm": "m", "m": "cm", "km": "m", "inches": "feet", "cents": "dollars", "minute": "hour",
               "minutes": "hours", "min": "h", "degrees": "radians", "km/h": "m/s"}


def _wrong_unit(ref: str, unit: str | None) -> Iterator[tuple[str, str]]:
    """The reference's number with a different unit than the reference (or options.unit) names."""
    if unit:
        base = re.sub(r"\^\{?\d\}?$", "", unit.strip())
        power = unit.strip()[len(base):]
        if base in _OTHER_UNIT and "," not in ref:
            yield "other-unit", f"{ref} \\text{{ {_OTHER_UNIT[base]}}}{power}"
        elif base in ("^{\\circ}", "^\\circ") and "," not in ref:
            yield "other-unit", f"{ref} \\text{{ radians}}"
    m = re.search(r"\\(?:text|mbox|mathrm)\{\s*([a-z/]+)\}", ref)
    if m and m.group(1) in _OTHER_UNIT:
        swapped = ref[: m.start(1)] + _OTHER_UNIT[m.group(1)] + ref[m.end(1) :]
        yield "other-unit", swapped


def _money(ref: str, money: bool, right: bool) -> Iterator[tuple[str, str]]:
    """GSM8K amounts of money (the question has a $): dollar signs and cents."""
    if not money or not INT_RE.fullmatch(ref) or ref.startswith("-"):
        return
    n = int(ref)
    if right:
        yield "dollar-sign", f"\\${n}"
        yield "dollar-cents", f"\\${n:,}.00"
        yield "dollar-word", f"{n} \\text{{ dollars}}"
    else:
        yield "dollar-cents-off", f"\\${n}.50"
        yield "dollar-off-by-one", f"\\${n + 1}"


# --------------------------------------------------------------------------- entry point


_RIGHT_VALUE_RULES = {"sympy-latex", "fraction-of-decimal", "decimal-of-fraction", "mixed-number",
                      "sci-expanded", "sci-shifted", "sqrt-absorbed", "complex-swapped", "sci-times", "sci-e"}


def variants(ref: str, *, multiple: bool = False, unit: str | None = None, ordered_hint: bool = True,
             interval: bool = False, money: bool = False, seed: int = 0) -> list[Variant]:
    """Right and wrong spellings of `ref`, each label checked by construction or by the oracle."""
    rng = random.Random(f"{seed}:{ref}")
    if "$" in ref.replace("\\$", ""):  # a mangled reference (a stray math delimiter): nothing to vary
        return [Variant(ref, "right:same", True)]
    out: list[Variant] = [Variant(ref, "right:same", True)]
    right: list[Callable[[], Iterator[tuple[str, str]]]] = [
        lambda: _right_numbers(ref, rng), lambda: _right_sci(ref), lambda: _right_fraction(ref),
        lambda: _right_structural(ref, multiple), lambda: _right_sympy(ref), lambda: _right_unit(ref, unit),
        lambda: _money(ref, money, True),
    ]
    if multiple or not outer_pair(ref):
        right.append(lambda: _right_lists(ref, multiple))
    wrong: list[Callable[[], Iterator[tuple[str, str]]]] = [
        lambda: _wrong_numbers(ref), lambda: _wrong_sci(ref), lambda: _wrong_fraction(ref),
        lambda: _wrong_structural(ref, ordered_hint, interval), lambda: _wrong_expression(ref, rng),
        lambda: _money(ref, money, False), lambda: _wrong_unit(ref, unit),
    ]
    seen = {ref}
    for source, expected in ((right, True), (wrong, False)):
        for make in source:
            for rule, answer in make():
                if not answer or answer in seen:
                    continue
                verdict = oracle_equal(answer, ref)
                if expected and rule in _RIGHT_VALUE_RULES and verdict is not True:
                    continue  # a value-changing rewrite the oracle cannot confirm
                if expected and verdict is False and not rule.startswith(("degree", "with-unit", "label")):
                    continue
                if not expected and verdict is True and rule != "other-unit":  # the oracle drops units
                    continue  # the "wrong" answer happens to be equal (e.g. -0, a symmetric pair)
                seen.add(answer)
                out.append(Variant(answer, f"{'right' if expected else 'wrong'}:{rule}", expected))
    return out
