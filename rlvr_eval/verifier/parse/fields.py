"""What people write around a value, read off once: approximation tail, unit, degree sign, label, choice.

Each ``peel_*`` function takes a cleaned answer text and returns the text without the field plus the
field's value, so `parse` records it on the `Answer` and no comparison has to look for it again.
Units are only recognised when spelled out (``\\text{cm}``, ``cm`` after a value, options.unit), never
a bare single letter: ``a+b`` must not become ``b``.
"""

from __future__ import annotations

import re

from rlvr_eval.verifier.brackets import depth_scan, find_relations
from rlvr_eval.verifier.normalize import unwrap_text_commands

# Words dropped when they follow a value: spelled-out units and currencies, never a single letter.
_UNIT_WORDS = (
    "cm|mm|km|meters?|metres?|centimeters?|millimeters?|kilometers?|inch(?:es)?|feet|foot|ft|yards?|"
    "miles?|mph|kph|kg|grams?|kilograms?|pounds?|lbs?|ounces?|oz|seconds?|sec|minutes?|min|hours?|hrs?|"
    "days?|weeks?|months?|years?|degrees?|deg|radians?|rad|dollars?|cents?|units?|square\\s+\\w+|"
    "sq\\.?\\s*\\w+|cubic\\s+\\w+|liters?|litres?|mL|ml|kJ|eV|kW|Pa|Hz|mol|percent|people|students?|"
    "ways?|points?|times|items?|coins?|marbles?|books?|apples?|cookies?|pages?|balls?|boxes|steps?|"
    "m/s|km/h|km/hr|ft/s|m/s\\^2"
)
_PER = r"(?:\s*/\s*[a-zA-Z]+|\s+per\s+[a-zA-Z]+)?"  # 6 meters/second, 3 miles per hour
_POWER = r"(?:\s*\^\s*\{?[23]\}?)?"
_WORD_UNIT_RE = re.compile(rf"(?<=[\w}}.)%])\s+((?:{_UNIT_WORDS}){_PER}{_POWER})\s*\.?$")
_TEXT_UNIT_RE = re.compile(
    rf"(?<=[\w}}.)%])\s*\\(?:text|mathrm|textrm|mbox)\s*\{{\s*([a-zA-Z][a-zA-Z ./]*?)\s*\}}({_POWER})\s*$"
)
# a chain of unit groups: \mathrm{ kg} \mathrm{ m}^{-3}, \mu\text{m}, \mathrm{J/(mol\,K)}
_UNIT_GROUP = (
    r"(?:\\mu\s*)?\\(?:text|mathrm|textrm|mbox|rm)\s*\{\s*[a-zA-Z][a-zA-Z0-9 ./()\\,~^-]{0,30}\}"
    r"(?:\s*\^\s*(?:\{\s*-?\d\s*\}|-?\d))?"
)
_UNIT_CHAIN_RE = re.compile(
    rf"(?<=[\w}}.)%])\s*((?:{_UNIT_GROUP})(?:\s*(?:\\cdot|/)?\s*{_UNIT_GROUP}){{0,5}})\s*$"
)
# \text{...} words after a value that are not units
_NOT_UNITS = frozenset({"or", "and", "if", "for", "when", "where", "only", "none", "is", "are", "so"})
_OPERATOR_END = re.compile(
    r"(?:[-+*/=<>,(\[{^_]|\\(?:cdot|times|div|pm|mp|frac|sqrt|cup|cap|in|leq?|geq?|neq?|approx|to))\s*$"
)

_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|°|\\degree(?![a-zA-Z])|\^\{\\text\{o\}\}")
_TRIG_RE = re.compile(r"\\(?:sin|cos|tan|sec|csc|cot)(?![a-zA-Z])")
_DEGREE_UNITS = re.compile(r"^(?:degrees?|deg)$")

_NAME = r"(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|[a-zA-Z]\([a-zA-Z]\))"
# a function's inverse or derivative: f^{-1}, f', f'', f^{\prime}
FUNCTION_MARK = r"(?:'{1,3}|\^\{?-1\}?|\^\{?\\prime\}?)?"
_LABEL_RE = re.compile(
    r"^(?:(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\\?[a-zA-Z0-9]+\}?)?'{0,3}"  # x, a_1, \theta, m_{\max}, y'
    rf"|[a-zA-Z]{FUNCTION_MARK}\([a-zA-Z0-9]{{1,4}}(?:,[a-zA-Z0-9]{{1,4}})*\)"  # f(x), f(2), f^{-1}(x)
    r"|\\(?:sin|cos|tan|cot|sec|csc)\s*(?:\\angle\s*[A-Z]{1,3}|\\?[a-zA-Z]+)"  # \cos\angle RPS, \tan\theta
    rf"|\((?:{_NAME},)+{_NAME}\)"  # (x,y), (x_1,x_2), (f(x),g(x))
    r"|[A-Za-z]{2,}(?::[A-Za-z]{2,})*"  # Area, PQ, PQ:QR
    r"|m?\\angle ?[A-Z]{1,3})$"  # \angle ABC
)
_CONSTANTS = frozenset({"\\pi", "e", "i", "\\infty"})  # names of numbers, never labels

