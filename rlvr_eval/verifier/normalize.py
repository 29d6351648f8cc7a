"""Cosmetic normalization of answers: pure, bounded string work shared by the fast and symbolic paths.

Everything here only removes presentation (delimiters, spacing, text wrappers, units, separators) and never
changes a value, so it is safe to use for the cache key and the string fast path. Units are only stripped
when they are spelled out (``\\text{cm}``, ``cm`` after a number, or options.unit), never a bare single
letter: ``a+b`` must not become ``b``.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The one box parser lives in boxes.py; these names stay importable from here for existing callers.
from rlvr_eval.verifier.boxes import all_boxed as all_boxed
from rlvr_eval.verifier.boxes import last_boxed_content as last_boxed

_PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d{1,15}(?:\.\d{1,15})?$")
_ANSWER_PREFIX_RE = re.compile(
    r"^\s*(?:so\s*,?\s*)?(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)?\s*:?\s*", re.IGNORECASE
)
_DELIMS = (("$$", ""), ("\\[", ""), ("\\]", ""), ("\\(", ""), ("\\)", ""), ("$", ""))
_SIMPLE_REPLACEMENTS = (
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
    ("\\displaystyle", ""), ("\\textstyle", ""), ("\\limits", ""),
    ("\\lbrace", "\\{"), ("\\rbrace", "\\}"), ("\\lbrack", "["), ("\\rbrack", "]"),
    ("\\lvert", "|"), ("\\rvert", "|"), ("\\vert", "|"), ("\\mid", "|"),
    ("\\leqslant", "\\leq"), ("\\geqslant", "\\geq"), ("\\le ", "\\leq "), ("\\ge ", "\\geq "),
    ("\\lt", "<"), ("\\gt", ">"), ("≤", "\\leq"), ("≥", "\\geq"), ("≠", "\\neq"), ("\\ne ", "\\neq "),
    ("−", "-"), ("–", "-"), ("∞", "\\infty"), ("π", "\\pi"), ("√", "\\sqrt"), ("×", "\\times"),
    ("·", "\\cdot"), ("\\varnothing", "\\emptyset"), ("\\%", "%"), ("\\$", ""), ("\\dots", "\\ldots"),
    ("\\cdots", "\\ldots"), ("\\rightarrow", "\\to"), ("\\infin", "\\infty"), ("\\operatorname", "\\mathrm"),
)
_LEFT_RIGHT_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|middle)(?![a-zA-Z])\s*"
)
_LEFT_RIGHT_DOT_RE = re.compile(r"\\(?:left|right)\.")
_SPACE_CMDS_RE = re.compile(
    r"(?<!\\)\\(?:,|!|;|:| |quad|qquad|hspace\*?\{[^{}]*\}|enspace|thinspace)(?![a-zA-Z])|~"
)
_THOUSANDS_RE = re.compile(r"(?<![\d.])(\d{1,3})((?:(?:\{,\}|,\\!|\\,|\\!|\\ |~|\s|\{\s\}|,)\d{3})+)(?![\d])")
_GROUP_SEP_RE = re.compile(r"\{,\}|,\\!|\\,|\\!|\\ |~|\s|\{\s\}|,")
_SCI_NOTATION_RE = re.compile(r"(?<![\w\\.])(\d+(?:\.\d*)?|\.\d+)[eE]([+-]?\d+)(?!\w)(?!\.\d)")
_EULER_AFTER_DIGIT_RE = re.compile(r"(\d)([eE])(?=[+-]?\d)")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|°|\\degree(?![a-zA-Z])|\^\{\\text\{o\}\}")
_TRIG_RE = re.compile(r"\\(?:sin|cos|tan|sec|csc|cot)(?![a-zA-Z])")
_ORDINAL_RE = re.compile(
    r"(\d)\s*(?:\^\s*\{?\s*(?:\\(?:text|mathrm|textrm)\s*\{)?\s*(?:st|nd|rd|th)\s*\}?\s*\}?|(?:st|nd|rd|th)\b)"
)
_TEXT_CMD_RE = re.compile(
    r"\\(?:text|textrm|textbf|textit|textsf|texttt|mathrm|mathbf|mathit|mathsf|mbox|hbox|emph|boldsymbol|bm|"
    r"mathcal|mathbb)\s*\{"
)
# Words dropped when they follow a number: spelled-out units and currencies, never a single letter.
_UNIT_WORDS = (
    "cm|mm|km|meters?|metres?|centimeters?|millimeters?|kilometers?|inch(?:es)?|feet|foot|ft|yards?|"
    "miles?|mph|kg|grams?|kilograms?|pounds?|lbs?|ounces?|oz|seconds?|sec|minutes?|min|hours?|hrs?|"
    "days?|weeks?|months?|years?|degrees?|deg|radians?|rad|dollars?|cents?|units?|square\\s+\\w+|"
    "sq\\.?\\s*\\w+|cubic\\s+\\w+|liters?|litres?|mL|ml|kJ|eV|kW|Pa|Hz|mol|percent|people|students?|"
    "ways?|points?|times|items?|coins?|marbles?|books?|apples?|cookies?|pages?|balls?|boxes|steps?"
)
_TRAILING_TEXT_UNIT_RE = re.compile(
    r"(?<=[\d}.)])\s*\\(?:text|mathrm|textrm|mbox)\s*\{\s*(?:[a-zA-Z][a-zA-Z .]*?)\s*\}"
    r"(?:\s*\^\s*\{?[23]\}?)?\s*$"
)
_TRAILING_WORD_UNIT_RE = re.compile(rf"(?<=[\d}}.)])\s+(?:{_UNIT_WORDS})(?:\s*\^\s*\{{?[23]\}}?)?\s*\.?$")
_FRAC_SHORT_RE = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_HALF_SHORT_RE = re.compile(r"\\frac\s*\{([^{}]*)\}\s*(\d)")
_SQRT_SHORT_RE = re.compile(r"\\sqrt\s*(\d+|[a-zA-Z])")
# "x = 1 \text{ or } x = 2" lists alternatives: a comma says the same to the structure layer
_OR_RE = re.compile(r"\s*(?:\\text\{\s*(?:or|and)\s*\}|\\(?:lor|vee)(?![a-zA-Z])|\s(?:or|and)\s)\s*")
# "x = k\pi, k \in \mathbb{Z}": the qualifier of a solution family is not part of the value
_INTEGER_QUALIFIER_RE = re.compile(
    r"\s*[,;]?\s*(?:\\forall\s*|for\s+(?:some|any|all|every)?\s*(?:integers?)?\s*|where\s+)?"
    r"[kmnjl]\s*(?:\\in\s*\\mathbb\s*\{?Z\}?|is\s+an?\s+integer|\\in\s*Z)\s*$"
    r"|\s*[,;]?\s*(?:for|where)\s+(?:some|any|all|every)?\s*integers?\s+[kmnjl]\s*$"
)
_IN_PREFIX_RE = re.compile(r"^[a-zA-Z]\s*\\in\s*(?=[(\[{\\])")
_SPACE_RE = re.compile(r"\s+")
_INNER_SPACE_RE = re.compile(
    r"(?<=[^a-zA-Z0-9]) | (?=[^a-zA-Z0-9])|(?<=\d) (?=[a-zA-Z])|(?<=[a-zA-Z]) (?=\d)"
)


def find_group_end(text: str, open_pos: int) -> int:
    """Index just past the brace group that starts at `open_pos` (a '{'), or -1 if unbalanced."""
    depth = 0
    i = open_pos
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def unwrap_text_commands(text: str) -> str:
    """Replace ``\\text{abc}`` (and \\mathrm, \\textbf, ...) by ``abc``, keeping the inner braces balanced."""
    for _ in range(20):  # bounded: each pass removes at least one wrapper
        m = _TEXT_CMD_RE.search(text)
        if not m:
            return text
        end = find_group_end(text, m.end() - 1)
        if end < 0:
            return text[: m.start()] + text[m.end() :]
        inner = text[m.end() : end - 1]
        text = text[: m.start()] + inner + text[end:]
    return text


def _strip_outer_braces(text: str) -> str:
    while text.startswith("{") and find_group_end(text, 0) == len(text):
        text = text[1:-1].strip()
    return text


def _join_thousands(m: re.Match[str]) -> str:
    groups = m.group(2)
    seps = set(_GROUP_SEP_RE.findall(groups))
    # a bare comma is only a thousands separator when the whole answer is one number (else: a list)
    if "," in seps:
        return m.group(0)
    return m.group(1) + _GROUP_SEP_RE.sub("", groups)


_WHOLE_COMMA_NUMBER_RE = re.compile(
    r"^((?:[a-zA-Z]\s*(?:=|\\approx)\s*)?-?)([1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?)$"
)


def strip_unit(text: str, unit: str | None) -> str:
    """Remove a trailing unit: `unit` if given, ``\\text{...}`` after a number, or a known unit word."""
    if unit:
        u = unwrap_text_commands(unit).strip().strip("$").strip()
        if u:
            braced = u.replace("^", "^{") + "}" if "^" in u and "{" not in u else u
            for cand in (u, u.replace(" ", ""), braced):
                if text.endswith(cand) and len(text) > len(cand):
                    text = text[: -len(cand)].rstrip()
                    break
    text = _TRAILING_TEXT_UNIT_RE.sub("", text)
    text = _TRAILING_WORD_UNIT_RE.sub("", text)
    return text


def _strip_trailing_punctuation(text: str) -> str:
    """Sentence punctuation ("The answer is 5/6."); factorials and "5." decimals keep their value."""
    while text and text[-1] in ".;" and not text.endswith("\\."):
        text = text[:-1].rstrip()
    return text


@lru_cache(maxsize=32768)
def normalize_answer(text: str, unit: str | None = None) -> str:
    """Cosmetic normal form of an answer (see module docstring); idempotent and value-preserving."""
    text = text.strip()
    if _PLAIN_NUMBER_RE.match(text):
        return text[1:] if text.startswith("+") else text  # the common case, without 30 regex passes
    if len(text) > 20_000:
        text = text[-20_000:]
    boxed = last_boxed(text)
    if boxed is not None:
        text = boxed
    text = _ANSWER_PREFIX_RE.sub("", text, count=1) or text
    text = text.replace("\\$", "")  # currency, before "$" delimiters are dropped
    for old, new in _DELIMS:
        text = text.replace(old, new)
    text = _LEFT_RIGHT_DOT_RE.sub("", text)
    text = _LEFT_RIGHT_RE.sub("", text)
    for old, new in _SIMPLE_REPLACEMENTS:
        text = text.replace(old, new)
    text = text.replace("\n", " ").replace("\t", " ")
    # 1.5e3 written without spaces is scientific notation; decided here, while spaces still tell
    # "4e-5" (4 x 10^-5) from "4e - 5" (4 times Euler's e, minus 5)
    text = _SCI_NOTATION_RE.sub(r"\1\\times10^{\2}", text)
    text = _THOUSANDS_RE.sub(_join_thousands, text)
    text = _SPACE_CMDS_RE.sub(" ", text)
    if not _TRIG_RE.search(text):  # sin 30^\circ keeps its degrees: there they are a value, not a unit
        text = _DEGREE_RE.sub("", text)
    text = _ORDINAL_RE.sub(r"\1", text)
    text = strip_unit(_strip_trailing_punctuation(text.strip()), unit)
    text = _OR_RE.sub(",", text)
    text = unwrap_text_commands(text)
    text = _ANSWER_PREFIX_RE.sub("", text, count=1) or text  # \text{The answer is 5}
    text = strip_unit(_strip_trailing_punctuation(text.strip()), unit)
    text = _OR_RE.sub(",", text)
    text = _INTEGER_QUALIFIER_RE.sub("", text) or text  # "n \in \mathbb{Z}" alone is the answer itself
    text = _IN_PREFIX_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text).strip()
    text = _strip_trailing_punctuation(text)
    text = _FRAC_SHORT_RE.sub(r"\\frac{\1}{\2}", text)
    text = _FRAC_HALF_SHORT_RE.sub(r"\\frac{\1}{\2}", text)
    text = _SQRT_SHORT_RE.sub(r"\\sqrt{\1}", text)
    text = _strip_outer_braces(text)
    m = _WHOLE_COMMA_NUMBER_RE.match(text)
    if m:  # 10,000 and x = 10,000 but not "1, 000" or "0,100"
        text = m.group(1) + m.group(2).replace(",", "")
    text = _INNER_SPACE_RE.sub("", text)
    text = _EULER_AFTER_DIGIT_RE.sub(r"\1\\cdot \2", text)  # "4e - 5" stays 4*e - 5 when normalized again
    text = _strip_outer_braces(text)
    if text.startswith("+") and len(text) > 1 and text[1].isdigit():
        text = text[1:]
    return text
