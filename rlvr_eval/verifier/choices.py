"""Multiple-choice answers: the choice label (A-Z or 1-9) a completion picks, e.g. for ARC.

The later of the last box and the last answer phrase that holds a label wins ("(B)", ``\\boxed{\\text{B}}``,
"The answer is Option C: ..."); else a bare label alone on the last line ("(C)"). An article is not a
label: "the answer is A prime number" picks nothing.
"""

from __future__ import annotations

import re

from rlvr_eval.verifier.math_spans import trim
from rlvr_eval.verifier.phrases import MAX_PHRASE_TRIES, iter_phrases
from rlvr_eval.verifier.scan import NONE, Found, skip
from rlvr_eval.verifier.schema import FormatStatus

__all__ = ["choice_in", "find_choice"]

_MAX_LABEL_LINE = 200  # a last line longer than this is prose, not a bare "(B)"
_LABEL_PREFIX = re.compile(
    r"(?:[\s$*({\[]|\\text(?:bf)?\{|\\math(?:rm|bf)\{|\\textbf\{|option\s|choice\s)*", re.IGNORECASE
)
_LEAD = re.compile(r"[ \t:*]*")
_ARTICLE_FOLLOWERS = frozenset({"because", "since", "as", "and", "or", "is", "which", "with"})


def _label(text: str, start: int, end: int, *, wrapped: bool) -> Found | None:
    """The choice label (A-Z or 1-9) an answer starts with: "(B)", "\\text{B}", "Option C: ..."."""
    j = skip(_LABEL_PREFIX, text, start, end)
    if j >= end:
        return None
    c = text[j]
    if not ((c.isascii() and c.isupper()) or c in "123456789"):
        return None
    nxt = text[j + 1 : j + 2]
    if nxt and (nxt.isalnum() or nxt in "_^'"):
        return None
    wrapped = wrapped or j > start
    if not wrapped and c in "AI" and nxt == " ":  # "the answer is A prime" is an article, not a label
        word = re.match(r"[a-z]+", text[j + 2 : j + 40])
        if word and word.group() not in _ARTICLE_FOLLOWERS:
            return None
    return Found(FormatStatus.OK, j, j + 1)


def choice_in(text: str, found: Found, *, wrapped: bool) -> Found | None:
    """The label that the answer ``found`` starts with (``wrapped``: it came from a box), or None."""
    if not found.ok or found.start is None or found.end is None:
        return None
    label = _label(text, found.start, found.end, wrapped=wrapped)
    return label._replace(marker=found.marker) if label else None


def find_choice(text: str, lower: str, box: Found) -> Found:
    """Last labelled answer among the last box and the answer phrases; else a bare "(B)" on the last line."""
    candidates = [choice_in(text, box, wrapped=True)]
    for tries, phrase in enumerate(iter_phrases(text, lower), start=1):
        # The label right after the phrase ("The answer is (C) decrease in pH toward a pH of 7."), else
        # the label of the answer read there ("The answer is $\boxed{B}$").
        raw = _label(text, skip(_LEAD, text, phrase.after), min(len(text), phrase.after + 200), wrapped=False)
        label = (
            raw._replace(marker=phrase.found.marker) if raw else choice_in(text, phrase.found, wrapped=False)
        )
        if label:
            candidates.append(label)
            break
        if tries >= MAX_PHRASE_TRIES:
            break
    best = max((c for c in candidates if c), key=lambda c: c.marker, default=None)
    if best:
        return best
    line_end = len(text.rstrip())
    line_start = text.rfind("\n", 0, line_end) + 1
    line = trim(text, line_start, line_end) if line_end - line_start <= _MAX_LABEL_LINE else NONE
    if line.ok and line.start is not None and line.end is not None:
        label = _label(text, line.start, line.end, wrapped=False)
        if label and (label.start != line.start or label.end == line.end):  # "(B)" / "B" alone
            return label._replace(marker=line_start)
    return box if box.status in (FormatStatus.EMPTY, FormatStatus.UNBALANCED) else NONE
