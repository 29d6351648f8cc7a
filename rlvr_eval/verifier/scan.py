"""Scanning primitives of the format layer: the ``Found`` span type and linear-time text helpers.

Every extraction module (boxes, math spans, phrases, statements) reports what it located as a
``Found`` and scans with these helpers, so all of them share one notion of "a span of the
completion" and none of them can backtrack: only ``str.find``/``rfind`` and regexes that match
in one pass.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rlvr_eval.verifier.schema import FormatStatus

WHITESPACE = re.compile(r"\s*")
SPACES = re.compile(r"[ \t]*")
LINE_SPACES = re.compile(r"[ \t\r\f\v]*")
_MAX_ESCAPE_RUN = 64  # backslashes read before a character to decide whether it is escaped
_MAX_ESCAPED_CLOSERS = 64  # "\$" dollar signs skipped while looking for a closing "$"


class Found(NamedTuple):
    """One located answer (or the reason there is none) in a completion.

    ``start``/``end`` delimit the answer text and are set only when ``status`` is ok;
    ``marker`` is where its format marker starts, so among candidates the later one wins.
    ``parts`` holds the (start, end) spans of a multi-part answer ("\\boxed{-3} and \\boxed{8}");
    it is empty for a single answer, whose one span is ``start``/``end``.
    ``value`` is set when the span states its value in words that the answer text is read from
    ("2 million" -> "2000000", ``prose_numbers.number_phrase``); the span then shows where it stands.
    """

    status: FormatStatus
    start: int | None = None
    end: int | None = None
    marker: int = -1
    parts: tuple[tuple[int, int], ...] = ()
    value: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is FormatStatus.OK


NONE = Found(FormatStatus.NO_ANSWER)


def is_letter(c: str) -> bool:
    return c.isascii() and c.isalpha()


def skip(pattern: re.Pattern[str], text: str, pos: int, end: int | None = None) -> int:
    """Where ``pattern`` (one that also matches the empty string) stops when matched at ``pos``."""
    found = pattern.match(text, pos, len(text) if end is None else end)
    return found.end() if found else pos


def span(text: str, start: int, end: int) -> Found:
    """OK span with surrounding whitespace removed, or EMPTY if nothing is left."""
    start = skip(WHITESPACE, text, start, end)
    end = start + len(text[start:end].rstrip())
    return Found(FormatStatus.OK, start, end) if start < end else Found(FormatStatus.EMPTY)


def escaped(text: str, i: int) -> bool:
    """Whether ``text[i]`` is escaped by an odd run of backslashes (runs are read up to 64 long)."""
    run = 0
    while run < _MAX_ESCAPE_RUN and i - run > 0 and text[i - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def find_close(text: str, close: str, start: int, end: int) -> int:
    """First unescaped ``close`` in ``text[start:end]`` (``\\$`` is a dollar sign), or -1."""
    pos = text.find(close, start, end)
    for _ in range(_MAX_ESCAPED_CLOSERS):  # bounded: a flood of "\\$" is given up on, not scanned
        if pos < 0 or close[0] == "\\" or not escaped(text, pos):
            return pos
        pos = text.find(close, pos + 1, end)
    return -1


def lowered(text: str) -> str:
    """Lower-cased copy with the same offsets (U+0130 is the one character ``lower`` makes two long)."""
    return text.replace("\u0130", "i").lower()