_CHOICE_PAREN_RE = re.compile(r"^\(([A-Z])\)(?:\s*[.:]?\s*(.*))?$", re.S)
_CHOICE_LOOSE_RE = re.compile(r"^\(?([A-Za-z])(?:[.:)]\s*(.*)|\s*)$", re.S)
_CHOICE_PREFIX_RE = re.compile(r"^(?:option|choice|answer)\s*:?\s*", re.IGNORECASE)
# "(B), (D)", "(B) and (D)": the text after a label is another label, so two choices, not an option text
_ANOTHER_CHOICE_RE = re.compile(r"^(?:[,;&]|and\b|or\b|\\(?:quad|qquad)\b)?\s*\(\s*[A-Z]\s*\)")


def is_label(text: str) -> bool:
    """A simple name on the left of '=': x, a_1, \\theta, f(x), (x,y), PQ:QR, or a word like Area."""
    return text not in _CONSTANTS and bool(_LABEL_RE.match(text))


def _top_level(text: str, token: str) -> list[int]:
    return [i for i, depth, tok in depth_scan(text) if depth == 0 and tok == token]


def peel_approx(text: str) -> tuple[str, str | None]:
    """``v \\approx a`` -> (v, a); the value before the sign is the answer. ``x \\approx 3`` is a label."""
    if "\\approx" not in text:
        return text, None
    signs = _top_level(text, "\\approx")
    if not signs:
        return text, None
    before, after = text[: signs[0]].strip(), text[signs[-1] + len("\\approx") :].strip()
    if not before or not after or is_label(before) or _OPERATOR_END.search(before):
        return text, None
    return before, after


def peel_unit(text: str, unit: str | None) -> tuple[str, str | None]:
    """A trailing unit: the given `unit`, a ``\\text{...}`` word after a value, a chain of such groups
    (``\\mathrm{ kg} \\mathrm{ m} \\mathrm{ s}^{-2}``, ``\\mu\\text{m}``), or a known unit word."""
    if unit:
        u = unwrap_text_commands(unit).strip().strip("$").strip()
        if u:
            braced = u.replace("^", "^{") + "}" if "^" in u and "{" not in u else u
            for cand in (u, u.replace(" ", ""), braced, f"\\text{{{u}}}", f"\\text{{ {u}}}"):
                # a whole word only: option "m" is not the end of "35 cm"
                if text.endswith(cand) and len(text) > len(cand) and not (
                    cand[0].isalpha() and text[-len(cand) - 1].isalpha()
                ):
                    return text[: -len(cand)].rstrip(), u
    m, single = _UNIT_CHAIN_RE.search(text), _TEXT_UNIT_RE.search(text)
    if m and (single is None or m.start() < single.start()):  # one plain group: the rule below
        rest = text[: m.start()].rstrip()
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", unwrap_text_commands(m.group(1)))}
        if rest and not _OPERATOR_END.search(rest) and not words & _NOT_UNITS:
            return rest, " ".join(m.group(1).split())
    m = _TEXT_UNIT_RE.search(text)
    if m and m.group(1).strip().lower() not in _NOT_UNITS:
        rest = text[: m.start()].rstrip()
        if rest and not _OPERATOR_END.search(rest):
            return rest, (m.group(1).strip() + m.group(2).replace(" ", ""))
    m = _WORD_UNIT_RE.search(text)
    if m:
        rest = text[: m.start()].rstrip()
        if rest and not _OPERATOR_END.search(rest):
            return rest, " ".join(m.group(1).split())
    return text, None


def first_of_quantity_chain(text: str) -> str:
    """``d = 3.1 \\times 10^{16} \\text{ m} = 1.0 \\text{ pc}`` (one quantity in several units) ->
    ``d = 3.1 \\times 10^{16} \\text{ m}``: the quantity as first stated; the rest restates it in other
    units (and the unit comparison converts it when the reference has a unit). Other texts unchanged.
    """
    if text.count("=") < 2 or "\\" not in text:
        return text
    sides, ops = find_relations(text)
    if len(sides) < 3 or any(op != "=" for op in ops) or not is_label(sides[0]):
        return text
    units = [peel_unit(side, None)[1] for side in sides[1:]]
    if any(u is None for u in units) or len(set(units)) < 2:
        return text
    return f"{sides[0]} = {sides[1]}"


