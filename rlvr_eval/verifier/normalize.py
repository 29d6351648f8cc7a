"""Cosmetic normalization of answer text: pure, bounded string work that never changes a value.

Two stages, because `parse` reads some of the presentation as fields in between:

1. `clean` removes presentation only: a box, "The answer is", math delimiters, ``\\left``/``\\right``,
   spelling variants (``\\dfrac``, ``\\leqslant``, unicode ``≤ ∞ ∪ −``), thousands separators, spacing
   commands, ordinals, sentence punctuation. Units, ``\\text{...}``, degree signs and ``\\approx``
   tails are kept: `parse` turns them into fields of the answer.
2. `finish` (after the fields are peeled) unwraps ``\\text{...}``, turns "or"/"and" between answers
   into commas, drops a solution family's "k \\in \\mathbb{Z}", expands TeX shorthand (``\\frac38``,
   ``\\sqrt6``) and removes spaces that carry no meaning.

`normalize_answer` is both stages in a row (the cosmetic normal form, used to spot an answer that
restates an expression of the question).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rlvr_eval.verifier.boxes import all_boxed as all_boxed  # re-export: the one box parser
from rlvr_eval.verifier.boxes import last_boxed_content, match_brace

__all__ = [
    "all_boxed", "clean", "finish", "finish_tight", "finish_words", "normalize_answer", "strip_outer_braces",
    "unwrap_text_commands",
]

MAX_TEXT_CHARS = 20_000
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d{1,15}(?:\.\d{1,15})?$")
_ANSWER_PREFIX_RE = re.compile(
    r"^\s*(?:so\s*,?\s*)?(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)?\s*:?\s*", re.IGNORECASE
)
_DELIMS = ("$$", "\\[", "\\]", "\\(", "\\)", "$")
_SIMPLE_REPLACEMENTS = (
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
    ("\\displaystyle", ""), ("\\textstyle", ""), ("\\limits", ""),
    ("\\lbrace", "\\{"), ("\\rbrace", "\\}"), ("\\lbrack", "["), ("\\rbrack", "]"),
    ("\\lvert", "|"), ("\\rvert", "|"), ("\\vert", "|"), ("\\mid", "|"),
    ("\\leqslant", "\\leq"), ("\\geqslant", "\\geq"), ("\\le ", "\\leq "), ("\\ge ", "\\geq "),
    ("\\lt", "<"), ("\\gt", ">"), ("≤", "\\leq "), ("≥", "\\geq "), ("≠", "\\neq "), ("\\ne ", "\\neq "),
    ("⩽", "\\leq "), ("⩾", "\\geq "), ("∪", "\\cup "), ("∩", "\\cap "), ("∈", "\\in "), ("≈", "\\approx "),
    ("−", "-"), ("–", "-"), ("∞", "\\infty "), ("π", "\\pi "), ("√", "\\sqrt"), ("×", "\\times "),
    ("·", "\\cdot "), ("⋅", "\\cdot "), ("÷", "\\div "), ("±", "\\pm "), ("∅", "\\emptyset "),
    ("\\varnothing", "\\emptyset"), ("\\%", "%"), ("\\$", ""), ("\\dots", "\\ldots"),
    ("\\cdots", "\\ldots"), ("\\rightarrow", "\\to"), ("\\infin", "\\infty"), ("\\operatorname", "\\mathrm"),
    ("∠", "\\angle "), ("°", "^\\circ"), ("\\textdollar", ""), ("\\dollar", ""),
)
_STRAY_BACKSLASH_RE = re.compile(r"(?<!\\)\\(?=\d)")  # "\12": a dollar sign typed without its $
# \text{ft}/\text{s} is one unit, ft/s
_TEXT_OVER_TEXT_RE = re.compile(r"\\text\{\s*([a-zA-Z]+)\s*\}\s*/\s*\\text\{\s*([a-zA-Z]+)\s*\}")
_LEFT_RIGHT_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|middle)(?![a-zA-Z])\s*"
)
_LEFT_RIGHT_DOT_RE = re.compile(r"\\(?:left|right)\.")
_SPACE_CMDS_RE = re.compile(
    r"(?<!\\)\\(?:,|!|;|:| |quad|qquad|hspace\*?\{[^{}]*\}|enspace|thinspace)(?![a-zA-Z])|~"
)
# one group separator: {,} ,\! \, \! \<space> ~ <space> {<space>} , -- and a spacing command followed by a
# space ("10\! 000"), which the space commands alone would read as two separators
_GROUP_SEP = r"(?:\{,\}|,\\!\s?|\\[,! ]\s?|~|\s|\{\s\}|,)"
_THOUSANDS_RE = re.compile(rf"(?<![\d.])(\d{{1,3}})((?:{_GROUP_SEP}\d{{3}})+)(?![\d])")
_GROUP_SEP_RE = re.compile(_GROUP_SEP)
_SCI_NOTATION_RE = re.compile(r"(?<![\w\\.])(\d+(?:\.\d*)?|\.\d+)[eE]([+-]?\d+)(?!\w)(?!\.\d)")
_EULER_AFTER_DIGIT_RE = re.compile(r"(\d)([eE])(?=[+-]?\d)")
_ORDINAL_RE = re.compile(
    r"(\d)\s*(?:\^\s*\{?\s*(?:\\(?:text|mathrm|textrm)\s*\{|\\rm\s*)?\s*(?:st|nd|rd|th)\s*\}?\s*\}?|(?:st|nd|rd|th)\b)"
)
_TEXT_CMD_RE = re.compile(
    r"\\(?:text|textrm|textbf|textit|textsf|texttt|mathrm|mathbf|mathit|mathsf|mbox|hbox|emph|boldsymbol|bm|"
    r"mathcal|mathbb)\s*\{"
)
_FRAC_SHORT_RE = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_DIGIT_FIRST_RE = re.compile(r"\\frac\s*(\d)\s*(?=\{)")  # \frac2{5}
_SQRT_SHORT_RE = re.compile(r"\\sqrt\s*(\d+|[a-zA-Z])")
# "x = 1 \text{ or } x = 2" and "2, 5, and 11" list alternatives: one comma says the same to `parse`
_OR_RE = re.compile(
    r"\s*,?\s*(?:\\text\{\s*,?\s*(?:or|and)\s*\}|\\(?:lor|vee)(?![a-zA-Z])|\s(?:or|and)\s)\s*,?\s*"
)
_AND_RE = re.compile(r"\s*,?\s*(?:\\text\{\s*and\s*\}|\\(?:land|wedge)(?![a-zA-Z])|\sand\s)\s*")
_INEQUALITY_RE = re.compile(r"[<>]|\\[lg]eq?(?![a-zA-Z])")
# "x = k\pi, k \in \mathbb{Z}": the qualifier of a solution family is not part of the value
_INTEGER_QUALIFIER_RE = re.compile(
    r"\s*[,;]?\s*(?:\\forall\s*|for\s+(?:some|any|all|every)?\s*(?:integers?)?\s*|where\s+)?"
    r"[kmnjl]\s*(?:\\in\s*\\mathbb\s*\{?Z\}?|is\s+an?\s+integer|\\in\s*Z)\s*$"
    r"|\s*[,;]?\s*(?:for|where)\s+(?:some|any|all|every)?\s*integers?\s+[kmnjl]\s*$"
)
# "x \in [1, 5]": membership (`parse` reads the pair after it as an interval)
IN_PREFIX_RE = re.compile(r"^[a-zA-Z]\s*\\in\s*(?=[(\[{\\])")
_SPACE_RE = re.compile(r"\s+")
_INNER_SPACE_RE = re.compile(
    r"(?<=[^a-zA-Z0-9]) | (?=[^a-zA-Z0-9])|(?<=\d) (?=[a-zA-Z])|(?<=[a-zA-Z]) (?=\d)"
)
_WHOLE_COMMA_NUMBER_RE = re.compile(
    r"^((?:[a-zA-Z]\s*(?:=|\\approx)\s*)?-?)([1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?)$"
)


def _group_end(text: str, open_pos: int) -> int:
    """Index just past the brace group opening at `open_pos`, or -1 when it never closes."""
    close = match_brace(text, open_pos)
    return -1 if close is None else close + 1


def unwrap_text_commands(text: str) -> str:
    """Replace ``\\text{abc}`` (and \\mathrm, \\textbf, ...) by ``abc``, keeping the inner braces balanced."""
    for _ in range(20):  # bounded: each pass removes at least one wrapper
        m = _TEXT_CMD_RE.search(text)
        if not m:
            return text
        end = _group_end(text, m.end() - 1)
        if end < 0:
            return text[: m.start()] + text[m.end() :]
        text = text[: m.start()] + text[m.end() : end - 1] + text[end:]
    return text


def strip_outer_braces(text: str) -> str:
    while text.startswith("{") and _group_end(text, 0) == len(text):
        text = text[1:-1].strip()
    return text


def _join_thousands(m: re.Match[str]) -> str:
    groups = m.group(2)
    # a bare comma is only a thousands separator when the whole answer is one number (else: a list)
    if "," in set(_GROUP_SEP_RE.findall(groups)):
        return m.group(0)
    return m.group(1) + _GROUP_SEP_RE.sub("", groups)


def strip_trailing_punctuation(text: str) -> str:
    """Sentence punctuation ("The answer is 5/6."); factorials and "5." decimals keep their value."""
    while text and text[-1] in ".;" and not text.endswith("\\."):
        text = text[:-1].rstrip()
    return text


@lru_cache(maxsize=32768)
def clean(text: str) -> str:
    """Stage 1: presentation removed; units, ``\\text{}``, degree signs and ``\\approx`` tails kept."""
    text = text.strip()
    if _PLAIN_NUMBER_RE.match(text):
        return text[1:] if text.startswith("+") else text  # the common case, without 30 regex passes
    if len(text) > MAX_TEXT_CHARS:
        text = text[-MAX_TEXT_CHARS:]
    if "\\boxed" in text or "\\fbox" in text:
        boxed = last_boxed_content(text)
        if boxed is not None:
            text = boxed
    text = _ANSWER_PREFIX_RE.sub("", text, count=1) or text
    text = text.replace("\\$", "")  # currency, before "$" delimiters are dropped
    for delim in _DELIMS:
        text = text.replace(delim, "")
    text = _LEFT_RIGHT_DOT_RE.sub("", text)
    text = _LEFT_RIGHT_RE.sub("", text)
    for old, new in _SIMPLE_REPLACEMENTS:
        text = text.replace(old, new)
    text = _STRAY_BACKSLASH_RE.sub("", text)
    text = _TEXT_OVER_TEXT_RE.sub(r"\\text{\1/\2}", text)
    text = text.replace("\n", " ").replace("\t", " ")
    # 1.5e3 written without spaces is scientific notation; decided here, while spaces still tell
    # "4e-5" (4 x 10^-5) from "4e - 5" (4 times Euler's e, minus 5)
    text = _SCI_NOTATION_RE.sub(r"\1\\times10^{\2}", text)
    text = _THOUSANDS_RE.sub(_join_thousands, text)
    text = _SPACE_CMDS_RE.sub(" ", text)
    text = _ORDINAL_RE.sub(r"\1", text)
    text = _SPACE_RE.sub(" ", text).strip()
    return strip_trailing_punctuation(text)


@lru_cache(maxsize=32768)
def finish(text: str) -> str:
    """Stage 2 on a cleaned text whose fields are peeled: `finish_words` then `finish_tight`."""
    return finish_tight(finish_words(text))


@lru_cache(maxsize=32768)
def finish_words(text: str) -> str:
    """``\\text{}`` unwrapped, "or"/"and" as commas (an "and" between inequalities as ``\\land``),
    a solution family's "k \\in \\mathbb{Z}" dropped; spaces between words are still there."""
    if _PLAIN_NUMBER_RE.match(text):
        return text[1:] if text.startswith("+") else text
    for _ in range(2):  # once more after unwrapping: \text{The answer is 5 or 6}
        if _INEQUALITY_RE.search(text):  # x > -1 and x < 4: both hold (an interval), not two answers
            text = _AND_RE.sub(r" \\land ", text)
        text = _OR_RE.sub(",", text)
        text = unwrap_text_commands(text)
        text = _ANSWER_PREFIX_RE.sub("", text, count=1) or text  # \text{The answer is 5}
    text = _INTEGER_QUALIFIER_RE.sub("", text) or text  # "n \in \mathbb{Z}" alone is the answer itself
    text = IN_PREFIX_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text).strip()
    return strip_trailing_punctuation(text)


