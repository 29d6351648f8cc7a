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

__all__ = ["all_boxed", "box_starts", "last_boxed", "last_boxed_content", "match_brace", "parse_box"]

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


def box_starts(text: str, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Start offsets (and command lengths) of ``\\boxed``/``\\fbox`` commands before ``end``, last first."""
    end = len(text) if end is None else end
    cursors = {cmd: text.rfind(cmd, 0, end) for cmd in BOX_COMMANDS}
    for _ in range(_MAX_BOX_CANDIDATES):
        cmd = "\\boxed" if cursors["\\boxed"] > cursors["\\fbox"] else "\\fbox"
        pos = cursors[cmd]
        if pos < 0:
            return
        after = pos + len(cmd)
        if not (after < len(text) and is_letter(text[after])):  # "\\fboxsep" is another command
            yield pos, len(cmd)
        cursors[cmd] = text.rfind(cmd, 0, pos)


def box_command_at(text: str, pos: int) -> int:
    """Length of the box command starting at ``pos`` (0 if there is none)."""
    for cmd in BOX_COMMANDS:
        after = pos + len(cmd)
        if text.startswith(cmd, pos) and not (after < len(text) and is_letter(text[after])):
            return len(cmd)
    return 0


def parse_box(text: str, pos: int, cmd_len: int) -> Found:
    """The box whose command starts at ``pos``: braced group, or one bare token (``\\boxed 5``).

    The returned ``Found`` has ``marker=pos``; ``box_end`` gives where the box itself ends.
    """
    j = skip(WHITESPACE, text, pos + cmd_len)
    if j >= len(text):
        return Found(FormatStatus.UNBALANCED, marker=pos)
    if text[j] == "{":
        close = match_brace(text, j)
        if close is None:
            return Found(FormatStatus.UNBALANCED, marker=pos)
        return span(text, j + 1, close)._replace(marker=pos)
    end = skip(_BARE_TOKEN, text, j)
    while end > j and text[end - 1] in ".,;":  # "\boxed 5." ends a sentence
        end -= 1
    return span(text, j, end)._replace(marker=pos)


def _is_placeholder(text: str, pos: int, box_end: int, prompt: str | None) -> bool:
    """Whether an empty box at ``pos`` echoes the instruction rather than answering."""
    word = _LAST_WORD.search(text, max(0, pos - 64), pos)
    if word and word.group(1).lower() in _PLACEHOLDER_WORDS:
        return True
    context = text[max(0, pos - 24) : box_end]
    return bool(prompt) and len(context) > box_end - pos and context in prompt  # type: ignore[operator]


def last_boxed(text: str, *, prompt: str | None = None, skip_placeholders: bool = True) -> Found:
    """The last ``\\boxed``/``\\fbox`` of ``text`` (placeholder echoes skipped) as a ``Found``."""
    skipped = 0
    for pos, cmd_len in box_starts(text):
        box = parse_box(text, pos, cmd_len)
        if box.status is FormatStatus.EMPTY and skip_placeholders and skipped < _MAX_PLACEHOLDER_SKIPS:
            brace = skip(WHITESPACE, text, pos + cmd_len)
            box_end = text.find("}", brace) + 1 if text.startswith("{", brace) else brace
            if _is_placeholder(text, pos, box_end, prompt):
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
