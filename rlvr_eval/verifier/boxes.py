"""The project's one box parser: ``\\boxed{...}``, ``\\fbox{...}`` and ``\\boxed 5``.

Rules (every caller, extraction and normalization alike, reads boxes through this module):

- Braces are matched by a scanner that treats ``\\{``, ``\\}`` and ``\\\\`` as literal characters;
  a very long box switches to a numpy scan so a 1 MB box stays in milliseconds.
- ``\\boxed 5`` (no brace) takes one whitespace-delimited token, without a sentence's final ``.``.
- ``\\fboxsep`` and other commands that merely start with ``\\fbox``/``\\boxed`` are not boxes.
- An *empty* box that echoes the instruction ("... within \\boxed{}.", or text that also appears in
  the prompt) is a placeholder: the last-box search skips it, so it cannot hide a real answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rlvr_eval.verifier.scan import NONE, WHITESPACE, Found, is_letter, skip, span
from rlvr_eval.verifier.schema import FormatStatus

__all__ = [
    "all_boxed", "box_group", "box_starts", "last_boxed", "last_boxed_content", "match_brace", "parse_box",
]  # fmt: skip

BOX_COMMANDS = ("\\boxed", "\\fbox")
_MAX_BOX_CANDIDATES = 10_000  # box commands looked at, last first (bounds work on "\fboxsep" floods)
_MAX_PLACEHOLDER_SKIPS = 32
_MAX_ALL_BOXES = 100
_PY_SCAN_LIMIT = 50_000  # above this many characters the brace scan switches to numpy
# The word right before an empty box that marks it as an instruction echo ("... within \boxed{}").
_PLACEHOLDER_WORDS = frozenset({"within", "in", "inside", "into", "using", "use", "with", "as", "a", "the"})

_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)
_BARE_TOKEN = re.compile(r"[^\s$}]*")
_LAST_WORD = re.compile(r"([A-Za-z]+)[\s$]*$")

# Multi-part answers: boxes in one sentence ("\boxed{-3} and \boxed{8}", "\boxed{1}, \quad \boxed{2}").
_MAX_PARTS = 16
_MAX_GAP = 160  # characters between two boxes of one answer
_MAX_PART = 2_000  # a box longer than this is not looked for as a part before another
_PURE_GAP = re.compile(r"(?:[ \t]|\$\$?|\\[()\[\]]|\\[,;: !])*")  # nothing but spacing and math delimiters
# What ends a sentence, takes an answer back or restates it between two boxes: then the later box alone
# is the answer.
_GAP_BREAK = re.compile(
    r"\n|\.\.\.|[.!?](?:\s|$)|(?<![A-Za-z])(?:actually|wait|but|however|instead|correct(?:ion|ed|ing)?|mistake|"
    r"rather|oops|sorry|hmm|not|recheck|re-?evaluat\w*|double[- ]check\w*|verify|so|thus|therefore|hence|"
    r"recalculat\w*|let|then|finally|next|now|after|later|eventually|ultimately|first|"
    # a restatement of the same answer in another form: "\boxed{15\frac{39}{40}}, or \boxed{\frac{639}{40}}"
    r"simply|equivalently|approximately|i\.e|that is|in other words|which is)(?![A-Za-z])"
    r"|,[\s$]*(?:\\\)[\s$]*)?or(?![A-Za-z])",
    re.IGNORECASE,
)


def match_brace(text: str, open_idx: int, end: int | None = None) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``open_idx`` (escaped braces are literal), or None."""
    end = len(text) if end is None else end
    if end - open_idx > _PY_SCAN_LIMIT:
        return _match_brace_numpy(text, open_idx, end)
    depth = 0
    for m in _BRACE_TOKEN.finditer(text, open_idx, end):
        token = m.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    return None


