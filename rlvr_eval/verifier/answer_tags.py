"""Answer tags: ``<answer> ... </answer>``, the format the DeepSeek-R1-Zero (``r1``) template asks for.

The last complete tag pair wins (tags are matched case-insensitively). Its content is reduced to the
answer the way an answer phrase is (``phrases.answer_in``): a box inside, an answer phrase inside,
else the content without delimiters and punctuation. A tag pair that echoes the instruction
("<answer> answer here </answer>", "<answer> </answer> tags", or text that also appears in the
prompt) is a placeholder and is skipped, like an echoed ``\\boxed{}``. An opening tag that is never
closed makes the format ``unbalanced`` (the model did not finish its answer).
"""

from __future__ import annotations

from rlvr_eval.verifier.phrases import answer_in
from rlvr_eval.verifier.scan import NONE, Found
from rlvr_eval.verifier.schema import FormatStatus

__all__ = ["last_answer_tag"]

OPEN, CLOSE = "<answer>", "</answer>"
_MAX_TAGS = 32  # tag pairs looked at, last first (placeholders skipped)
_PLACEHOLDER_TEXTS = frozenset({"answer here", "your answer", "final answer", "...", "answer"})


def _is_placeholder(text: str, lower: str, open_pos: int, close_end: int, prompt: str | None) -> bool:
    content = lower[open_pos + len(OPEN) : close_end - len(CLOSE)].strip()
    if content in _PLACEHOLDER_TEXTS:
        return True
    if not content and lower.startswith(" tags", close_end):  # "within <answer> </answer> tags"
        return True
    return bool(prompt) and text[open_pos:close_end] in prompt  # type: ignore[operator]


def last_answer_tag(text: str, lower: str, *, prompt: str | None = None) -> Found:
    """The answer in the last ``<answer>...</answer>`` of ``text`` (``marker`` is the opening tag)."""
    close = lower.rfind(CLOSE)
    last_open = lower.rfind(OPEN)
    if last_open > close:  # "<answer> 12" cut off: the last answer is unfinished
        return Found(FormatStatus.UNBALANCED, marker=last_open)
    for _ in range(_MAX_TAGS):
        if close < 0:
            break
        open_pos = lower.rfind(OPEN, 0, close)
        if open_pos < 0:
            break
        close_end = close + len(CLOSE)
        if not _is_placeholder(text, lower, open_pos, close_end, prompt):
            found = answer_in(text, lower, open_pos + len(OPEN), close)
            return found._replace(marker=open_pos)
        close = lower.rfind(CLOSE, 0, open_pos)
    return NONE
