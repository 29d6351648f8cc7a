"""`parse`: answer text -> a typed `Answer`, once. The second step of extract -> parse -> compare.

The steps, in order (each one a single bounded pass over the text):

1. `normalize.clean`: presentation removed (box, delimiters, spacing, spelling variants);
2. a multiple-choice label (``(D) Ellipse``) is read before anything can mistake it for math;
3. amounts not written in TeX are respelled (`number_forms.py`: ``\\$3.8``, ``4.5 x 10^7``,
   ``3 hours 45 minutes``, ``22^\\circ 30'``), then the fields: approximation tail, unit, degree sign
   (`fields.py`);
4. `normalize.finish`: ``\\text{}`` unwrapped, "or"/"and" as commas, TeX shorthand expanded;
5. the structure, outermost first: matrix, union, braces (a set, or set-builder notation), brackets
   (tuple or interval), a list at top-level commas, a label (``x =``), a relation, a ratio, and last
   a scalar: a `Number` literal, `Text`, or an `Expression`. Items of lists, sets, tuples and matrices
   are parsed the same way (each may have its own label and unit).

No LaTeX is turned into sympy here: scalars stay text, compared by the fast path in process and by
sympy only in the sandbox.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from rlvr_eval.verifier.answer import (
    Answer,
    AnswerList,
    Bracketed,
    Choice,
    Empty,
    Expression,
    Interval,
    IntervalUnion,
    Matrix,
    Number,
    Ratio,
    Relation,
    Scalar,
    SetOf,
    Text,
    Value,
)
from rlvr_eval.verifier.brackets import (
    INF,
    bracketed,
    depth_scan,
    expand_pm,
    find_relations,
    infinity_sign,
    split_top,
)
from rlvr_eval.verifier.normalize import IN_PREFIX_RE, all_boxed, clean, finish, finish_tight, finish_words
from rlvr_eval.verifier.parse.fields import (
    carries_unit,
    first_of_quantity_chain,
    inequality_chain,
    peel_approx,
    peel_degrees,
    peel_label,
    peel_unit,
    read_choice,
    read_clock,
)
from rlvr_eval.verifier.parse.number_forms import ordinal_word, read_compound, read_currency, read_times_ten
from rlvr_eval.verifier.schema import EquivalenceOptions

__all__ = ["parse", "parse_answer", "parse_scalar"]

MAX_PARSE_CHARS = 4000  # longer answers stay one Expression: the symbolic path (sandboxed) judges them
MAX_DEPTH = 8  # nesting of lists in tuples in sets ...; deeper text stays one Expression
MAX_ITEMS = 500
_MATRIX_RE = re.compile(
    r"^\\begin\{([pbBvV]?matrix|array|smallmatrix)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.S
)
_INT = r"-?\d{1,2000}"
_NUMBER_RES = (
    (re.compile(rf"^({_INT}(?:\.\d{{0,2000}})?|-?\.\d{{1,2000}})$"), lambda m: Fraction(m.group(1))),
    (re.compile(r"^(-?)\\frac\{(-?\d{1,500})\}\{(-?\d{1,500})\}$"),
     lambda m: (-1 if m.group(1) else 1) * Fraction(int(m.group(2)), int(m.group(3)))),
    (re.compile(r"^(-?\d{1,500})/(\d{1,500})$"), lambda m: Fraction(int(m.group(1)), int(m.group(2)))),
)
# 2\frac{1}{2} and "3 1/4": a whole number and a proper fraction
_MIXED_RES = (
    re.compile(r"^(-?)(\d{1,100})\\frac\{(\d{1,100})\}\{(\d{1,100})\}$"),
    re.compile(r"^(-?)(\d{1,100}) (\d{1,100})/(\d{1,100})$"),
)
# an amount ("40^\\circ", "-3.5 cm"), not a bracketed item ("(45^\\circ, 60^\\circ)")
_QUANTITY_START_RE = re.compile(r"^\s*-?\.?\d")
_WORDS_RE = re.compile(r"^[A-Za-z][A-Za-z ']+$")
_SET_BUILDER_SEPS = ("|", ":")
_SET_BUILDER_VAR = re.compile(r"^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:\s*\\in\s*(?:\\mathbb\{?R\}?|\\R|R))?$")
_EMPTY_SETS = frozenset({"\\emptyset", "\\{\\}", "\\{ \\}"})
# the real line, or the real line minus points: \mathbb{R}, x \in \mathbb{R}, \mathbb{R} \setminus \{-1, 2\}
_REALS_RE = re.compile(
    r"^(?:[a-zA-Z]\s*\\in\s*)?(?:\\mathbb\s*\{?\s*R\s*\}?|\\R(?![a-zA-Z])|\\Reals|ℝ)"
    r"\s*(?:(?:\\setminus|\\backslash|\\smallsetminus|-)\s*\\\{(.{1,500})\\\})?$"
    r"|^(?:\\text\s*\{)?\s*(?:all\s+)?real\s+numbers\s*\}?$",
    re.IGNORECASE,
)
# unit vectors: \mathbf{i}, \hat{j}, \vec{k}, \hat{\imath}
_UNIT_VECTOR_RE = re.compile(
    r"\\(?:mathbf|hat|vec|boldsymbol|bm)\s*(?:\{\s*\\?([ijk])(?:math)?\s*\}|\\?([ijk])(?:math)?(?![a-zA-Z]))"
)
# one term of a vector in unit-vector notation, after each unit vector became "@i" / "@j" / "@k"
_VECTOR_TERM_RE = re.compile(r"\s*([+-]?)\s*([^+\-@]{0,200}?)\s*@([ijk])\s*")


@lru_cache(maxsize=16384)
def _parse_cached(text: str, unit: str | None, choice_mode: bool, every_box: bool) -> Answer:
    if every_box and text.count("\\boxed") > 1:
        text = ", ".join(all_boxed(text)) or text  # \boxed{1}, \boxed{2}: every box is an answer
    cleaned = clean(read_currency(text))
    if not cleaned:
        return Answer(Empty())
    choice = read_choice(cleaned, choice_mode)
    if choice is not None:
        letter, option = choice
        parsed = _answer(option, unit, depth=1) if option else None
        return Answer(Choice(letter, option, parsed), text=cleaned)
    return _answer(cleaned, unit, depth=0)


def parse(text: str, options: EquivalenceOptions | None = None) -> Answer:
    """The typed answer of `text` (a completion's extracted answer or a reference)."""
    options = options or _DEFAULT
    choice_mode = options.answer_type == "choice" or bool(options.choices)
    return _parse_cached(text, options.unit, choice_mode, options.multiple_answers)


_DEFAULT = EquivalenceOptions()
parse_answer = parse  # the name `rlvr_eval` exports (``from rlvr_eval import parse_answer``)


def _answer(text: str, unit_option: str | None, depth: int) -> Answer:
    """Fields, then structure, of a cleaned text (a whole answer or one item of a list)."""
    clock = read_clock(text)
    if clock is not None:
        return Answer(Ratio(tuple(Number(str(p), Fraction(p)) for p in clock)), text=text)
    items = split_top(text, ",")
    quantities = len(items) > 1 and all(_QUANTITY_START_RE.match(x) and carries_unit(x) for x in items)
    if quantities and depth < MAX_DEPTH:
        # "40^\\circ, 100^\\circ": each item reads its own unit (stripped at once, 40,100 is a number)
        parts = tuple(_item(item.strip(), unit_option, depth) for item in items[:MAX_ITEMS])
        return Answer(AnswerList(parts), text=text)
    text, approx = peel_approx(first_of_quantity_chain(read_compound(read_times_ten(text))))
    text, unit = peel_unit(text, unit_option)
    text, degrees = peel_degrees(text, unit)
    membership = IN_PREFIX_RE.match(text) is not None  # x \in (-3, 8) is an interval, never a pair
    reals = _reals(text)
    if reals is not None:
        return Answer(reals, text=text)
    vector = _unit_vector(text, unit_option, depth)
    if vector is not None:
        return Answer(vector, text=text)
    text = finish_words(text)
    if unit is None:
        text, unit = peel_unit(text, unit_option)  # "\text{5 cm}" shows its unit only now
        if unit is not None:
            text, more_degrees = peel_degrees(text, unit)
            degrees = degrees or more_degrees
    text = finish_tight(text)
    if not text:
        return Answer(Empty(), unit=unit)
    value, label = _structure(text, unit_option, depth, membership)
    return Answer(
        value, label=label, unit=unit, approx=parse_scalar(finish(approx)) if approx else None,
        degrees=degrees, text=text,
    )


def _structure(
    text: str, unit_option: str | None, depth: int, membership: bool = False
) -> tuple[Value, str | None]:
    """The typed value of a finished text, and the label written before it (``x =``); after
    ``x \\in`` (`membership`) a pair in brackets is an interval."""
    if len(text) > MAX_PARSE_CHARS or depth > MAX_DEPTH:
        return Expression(text), None
    text = _peel_parentheses(text)
    m = _MATRIX_RE.match(text)
    if m is None and text[:1] in "([" and text[-1:] in ")]" and text[1:7] == "\\begin":
        m = _MATRIX_RE.match(text[1:-1])  # \left[\begin{array}...\end{array}\right]
    if m:
        return _matrix(m.group(2), unit_option, depth), None
    if text in _EMPTY_SETS:
        return SetOf(()), None
    union = split_top(text, "\\cup")
    if len(union) > 1:
        parts = [_interval(_structure(p, unit_option, depth + 1)[0]) for p in union]
        if all(p is not None for p in parts):
            return IntervalUnion(tuple(parts)), None  # type: ignore[arg-type]
        return Expression(text), None
    br = bracketed(text)
    if br is not None:
        return _bracketed(*br, unit_option, depth, membership), None
    items = [item for item in expand_pm(split_top(text, ",")) if item]
    conjunction = split_top(text, "\\land")
    if len(items) == 1 and len(conjunction) > 1:
        chain = inequality_chain(conjunction)
        if chain is not None:  # x > -1 and x < 4 is -1 < x < 4
            return Relation(tuple(parse_scalar(s) for s in chain[0]), chain[1]), None
        items = conjunction
    if len(items) > 1:
        return AnswerList(tuple(_item(x, unit_option, depth) for x in items[:MAX_ITEMS])), None
    if len(items) == 1 and items[0] != text:  # "\pm" expanded to one item, or "3," with a stray comma
        text = items[0]
    rest, label = peel_label(text)
    if label is not None:
        value, _ = _structure(rest, unit_option, depth + 1)
        return value, label
    sides, ops = find_relations(text)
    if ops and all(sides):
        return Relation(tuple(parse_scalar(s) for s in sides), tuple(ops)), None
    ratio = split_top(text, ":")
    if 2 <= len(ratio) <= 3 and all(ratio):
        return Ratio(tuple(parse_scalar(p) for p in ratio)), None
    ordinal = ordinal_word(text) if text[:1].isalpha() else None
    if ordinal is not None:  # "fifth", "twenty-third"
        return Number(str(ordinal), Fraction(ordinal)), None
    if _WORDS_RE.match(text) and not text.endswith(" "):
        return Text(text), None
    return parse_scalar(text), None


def _item(text: str, unit_option: str | None, depth: int) -> Answer:
    return _answer(text, unit_option, depth + 1)


def _peel_parentheses(text: str) -> str:
    """((x)) is x: redundant parentheses around one item go (without recursion)."""
    for _ in range(20):
        br = bracketed(text)
        if br is None or br[0] != "(" or br[2] != ")" or len(split_top(br[1], ",")) != 1:
            break
        text = br[1]
    return text


def _matrix(body: str, unit_option: str | None, depth: int) -> Matrix:
    rows = []
    for row in re.split(r"\\\\", body):
        cells = split_top(row, "&")
        if any(cells):
            rows.append(tuple(_item(c, unit_option, depth) for c in cells))
    return Matrix(tuple(rows))


def _bracketed(
    left: str, inner: str, right: str, unit_option: str | None, depth: int, membership: bool = False
) -> Value:
    if left == "\\{":
        condition = _set_builder_condition(inner)
        if condition is not None:  # {x | x > 2} is the set where the condition holds: the condition
            return _structure(condition, unit_option, depth + 1)[0]
        items = expand_pm(x for x in split_top(inner, ",") if x) if inner else ()
        return SetOf(tuple(_item(x, unit_option, depth) for x in items[:MAX_ITEMS]))
    parts = split_top(inner, ",") if inner else []
    if len(parts) == 2 and all(parts) and left in ("(", "[") and right in (")", "]") and (
        (left, right) not in (("(", ")"), ("[", "]")) or membership or any(infinity_sign(p) for p in parts)
    ):
        return Interval(
            "(" if infinity_sign(parts[0]) else left, parse_scalar(parts[0]),
            parse_scalar(parts[1]), ")" if infinity_sign(parts[1]) else right,
        )
    return Bracketed(tuple(_item(x, unit_option, depth) for x in parts[:MAX_ITEMS]), left, right)


def _set_builder_condition(inner: str) -> str | None:
    """The condition of ``x | x > 2`` or ``x : -1 \\le x < 3`` (one variable before the bar)."""
    for sep in _SET_BUILDER_SEPS:
        cuts = [i for i, depth, tok in depth_scan(inner) if depth == 0 and tok == sep]
        if cuts and _SET_BUILDER_VAR.match(inner[: cuts[0]].strip()):
            condition = inner[cuts[0] + 1 :].strip()
            return condition or None
    return None


def _reals(text: str) -> Interval | IntervalUnion | None:
    """The real line (``\\mathbb{R}``, "all real numbers") as an interval, and the real line minus
    points (``\\mathbb{R} \\setminus \\{-1, 2\\}``) as the union of the open intervals between them."""
    m = _REALS_RE.match(text)
    if m is None:
        return None
    low, high = parse_scalar("-" + INF), parse_scalar(INF)
    if m.group(1) is None:
        return Interval("(", low, high, ")")
    points = [parse_scalar(finish(p)) for p in split_top(m.group(1), ",")]
    if len(points) > 1:  # several points: only numbers can be put in order here
        if not all(isinstance(p, Number) for p in points):
            return None
        points.sort(key=lambda p: p.value)  # type: ignore[union-attr]
    ends = [low, *points, high]
    return IntervalUnion(tuple(Interval("(", a, b, ")") for a, b in pairwise(ends)))


def _unit_vector(text: str, unit_option: str | None, depth: int) -> Bracketed | None:
    """``4\\mathbf{i} - 3\\mathbf{j} + \\mathbf{k}`` is the vector (4, -3, 1) (a missing unit vector is a
    0 component; without a k term the vector is (i, j)); None unless the text is only such terms."""
    if "\\" not in text or _UNIT_VECTOR_RE.search(text) is None:
        return None
    marked = _UNIT_VECTOR_RE.sub(lambda m: "@" + (m.group(1) or m.group(2)), text)
    components: dict[str, str] = {}
    pos = 0
    while pos < len(marked):
        m = _VECTOR_TERM_RE.match(marked, pos)
        if m is None or m.end() == pos or m.group(3) in components or (pos > 0 and not m.group(1)):
            return None
        sign, coefficient, unit = m.groups()
        components[unit] = (sign if sign == "-" else "") + (coefficient or "1")
        pos = m.end()
    units = "ijk" if "k" in components else "ij"
    return Bracketed(tuple(_item(components.get(u, "0"), unit_option, depth) for u in units), "(", ")")


def _interval(value: Value) -> Interval | None:
    """A union's part as an interval: ``[1, 2)``, or a plain pair ``(1, 2)`` / ``[1, 2]``."""
    if isinstance(value, Interval):
        return value
    if isinstance(value, Bracketed) and len(value.items) == 2:
        lo, hi = (item.value for item in value.items)
        if isinstance(lo, (Number, Expression)) and isinstance(hi, (Number, Expression)):
            return Interval(value.left, lo, hi, value.right)
    return None


@lru_cache(maxsize=32768)
def parse_scalar(text: str) -> Scalar:
    """A `Number` when `text` is a rational literal, else an `Expression`."""
    if len(text) <= 4100:
        for regex, value in _NUMBER_RES:
            m = regex.match(text)
            if m:
                try:
                    return Number(text, value(m))
                except ZeroDivisionError:
                    return Expression(text)
        for regex in _MIXED_RES:
            m = regex.match(text)
            if m and int(m.group(3)) < int(m.group(4)):
                q = int(m.group(2)) + Fraction(int(m.group(3)), int(m.group(4)))
                return Number(text, -q if m.group(1) else q)
    return Expression(text)