@lru_cache(maxsize=32768)
def finish_tight(text: str) -> str:
    """TeX shorthand expanded (``\\frac38``), outer braces and meaningless spaces removed."""
    if _PLAIN_NUMBER_RE.match(text):
        return text
    text = _FRAC_SHORT_RE.sub(r"\\frac{\1}{\2}", text)
    text = _FRAC_DIGIT_FIRST_RE.sub(r"\\frac{\1}", text)
    text = _SQRT_SHORT_RE.sub(r"\\sqrt{\1}", text)
    text = _shorthand_second_argument(text)
    text = strip_outer_braces(text)
    m = _WHOLE_COMMA_NUMBER_RE.match(text)
    if m:  # 10,000 and x = 10,000 but not "1, 000" or "0,100"
        text = m.group(1) + m.group(2).replace(",", "")
    text = _INNER_SPACE_RE.sub("", text)
    text = _EULER_AFTER_DIGIT_RE.sub(r"\1\\cdot \2", text)  # "4e - 5" stays 4*e - 5 when normalized again
    text = strip_outer_braces(text)
    if text.startswith("+") and len(text) > 1 and text[1].isdigit():
        text = text[1:]
    return text


def _shorthand_second_argument(text: str) -> str:
    """``\\frac{\\sqrt{2}}3`` -> ``\\frac{\\sqrt{2}}{3}``: a braced first argument, then a bare digit."""
    start = 0
    for _ in range(50):  # bounded: one \frac per round
        pos = text.find("\\frac{", start)
        if pos < 0:
            return text
        end = _group_end(text, pos + 5)
        if end < 0:
            return text
        if end < len(text) and text[end].isdigit():
            text = f"{text[:end]}{{{text[end]}}}{text[end + 1:]}"
        start = pos + 5
    return text


def normalize_answer(text: str) -> str:
    """The cosmetic normal form of an answer: `clean` then `finish` (units and degree signs stay)."""
    return finish(clean(text))
