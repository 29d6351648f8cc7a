"""Where a completion's own answer text ends: what a model generates after answering is not its answer.

Base models that keep generating after their answer start a new conversation turn ("Human: ...",
"Problem: ...", a chat end token) or write code. Such text can hold boxes and answer phrases of its
own (the next problem's), which must not override the answer already given. So, before extraction:

- the text is cut at the first end-of-turn token (``<|im_end|>``, ``<|endoftext|>``, ``<|eot_id|>``,
  ``</s>``), and at the first line that opens a new turn ("Human:", "User:", "Problem:", "Question:",
  "Q:") *after* the first answer marker (a box, an answer tag, "####", an answer phrase, "A:");
- fenced code blocks after the first answer marker are blanked (replaced by spaces, so offsets stay).

A later genuine answer (one in the model's own turn, outside code) still overrides an earlier one.
"""

from __future__ import annotations

import re

__all__ = ["answer_text"]

_END_TOKENS = re.compile(r"<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<\|end\|>|</s>|<｜end▁of▁sentence｜>")
_ANSWER_MARK = re.compile(r"(?:\*\*)?[ \t]*(?:is(?![a-z])|[:：]|\n)")  # after "answer": a phrase marker
_TURN_WORDS = ("Human", "User", "Problem", "Question", "Q")
_TURN_TOKENS = ("<|im_start|>", "<|user|>")
_TURN_COLON = re.compile(r"(?:\*\*)?[ \t]*:")
_LINE_LEAD = re.compile(r"[ \t#*]*")  # what may stand between a line start and a turn's speaker
_MAX_TRIES = 256  # occurrences of a word looked at (bounds work on floods of "answer" or "Q")
_FENCE = "```"
_MAX_FENCES = 10_000


def _first_answer(text: str, lower: str) -> int:
    """Where the first answer marker starts (a box, a tag, "####", "A:", an answer phrase), or -1."""
    found = [text.find("\\boxed"), text.find("\\fbox"), lower.find("<answer>"), text.find("####")]
    found.append(0 if text.startswith("A:") else text.find("\nA:"))
    pos = lower.find("answer")
    for _ in range(_MAX_TRIES):
        if pos < 0:
            break
        if _ANSWER_MARK.match(lower, pos + len("answer")):
            found.append(pos)
            break
        pos = lower.find("answer", pos + 1)
    return min((p for p in found if p >= 0), default=-1)


def _first_turn(text: str, start: int) -> int:
    """Where the first line that opens a new turn after ``start`` begins (its newline), or -1."""
    best = min((p for p in (text.find(tok, start) for tok in _TURN_TOKENS) if p >= 0), default=len(text))
    for word in _TURN_WORDS:
        pos = text.find(word, start, best)
        for _ in range(_MAX_TRIES):
            if pos < 0:
                break
            line = text.rfind("\n", max(start, pos - 16), pos)
            if (
                line >= 0
                and _LINE_LEAD.fullmatch(text, line + 1, pos)
                and _TURN_COLON.match(text, pos + len(word))
            ):
                best = line
                break
            pos = text.find(word, pos + 1, best)
    return best if best < len(text) else -1


def _blank_code(text: str, start: int) -> str:
    """``text`` with every fenced code block that opens after ``start`` replaced by spaces."""
    pieces: list[str] = []
    cursor = start
    for _ in range(_MAX_FENCES):
        open_ = text.find(_FENCE, cursor)
        if open_ < 0:
            break
        close = text.find(_FENCE, open_ + len(_FENCE))
        end = len(text) if close < 0 else close + len(_FENCE)
        pieces.append(text[cursor:open_])
        pieces.append(" " * (end - open_))
        cursor = end
    if not pieces:
        return text
    return text[:start] + "".join(pieces) + text[cursor:]


def answer_text(text: str, lower: str) -> tuple[str, str]:
    """The part of ``text`` (and of its lower-cased copy) the model answered in.

    A prefix of ``text``, with fenced code after the first answer blanked, so offsets stay valid.
    """
    end_token = _END_TOKENS.search(text)
    if end_token:
        text, lower = text[: end_token.start()], lower[: end_token.start()]
    first = _first_answer(text, lower)
    if first < 0:
        return text, lower
    turn = _first_turn(text, first + 1)
    if turn >= 0:
        text, lower = text[:turn], lower[:turn]
    if _FENCE in text[first:]:
        text, lower = _blank_code(text, first + 1), _blank_code(lower, first + 1)
    return text, lower
