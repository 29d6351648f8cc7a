"""Math spans of a completion (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``), peeled off answers.

A dollar sign is read the way pandoc reads it, because models also write prices: an inline ``$``
opens math only when a non-space follows it, and closes only when a non-space precedes it and no
digit follows ("costs $5 and $6" is prose, "$x$" is math). ``\\$`` is a dollar sign. Inline spans do
not cross a line break; display spans may, up to ``_DISPLAY_WINDOW`` characters. The scan is one
pass over escape-aware tokens, so it is linear in the text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rlvr_eval.verifier.boxes import BOX_COMMANDS, match_brace
from rlvr_eval.verifier.scan import WHITESPACE, Found, escaped, find_close, skip, span

MATH_DELIMS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_CLOSER = {open_: close for open_, close in MATH_DELIMS}
_DISPLAY_WINDOW = 4_000  # how far a "$$"/"\[" span may run before its closing delimiter
_INLINE_WINDOW = 1_000  # an inline span longer than this is not one (an unpaired "$" instead)
_MAX_LIST_PARTS = 16
_TRAILING_PUNCT = " \t\r\n.!?;,:*"
_MATH_TRAILING_PUNCT = " \t\r\n.;,"
_TOKEN = re.compile(r"\\[\s\S]|\$\$|\$|\n")  # escape pairs first, so "\\$" and "\\\\" are one token
_SPACE_STARS = re.compile(r"[\s*]*")
# "$f(n)=n$, $g(n)=1$ and $h$": the separators of a list of inline answers
_LIST_SEPARATOR = re.compile(r"[ \t]*(?:,[ \t]*(?:and|or)?|;|and|or|\\quad|\\qquad)?[ \t]*")


class MathSpan(NamedTuple):
    """One math span: ``open`` is where its opening delimiter starts, ``close_end`` where its closer ends."""

    open: int
    start: int  # content start
    end: int  # content end
    close_end: int
    display: bool


def _dollar_opens(text: str, i: int, width: int) -> bool:
    nxt = text[i + width : i + width + 1]
    return width == 2 or (nxt != "" and not nxt.isspace())


def _dollar_closes(text: str, i: int, width: int) -> bool:
    if width == 2:
        return True
    prev, nxt = text[i - 1 : i], text[i + 1 : i + 2]
    return not prev.isspace() and not nxt.isdigit()


def scan_math(text: str, start: int = 0, end: int | None = None, *, limit: int = 100_000) -> list[MathSpan]:
    """Every math span in ``text[start:end]``, in order (at most ``limit`` tokens are read)."""
    end = len(text) if end is None else end
    spans: list[MathSpan] = []
    opener: tuple[str, int, int] | None = None  # (delimiter, where it starts, where its content starts)
    for count, m in enumerate(_TOKEN.finditer(text, start, end)):
        if count >= limit:
            break
        tok, pos = m.group(), m.start()
        if tok == "\n":
            if opener and opener[0] in ("$", "\\("):
                opener = None  # an inline span does not cross a line break
            continue
        if opener is not None:
            delim, open_pos, content = opener
            too_long = pos - content > (_INLINE_WINDOW if delim in ("$", "\\(") else _DISPLAY_WINDOW)
            if too_long:
                opener = None
            elif tok == _CLOSER[delim] and (tok[0] != "$" or _dollar_closes(text, pos, len(tok))):
                spans.append(MathSpan(open_pos, content, pos, pos + len(tok), delim in ("$$", "\\[")))
                opener = None
                continue
            else:
                continue
        if tok in ("\\(", "\\[") or (tok[0] == "$" and _dollar_opens(text, pos, len(tok))):
            opener = (tok, pos, pos + len(tok))
    return spans


def math_at(text: str, j: int, line_end: int) -> tuple[str, int, int] | None:
    """The math span opening at ``j`` as (delimiter, content start, content end), or None.

    Inline spans must close before ``line_end``; display spans within ``_DISPLAY_WINDOW``.
    """
    for open_, close in MATH_DELIMS:
        if text.startswith(open_, j):
            inner = j + len(open_)
            limit = line_end if open_ in ("$", "\\(") else min(len(text), j + _DISPLAY_WINDOW)
            closing = find_close(text, close, inner, limit)
            return (open_, inner, closing) if closing >= 0 else None
    return None


def inline_list(text: str, delim: str, first: tuple[int, int], limit: int) -> list[tuple[int, int]]:
    """Content spans of a list of inline math parts starting with ``first`` ("$a$, $b$ and $c$")."""
    parts = [first]
    close = _CLOSER[delim]
    end = first[1] + len(close)
    for _ in range(_MAX_LIST_PARTS):
        nxt = skip(_LIST_SEPARATOR, text, end, limit)
        if nxt == end or not text.startswith(delim, nxt):
            break
        inner = nxt + len(delim)
        closing = find_close(text, close, inner, limit)
        if closing < 0:
            break
        parts.append((inner, closing))
        end = closing + len(close)
    return parts


def trim(text: str, start: int, end: int, *, in_math: bool = False) -> Found:
    """Peel math delimiters, bold markers, a whole-answer box and trailing punctuation off an answer.

    Inside math (``in_math``: the span is already a math span's content) a trailing ``!`` is a
    factorial, not punctuation (``$5!$``), so it stays.
    """
    for _ in range(6):  # each pass removes one layer; real answers have at most a few
        s = skip(_SPACE_STARS, text, start, end)
        e = end
        if not text.endswith("...", s, e):
            e = s + len(text[s:e].rstrip(_MATH_TRAILING_PUNCT if in_math else _TRAILING_PUNCT))
            if e < end and escaped(text, e):  # "\\," and "\\;" are LaTeX spacing, not punctuation
                e += 1
        for open_, close in MATH_DELIMS:
            inner = s + len(open_)
            if text.startswith(open_, s) and e - len(close) >= inner:
                if find_close(text, close, inner, e) == e - len(close):  # one pair around everything
                    s, e, in_math = inner, e - len(close), True
                break
        for cmd in BOX_COMMANDS:
            if text.startswith(cmd, s) and text[e - 1 : e] == "}":
                brace = skip(WHITESPACE, text, s + len(cmd))
                if text[brace : brace + 1] == "{" and match_brace(text, brace, e) == e - 1:
                    s, e, in_math = brace + 1, e - 1, True
                break
        if (s, e) == (start, end):
            break
        start, end = s, e
    return span(text, start, end)


_COMMAND = re.compile(r"\\[A-Za-z]+")
# Commands a computation on numbers may hold ("\frac{1}{2} \times 150 = 75"); others (\sin, \phi) are no
# numbers.
_ARITHMETIC_COMMANDS = frozenset({
    "frac", "dfrac", "tfrac", "cfrac", "sqrt", "times", "cdot", "div", "pi", "left", "right", "circ", "pm",
})  # fmt: skip
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")
_UNIT_TEXT = re.compile(r"\\(?:text|mathrm)\s*\{[^{}]*\}(?:\^\{?[23]\}?)?")  # "40 \text{ cubic inches}"
_OPERATOR = re.compile(r"[-+*/^×÷·]|\\(?:times|cdot|div|frac|dfrac|tfrac|cfrac|sqrt)(?![A-Za-z])")
_RELATION_NEIGHBOURS = "<>!=:"  # "<=", ">=", "!=", "==", ":=" are not an equals sign


def _top_level_equals(text: str, start: int, end: int) -> list[int]:
    """Positions of the ``=`` signs of ``text[start:end]`` outside any brackets."""
    depth, out = 0, []
    for i in range(start, end):
        c = text[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == "=" and depth == 0:
            if text[i - 1 : i] in _RELATION_NEIGHBOURS or text[i + 1 : i + 2] in _RELATION_NEIGHBOURS:
                return []
            out.append(i)
    return out


def _numeric(text: str) -> bool:
    """Digits and operators only (commands such as ``\\frac``, ``\\times``, ``\\pi`` allowed)."""
    if any(c[1:] not in _ARITHMETIC_COMMANDS for c in _COMMAND.findall(text)):
        return False
    bare = _COMMAND.sub("", text)
    return bool(_DIGIT.search(bare)) and not _LETTER.search(bare)


def computed_result(text: str, start: int, end: int) -> tuple[int, int]:
    """A computation on numbers states its result, the part after its last ``=``.

    ``4 \\times 9 \\times 7 = 252`` states 252; so does a labelled chain whose step before the result
    is a computation on numbers (``\\text{Volume} = 20 \\times 2 = 40 \\text{ cm}^3`` states
    ``40 \\text{ cm}^3``). ``x = 5`` (a labelled answer) and ``x^2 + y^2 = 25`` (an equation as the
    answer) are kept whole, for the content layer to read; so is a result that is not a number
    (``3 = A_4``).
    """
    if end - start > 500 or "=" not in text[start:end]:
        return start, end
    equals = _top_level_equals(text, start, end)
    if not equals:
        return start, end
    step = text[(equals[-2] + 1 if len(equals) > 1 else start) : equals[-1]]
    result = text[equals[-1] + 1 : end]
    if not (_numeric(step) and _OPERATOR.search(step)) or not _numeric(_UNIT_TEXT.sub("", result)):
        return start, end  # "0 = 0" computes nothing
    found = span(text, equals[-1] + 1, end)
    return (found.start, found.end) if found.ok else (start, end)  # type: ignore[return-value]


def with_results(text: str, found: Found) -> Found:
    """``found`` with each part that is a computation on numbers reduced to its result (see above)."""
    if not found.ok or found.start is None or found.end is None:
        return found
    spans = tuple(computed_result(text, s, e) for s, e in found.parts or ((found.start, found.end),))
    return found._replace(start=spans[0][0], end=spans[-1][1], parts=spans if len(spans) > 1 else ())