def _match_brace_numpy(text: str, open_idx: int, end: int) -> int | None:
    """Vectorised ``match_brace`` for very long tails (a 1 MB box scans in milliseconds)."""
    import numpy as np

    codes = np.frombuffer(text[open_idx:end].encode("utf-32-le", "surrogatepass"), dtype="<u4")
    index = np.arange(codes.size)
    # A character is escaped when an odd run of backslashes precedes it ("\\{" escapes, "\\\\{" not).
    last_plain = np.maximum.accumulate(np.where(codes == ord("\\"), -1, index))
    run = np.zeros(codes.size, dtype=np.int64)
    run[1:] = index[:-1] - last_plain[:-1]
    live = run % 2 == 0
    depth = np.cumsum((live & (codes == ord("{"))).astype(np.int64) - (live & (codes == ord("}"))))
    closes = np.flatnonzero(depth == 0)  # depth is >= 1 until the matching "}" brings it back to 0
    return open_idx + int(closes[0]) if closes.size else None


def box_starts(text: str, end: int | None = None, start: int = 0) -> Iterator[tuple[int, int]]:
    """Start offsets (and command lengths) of the box commands in ``text[start:end]``, last first."""
    end = len(text) if end is None else end
    cursors = {cmd: text.rfind(cmd, start, end) for cmd in BOX_COMMANDS}
    for _ in range(_MAX_BOX_CANDIDATES):
        cmd = "\\boxed" if cursors["\\boxed"] > cursors["\\fbox"] else "\\fbox"
        pos = cursors[cmd]
        if pos < 0:
            return
        after = pos + len(cmd)
        if not (after < len(text) and is_letter(text[after])):  # "\\fboxsep" is another command
            yield pos, len(cmd)
        cursors[cmd] = text.rfind(cmd, start, pos)


def box_command_at(text: str, pos: int) -> int:
    """Length of the box command starting at ``pos`` (0 if there is none)."""
    for cmd in BOX_COMMANDS:
        after = pos + len(cmd)
        if text.startswith(cmd, pos) and not (after < len(text) and is_letter(text[after])):
            return len(cmd)
    return 0


def parse_box(text: str, pos: int, cmd_len: int) -> Found:
    """The box whose command starts at ``pos``: braced group, or one bare token (``\\boxed 5``)."""
    return _parse_box(text, pos, cmd_len)[0]


def _parse_box(text: str, pos: int, cmd_len: int) -> tuple[Found, int]:
    """``parse_box`` and where the box itself ends (after its closing brace or bare token)."""
    j = skip(WHITESPACE, text, pos + cmd_len)
    if j >= len(text):
        return Found(FormatStatus.UNBALANCED, marker=pos), len(text)
    if text[j] == "{":
        close = match_brace(text, j)
        if close is None:
            return Found(FormatStatus.UNBALANCED, marker=pos), len(text)
        return span(text, j + 1, close)._replace(marker=pos), close + 1
    end = skip(_BARE_TOKEN, text, j)
    while end > j and text[end - 1] in ".,;":  # "\boxed 5." ends a sentence
        end -= 1
    return span(text, j, end)._replace(marker=pos), end


def _is_placeholder(text: str, pos: int, box_end: int, prompt: str | None) -> bool:
    """Whether an empty box at ``pos`` echoes the instruction rather than answering."""
    word = _LAST_WORD.search(text, max(0, pos - 64), pos)
    if word and word.group(1).lower() in _PLACEHOLDER_WORDS:
        return True
    context = text[max(0, pos - 24) : box_end]
    return bool(prompt) and len(context) > box_end - pos and context in prompt  # type: ignore[operator]


def last_boxed(
    text: str,
    *,
    prompt: str | None = None,
    skip_placeholders: bool = True,
    start: int = 0,
    end: int | None = None,
) -> Found:
    """The last ``\\boxed``/``\\fbox`` of ``text[start:end]`` (placeholder echoes skipped) as a ``Found``.

    This is one box; ``box_group`` widens it to the multi-part answer it may belong to. A box that
    starts in the region but closes after ``end`` is unbalanced there.
    """
    skipped = 0
    for pos, cmd_len in box_starts(text, end):
        if pos < start:
            break
        box, box_end = _parse_box(text, pos, cmd_len)
        if end is not None and box_end > end:
            return Found(FormatStatus.UNBALANCED, marker=pos)
        may_skip = skip_placeholders and skipped < _MAX_PLACEHOLDER_SKIPS
        if box.status is FormatStatus.EMPTY and may_skip and _is_placeholder(text, pos, box_end, prompt):
            skipped += 1
            continue
        return box
    return NONE