def carries_unit(text: str) -> bool:
    """A degree sign or a unit after the value (``40^\\circ``, ``40 \\text{ degrees}``, ``3 cm``)."""
    return bool(_DEGREE_RE.search(text)) or peel_unit(text.strip(), None)[1] is not None


def peel_degrees(text: str, unit: str | None) -> tuple[str, bool]:
    """Degree signs outside trigonometry mark the value as an angle in degrees (``120^\\circ``).

    Inside ``\\sin 30^\\circ`` the degrees are part of the value and stay for the symbolic path.
    """
    if unit is not None and _DEGREE_UNITS.match(unit):
        return text, True
    if _TRIG_RE.search(text) or not _DEGREE_RE.search(text):
        return text, False
    return _DEGREE_RE.sub("", text).strip(), True


def peel_label(text: str) -> tuple[str, str | None]:
    """``x = 3`` -> ('3', 'x'); ``p = q = 11`` -> ('11', 'p = q'); anything else keeps its text."""
    if "=" not in text and "\\approx" not in text:
        return text, None
    sides, ops = find_relations(text)
    if not ops or any(op != "=" for op in ops) or not sides[-1]:
        return text, None
    if all(is_label(side) for side in sides[:-1]):
        return sides[-1], " = ".join(sides[:-1])
    return text, None


def read_choice(text: str, choice_mode: bool) -> tuple[str, str] | None:
    """(letter, option text) for a multiple-choice answer: ``(D)``, ``(D) Ellipse``, ``\\text{(B)}``.

    Outside choice mode only a capital letter in parentheses counts (a bare ``B`` may be a variable);
    in choice mode also ``B``, ``b.``, ``B: 15`` and ``Option C``. Several labels (``(B), (D)``) are
    several choices: None, so the answer is read as a list of them.
    """
    plain = unwrap_text_commands(text).strip().strip("{}").strip()
    m = _CHOICE_PAREN_RE.match(plain)
    if m:
        option = unwrap_text_commands(m.group(2) or "").strip()
        return None if _ANOTHER_CHOICE_RE.match(option) else (m.group(1), option)
    if not choice_mode:
        return None
    m = _CHOICE_LOOSE_RE.match(_CHOICE_PREFIX_RE.sub("", plain))
    if m:
        return m.group(1).upper(), (m.group(2) or "").strip()
    return None


_CLOCK_RE = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:\\(?:text|mathrm)\s*\{\s*([apAP])\.?\s*[mM]\.?\s*\}|([apAP])\.?\s*[mM]\.?)?$"
)


def read_clock(text: str) -> tuple[int, ...] | None:
    """A clock time as 24-hour parts: ``9:30 p.m.`` -> (21, 30); ``7:45`` -> (7, 45); else None.

    Only a time with "a.m."/"p.m." needs this; a plain ``h:mm`` parses as a ratio with the same parts.
    """
    m = _CLOCK_RE.match(text)
    if m is None or not (m.group(4) or m.group(5)):
        return None
    hours, minutes = int(m.group(1)), int(m.group(2))
    if not 1 <= hours <= 12 or minutes > 59:
        return None
    half = (m.group(4) or m.group(5)).lower()
    hours = hours % 12 + (12 if half == "p" else 0)
    return (hours, minutes) if m.group(3) is None else (hours, minutes, int(m.group(3)))


_LOWER = {">": "<", ">=": "<="}  # bound > x  ==  x < bound


def inequality_chain(parts: list[str]) -> tuple[tuple[str, str, str], tuple[str, str]] | None:
    """``x > -1``, ``x < 4`` (both must hold) -> ((-1, x, 4), ("<", "<")); None unless one lower and
    one upper bound of the same variable."""
    if len(parts) != 2:
        return None
    lower: tuple[str, str] | None = None  # (bound, "<" or "<=")
    upper: tuple[str, str] | None = None
    variable = None
    for part in parts:
        sides, ops = find_relations(part)
        if len(ops) != 1 or ops[0] not in ("<", "<=", ">", ">="):
            return None
        left, right = sides
        op = ops[0]
        if _is_name(left) and not _is_name(right):
            name, bound, is_upper = left, right, op in ("<", "<=")
        elif _is_name(right) and not _is_name(left):
            name, bound, is_upper = right, left, op in (">", ">=")
        else:
            return None
        if variable not in (None, name):
            return None
        variable = name
        strict = "<" if op in ("<", ">") else "<="
        if is_upper:
            upper = (bound, strict)
        else:
            lower = (bound, strict)
    if lower is None or upper is None or variable is None:
        return None
    return (lower[0], variable, upper[0]), (lower[1], upper[1])


def _is_name(text: str) -> bool:
    return bool(re.fullmatch(r"[a-zA-Z](?:_\{?\w+\}?)?", text))
