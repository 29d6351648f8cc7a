"""Where a completion's own answer text ends: what a model generates after answering is not its answer.

Base models that keep generating after their answer start a new conversation turn ("Human: ...",
"Problem: ...", a chat end token) or write code. Such text can hold boxes and answer phrases of its
own (the next problem's), which must not override the answer already given. So, before extraction:

- the text is cut at the first end-of-turn token (``<|im_end|>``, ``<|endoftext|>``, ``<|eot_id|>``,
  ``</s>``), and at the first line that opens a new turn or a new problem *after* the first answer
  marker (a box, an answer tag, "####", an answer phrase, "A:"): a speaker ("Human:", "User:",
  "Q:", "### Instruction:"), or a problem heading, numbered or not ("Problem 2:", "**Problem 4:**",
  "Example 3.", "## Question 2", "### Exercise") -- a base model that answers and then invents the
  next exercise with its own box has still answered the first one;
- code is not where the answer is once the text states one outside code: when an answer marker
  stands outside every fenced block, all fenced blocks (```` ```python ````, ```` ```output ````)
  are blanked (replaced by spaces, so offsets stay), so a ``\boxed`` in a comment or an
  ``answer: 69`` a program printed cannot override the answer the prose gives. Fences pair up from
  the start of the text; a last fence that never closes is code to the end only when it opens after
  that answer marker (a model that forgot to close its code may still answer below it).

A later genuine answer (one in the model's own turn, outside code) still overrides an earlier one.
Strict and lenient extraction (and ``stated_answers``) all read this same text.
"""

from __future__ import annotations

import re

__all__ = ["answer_text"]

_END_TOKENS = re.compile(r"<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<\|end\|>|</s>|<｜end▁of▁sentence｜>")
_ANSWER_MARK = re.compile(r"(?:\*\*)?[ \t]*(?:is(?![a-z])|[:：]|\n)")  # after "answer": a phrase marker
_TURN_WORDS = ("Human", "User", "Problem", "Question", "Q", "Exercise", "Example", "Instruction")
_TURN_TOKENS = ("<|im_start|>", "<|user|>")
# What follows a turn word: a colon ("Problem:", "**Problem 4:**"), a number and a period
# ("Example 3."), or, in a heading, the line end ("## Question 2", "### Exercise").
_TURN_COLON = re.compile(r"(?:[ \t]+[0-9]{1,4}[a-z]?)?(?:\*\*)?[ \t]*:")
_TURN_NUMBERED = re.compile(r"[ \t]+[0-9]{1,4}[a-z]?(?:\*\*)?[ \t]*\.(?:\*\*)?(?:[ \t]|$)", re.MULTILINE)
_TURN_HEADING_END = re.compile(r"(?:[ \t]+[0-9]{1,4}[a-z]?)?(?:\*\*)?[ \t]*$", re.MULTILINE)
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


def _opens_turn(text: str, line: int, pos: int, word: str) -> bool:
    """Whether ``word`` at ``pos`` on the line after ``line`` opens a new turn or problem."""
    lead = _LINE_LEAD.fullmatch(text, line + 1, pos)
    if lead is None:
        return False
    after = pos + len(word)
    if _TURN_COLON.match(text, after) or _TURN_NUMBERED.match(text, after):
        return True
    heading = "#" in lead.group() or lead.group().endswith("**")  # "### Exercise", "**Problem 2**"
    return heading and bool(_TURN_HEADING_END.match(text, after))


def _first_turn(text: str, start: int) -> int:
    """Where the first line that opens a new turn after ``start`` begins (its newline), or -1."""
    best = min((p for p in (text.find(tok, start) for tok in _TURN_TOKENS) if p >= 0), default=len(text))
    for word in _TURN_WORDS:
        pos = text.find(word, start, best)
        for _ in range(_MAX_TRIES):
            if pos < 0:
                break
            line = text.rfind("\n", max(start, pos - 16), pos)
            if line >= 0 and _opens_turn(text, line, pos, word):
                best = line
                break
            pos = text.find(word, pos + 1, best)
    return best if best < len(text) else -1


def _code_blocks(text: str) -> tuple[list[tuple[int, int]], int]:
    """The closed fenced blocks of ``text`` (fences paired from its start) and where an unclosed
    last fence opens (-1 if none)."""
    blocks: list[tuple[int, int]] = []
    cursor = 0
    for _ in range(_MAX_FENCES):
        open_ = text.find(_FENCE, cursor)
        if open_ < 0:
            return blocks, -1
        close = text.find(_FENCE, open_ + len(_FENCE))
        if close < 0:
            return blocks, open_
        cursor = close + len(_FENCE)
        blocks.append((open_, cursor))
    return blocks, -1


def _blank(text: str, blocks: list[tuple[int, int]]) -> str:
    """``text`` with each of ``blocks`` replaced by spaces (offsets stay)."""
    pieces: list[str] = []
    cursor = 0
    for start, end in blocks:
        pieces.append(text[cursor:start])
        pieces.append(" " * (end - start))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def answer_text(text: str, lower: str) -> tuple[str, str]:
    """The part of ``text`` (and of its lower-cased copy) the model answered in.

    A prefix of ``text``, with fenced code after the first answer blanked, so offsets stay valid.
    """
    end_token = _END_TOKENS.search(text)
    if end_token:
        text, lower = text[: end_token.start()], lower[: end_token.start()]
    blocks, unclosed = _code_blocks(text) if _FENCE in text else ([], -1)
    outside = (_blank(text, blocks), _blank(lower, blocks)) if blocks else (text, lower)
    first = _first_answer(*outside)
    if first < 0:  # no answer outside code: the code (or its output) may be all there is
        return text, lower
    text, lower = outside
    if unclosed > first:
        text, lower = _blank(text, [(unclosed, len(text))]), _blank(lower, [(unclosed, len(lower))])
    turn = _first_turn(text, first + 1)
    if turn >= 0:
        text, lower = text[:turn], lower[:turn]
    return text, lower