def last_boxed_content(text: str) -> str | None:
    """Content of the last complete, non-empty box, e.g. a MATH/Minerva solution's reference answer."""
    box = last_boxed(text)
    return text[box.start : box.end] if box.ok else None


def all_boxed(text: str) -> list[str]:
    """Contents of every complete, non-empty box in order (a multi-answer item may box each answer)."""
    found = []
    for pos, cmd_len in box_starts(text):
        box = parse_box(text, pos, cmd_len)
        if box.ok:
            found.append(box)
        if len(found) >= _MAX_ALL_BOXES:
            break
    # A box nested in another ("\boxed{\boxed{4}}") is read once, as part of its outer box.
    out: list[str] = []
    covered_until = -1
    for box in sorted(found, key=lambda b: b.marker):
        if box.marker < covered_until:
            continue
        out.append(text[box.start : box.end])
        covered_until = box.end  # type: ignore[assignment]
    return out


def _box_before(text: str, pos: int) -> tuple[Found, int] | None:
    """The last box that ends before ``pos``, with its end; None if the box before contains ``pos``."""
    for start, cmd_len in box_starts(text, pos, max(0, pos - _MAX_GAP - _MAX_PART)):
        box, box_end = _parse_box(text, start, cmd_len)
        return (box, box_end) if box_end <= pos else None  # an outer box: nested boxes never group
    return None


def _next_box(text: str, pos: int) -> tuple[Found, int] | None:
    """The first box starting within ``_MAX_GAP`` after ``pos``, with its end."""
    starts = (text.find(cmd, pos, pos + _MAX_GAP + len(cmd)) for cmd in BOX_COMMANDS)
    for start in sorted(p for p in starts if p >= 0):
        length = box_command_at(text, start)
        if length:
            return _parse_box(text, start, length)
    return None


def _joins(text: str, left_end: int, right_start: int) -> bool:
    """Whether two boxes separated by ``text[left_end:right_start]`` belong to one answer."""
    return right_start - left_end <= _MAX_GAP and not _GAP_BREAK.search(text, left_end, right_start)


def box_group(text: str, anchor: Found, *, forward: bool = False) -> Found:
    """Widen the box ``anchor`` to the multi-part answer it belongs to.

    Boxes in one sentence form one answer: "\\boxed{-3} and \\boxed{8}", "\\(\\boxed{1}\\), \\(\\boxed{2}\\)",
    "the maximum is \\boxed{3}, and the minimum is \\boxed{1}". A new line, a sentence end or a word
    that takes an answer back ("First \\boxed{3}... so actually \\boxed{5}") separates them: then the
    anchor alone is the answer. The same box repeated with nothing but spacing between ("\\boxed{5}
    \\boxed{5}", a model looping) is one part. ``forward`` looks for parts after the anchor (an answer
    phrase introduces the first box) instead of before it (the last box ends the answer).
    """
    if not anchor.ok or anchor.start is None or anchor.end is None:
        return anchor
    parts = [(anchor.start, anchor.end)]
    _, edge = _parse_box(text, anchor.marker, box_command_at(text, anchor.marker))
    start_edge = anchor.marker
    for _ in range(_MAX_PARTS - 1):
        if forward:
            nxt = _next_box(text, edge)
            if nxt is None or not nxt[0].ok or not _joins(text, edge, nxt[0].marker):
                break
            box, box_end = nxt
            gap_start, gap_end, edge = edge, box.marker, box_end
        else:
            prev = _box_before(text, start_edge)
            if prev is None or not prev[0].ok or not _joins(text, prev[1], start_edge):
                break
            box, box_end = prev
            gap_start, gap_end, start_edge = box_end, start_edge, box.marker
        new = (box.start, box.end)
        neighbour = parts[-1] if forward else parts[0]
        if _PURE_GAP.fullmatch(text, gap_start, gap_end) and text[new[0] : new[1]] == text[slice(*neighbour)]:
            continue  # "\boxed{5}\boxed{5}": a repeated box is one part
        parts = [*parts, new] if forward else [new, *parts]  # type: ignore[list-item]
    if len(parts) == 1:
        return anchor
    return anchor._replace(start=parts[0][0], end=parts[-1][1], parts=tuple(parts))
