"""Bracket-aware splitting of normalized LaTeX: the string primitives `parse` builds typed answers from.

Everything here is a single pass over the text (no regex backtracking, no recursion), so it is safe on
adversarial input: split at top-level commas or relation signs, find the bracket pair that encloses a
whole answer, expand a ``\\pm``, recognise an infinity.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(")]}")
INF = "\\infty"
# relation tokens -> the operator they mean; "\approx" left over after `parse` peeled an approximation
# tail means "=" (x \approx 3 states the value of x)
_REL_MAP = {
    "\\leq": "<=", "\\geq": ">=", "\\neq": "!=", "\\approx": "=", "<=": "<=", ">=": ">=", "\\le": "<=",
    "\\ge": ">=", "\\ne": "!=", "\\equiv": "=", "<": "<", ">": ">", "=": "=",
}
_REL_COMMANDS = ("\\le", "\\ge", "\\ne", "\\approx", "\\equiv")
_INF_FORMS = {"\\infty": INF, "+\\infty": INF, "-\\infty": "-" + INF, "\\inf": INF, "-\\inf": "-" + INF,
              "infty": INF, "-infty": "-" + INF, "inf": INF, "-inf": "-" + INF, "+inf": INF,
              "infinity": INF, "-infinity": "-" + INF, "+infinity": INF}


def _skip_command(text: str, i: int) -> int:
    """Index after the LaTeX command starting at text[i] == '\\'."""
    j = i + 1
    while j < len(text) and text[j].isalpha():
        j += 1
    return max(j, i + 2)


def depth_scan(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (index, depth, token) for every token; `\\{`, `\\}`, `\\langle`, `\\rangle` count as brackets."""
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


def bracketed(text: str) -> tuple[str, str, str] | None:
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
    """'1\\pm\\sqrt{5}' stands for two answers, '1+\\sqrt{5}' and '1-\\sqrt{5}'; so does
    '\\frac{1\\pm\\sqrt5}{2}' (one sign, at any depth: with two, which pairs with which is unclear)."""
    out: list[str] = []
    for item in items:
        signs = [(i, tok) for i, _, tok in depth_scan(item) if tok in ("\\pm", "\\mp")]
        if len(signs) == 1:
            i, tok = signs[0]
            head, tail = item[:i], item[i + 3 :]
            first, second = ("+", "-") if tok == "\\pm" else ("-", "+")
            out += [f"{head}{first}{tail}", f"{head}{second}{tail}"]
        else:
            out.append(item)
    return tuple(out)


def infinity_sign(text: str) -> int:
    """+1 / -1 for an infinity endpoint, 0 otherwise."""
    form = _INF_FORMS.get(text.replace(" ", ""))
    if form is None:
        return 0
    return -1 if form.startswith("-") else 1
