"""Split compound answers into their parts, by pure bracket-aware string scanning.

Shapes: matrices, bracketed sequences (a tuple, an ordered pair or an interval: which one is decided when
comparing, from both sides), sets ``\\{...\\}``, bare comma lists (order-free answer lists), unions of
intervals, relations (equations and inequality chains) and scalars. Inequalities in one variable convert
to intervals so ``x>2`` can meet ``(2,\\infty)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(")]}")
_MATRIX_RE = re.compile(
    r"^\\begin\{([pbBvV]?matrix|array|smallmatrix)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.S
)
_REL_TOKENS = (
    ("\\leq", "<="), ("\\geq", ">="), ("\\neq", "!="), ("\\approx", "="), ("<=", "<="), (">=", ">="),
    ("\\le", "<="), ("\\ge", ">="), ("\\ne", "!="), ("\\equiv", "="),
    ("<", "<"), (">", ">"), ("=", "="),
)
_REL_COMMANDS = ("\\le", "\\ge", "\\ne", "\\approx", "\\equiv")
INF = "\\infty"
MAX_PAREN_DEPTH = 20
_INF_FORMS = {"\\infty": INF, "+\\infty": INF, "-\\infty": "-" + INF, "\\inf": INF, "-\\inf": "-" + INF,
              "infty": INF, "-infty": "-" + INF, "inf": INF, "-inf": "-" + INF, "+inf": INF,
              "infinity": INF, "-infinity": "-" + INF, "+infinity": INF}


@dataclass(frozen=True)
class Shape:
    """A parsed answer: `kind` plus its parts.

    kinds: scalar (items = (text,)), seq (bracketed, with `left`/`right` bracket), set, list (bare commas),
    matrix (items = rows of cells), union (items = Shapes of kind seq), relation (items = sides,
    ops = operators).
    """

    kind: str
    items: tuple = ()
    left: str = ""
    right: str = ""
    ops: tuple[str, ...] = ()


def _skip_command(text: str, i: int) -> int:
    """Index after the LaTeX command starting at text[i] == '\\'."""
    j = i + 1
    while j < len(text) and text[j].isalpha():
        j += 1
    return max(j, i + 2)


def depth_scan(text: str):
    """Yield (index, depth, token) for each top-level-relevant token; `\\{` and `\\}` count as brackets."""
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            j = _skip_command(text, i)
            tok = text[i:j]
            if tok in ("\\{", "\\langle"):
                depth += 1
            elif tok in ("\\}", "\\rangle"):
                depth -= 1
            yield i, depth, tok
            i = j
            continue
        if c in OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth -= 1
        yield i, depth, c
        i += 1


def split_top(text: str, sep: str) -> list[str]:
    """Split `text` at top-level occurrences of the token `sep` (',' or '\\cup' or '&' ...)."""
    parts, start = [], 0
    for i, depth, tok in depth_scan(text):
        if depth == 0 and tok == sep:
            parts.append(text[start:i])
            start = i + len(tok)
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _matching_close(text: str) -> int:
    """Index of the token that closes the bracket opening `text`, or -1."""
    for i, depth, tok in depth_scan(text):
        if depth == 0:
            return i if i > 0 or tok not in OPENERS else -1
    return -1


def _bracketed(text: str) -> tuple[str, str, str] | None:
    """(left, inner, right) when one bracket pair encloses all of `text` (mixed pairs allowed: [1,2))."""
    if text.startswith("\\{") and text.endswith("\\}"):
        left, right, inner, width = "\\{", "\\}", text[2:-2], 2
    elif text.startswith("\\langle") and text.endswith("\\rangle"):
        left, right, inner, width = "(", ")", text[7:-7], 7
    elif len(text) >= 2 and text[0] in "([" and text[-1] in ")]":
        left, right, inner, width = text[0], text[-1], text[1:-1], 1
    else:
        return None
    if _matching_close(text) != len(text) - width:
        return None
    return left, inner.strip(), right


_REL_MAP = dict(_REL_TOKENS)


def find_relations(text: str) -> tuple[list[str], list[str]]:
    """Split at top-level relation operators: 'a<x\\leq b' -> (['a','x','b'], ['<','<='])."""
    if not any(c in text for c in "<>=") and not any(t in text for t in _REL_COMMANDS):
        return [text.strip()], []
    sides, ops, start = [], [], 0
    skip_to = -1
    for i, depth, tok in depth_scan(text):
        if i < skip_to or depth != 0 or tok not in _REL_MAP:
            continue
        latex = tok
        if tok in "<>" and text.startswith("=", i + 1):
            latex = tok + "="
        sides.append(text[start:i].strip())
        ops.append(_REL_MAP[latex])
        start = i + len(latex)
        skip_to = start
    sides.append(text[start:].strip())
    return sides, ops


def expand_pm(items: Iterable[str]) -> tuple[str, ...]:
    """'1\\pm\\sqrt{5}' stands for two answers: '1+\\sqrt{5}' and '1-\\sqrt{5}' (one top-level sign only)."""
    out: list[str] = []
    for item in items:
        signs = [i for i, depth, tok in depth_scan(item) if depth == 0 and tok in ("\\pm", "\\mp")]
        if len(signs) == 1:
            i = signs[0]
            head, tail = item[:i], item[i + 3 :]
            out += [f"{head}+{tail}", f"{head}-{tail}"]
        else:
            out.append(item)
    return tuple(out)


def parse_shape(text: str) -> Shape:
    """The shape of a normalized answer."""
    for _ in range(MAX_PAREN_DEPTH):  # ((x)) is x: peel redundant parentheses without recursion
        br = _bracketed(text)
        if br is None or br[0] != "(" or br[2] != ")" or len(split_top(br[1], ",")) != 1:
            break
        text = br[1]
    m = _MATRIX_RE.match(text)
    if m is None and text[:1] in "([" and text[-1:] in ")]" and text[1:7] == "\\begin":
        m = _MATRIX_RE.match(text[1:-1])  # \left[\begin{array}...\end{array}\right]
    if m:
        cells = (split_top(row, "&") for row in re.split(r"\\\\", m.group(2)))
        rows = [row for row in cells if any(row)]
        return Shape("matrix", tuple(tuple(r) for r in rows))
    union = split_top(text, "\\cup")
    if len(union) > 1:
        return Shape("union", tuple(parse_shape(p) for p in union))
    br = _bracketed(text)
    if br is not None:
        left, inner, right = br
        items = tuple(split_top(inner, ",")) if inner else ()
        if left == "\\{":
            return Shape("set", expand_pm(items))
        return Shape("seq", items, left, right)
    if text in ("\\emptyset", "\\{\\}"):
        return Shape("set", ())
    items = expand_pm(split_top(text, ","))
    if len(items) > 1:
        return Shape("list", items)
    sides, ops = find_relations(text)
    if ops:
        return Shape("relation", tuple(sides), ops=tuple(ops))
    return Shape("scalar", (text,))


def infinity_sign(text: str) -> int:
    """+1 / -1 for an infinity endpoint, 0 otherwise."""
    form = _INF_FORMS.get(text.replace(" ", ""))
    if form is None:
        return 0
    return -1 if form.startswith("-") else 1


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def relation_to_interval(shape: Shape, is_variable) -> tuple[str, str, str, str] | None:
    """'x>2' -> ('(', '2', '\\infty', ')'); 'a<x\\leq b' -> ('(', 'a', 'b', ']'); None otherwise.

    `is_variable(text)` says whether a side is the (single) variable.
    """
    sides, ops = list(shape.items), list(shape.ops)
    if any(op in ("=", "!=") for op in ops):
        return None
    if len(ops) == 1:
        if is_variable(sides[1]) and not is_variable(sides[0]):
            sides, ops = [sides[1], sides[0]], [_FLIP[ops[0]]]
        if not is_variable(sides[0]):
            return None
        op, bound = ops[0], sides[1]
        if op in (">", ">="):
            return ("(" if op == ">" else "[", bound, INF, ")")
        return ("(", "-" + INF, bound, ")" if op == "<" else "]")
    if len(ops) == 2 and is_variable(sides[1]):
        if ops[0] in (">", ">=") and ops[1] in (">", ">="):
            sides, ops = sides[::-1], [_FLIP[ops[1]], _FLIP[ops[0]]]
        if ops[0] in ("<", "<=") and ops[1] in ("<", "<="):
            return ("(" if ops[0] == "<" else "[", sides[0], sides[2], ")" if ops[1] == "<" else "]")
    return None


_LABEL_RE = re.compile(r"^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+|[a-zA-Z]+(?:\([a-zA-Z]\))?)$")


def split_label(item: str) -> tuple[str | None, str]:
    """'w=16' -> ('w', '16'); '16' -> (None, '16'). Only a simple name counts as a label."""
    sides, ops = find_relations(item)
    if ops == ["="] and _LABEL_RE.match(sides[0]):
        return sides[0], sides[1]
    return None, item
