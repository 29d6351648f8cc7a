"""Every answer a completion states, not only its final one (for "answer present" metrics).

``stated_answers`` lists every box (and every group of boxes given together), every ``<answer>``
tag, every answer-phrase answer, every math span (whole: a number inside it is never listed on its
own; a computation on numbers also gives its result, ``2 \\times 3 = 6`` -> ``6``) and the value of
every sentence that states one ("The area is $75$ square units."). Whether any of them equals the
reference separates "the model found the answer but did not deliver it in the format" from "the
model never found it". Like extraction, it reads only the model's own turn (``turns.py``).
"""

from __future__ import annotations

from typing import NamedTuple

from rlvr_eval.verifier.answer_tags import CLOSE, OPEN
from rlvr_eval.verifier.boxes import box_group, box_starts, parse_box
from rlvr_eval.verifier.math_spans import computed_result, scan_math, trim
from rlvr_eval.verifier.phrases import answer_in, iter_phrases, last_a_line, last_gsm8k
from rlvr_eval.verifier.scan import Found, lowered
from rlvr_eval.verifier.schema import ExtractionMethod
from rlvr_eval.verifier.statements import sentences, stated_values, values_found
from rlvr_eval.verifier.turns import answer_text

__all__ = ["StatedAnswer", "stated_answers"]

_MAX_ANSWERS = 512  # per kind; a looping completion states the same things over and over
_MAX_SCAN = 200_000  # characters scanned for math spans and sentences (the end of the text)


class StatedAnswer(NamedTuple):
    """One answer a completion states: its text (parts joined by ", "), offsets and how it is stated."""

    text: str
    start: int
    end: int
    method: ExtractionMethod | str  # "boxed", "answer_tag", "answer_phrase", "final_statement", "math_span"


def _spans(found: Found) -> list[tuple[int, int]]:
    if not found.ok or found.start is None or found.end is None:
        return []
    return list(found.parts) or [(found.start, found.end)]


def _boxes(text: str) -> list[tuple[Found, str]]:
    out = []
    for count, (pos, cmd_len) in enumerate(box_starts(text)):
        if count >= _MAX_ANSWERS:
            break
        box = parse_box(text, pos, cmd_len)
        if box.ok:
            out.append((box, "boxed"))
            group = box_group(text, box)
            if group.parts:
                out.append((group, "boxed"))
    return out


def _tags(text: str, lower: str) -> list[tuple[Found, str]]:
    out = []
    close = lower.rfind(CLOSE)
    for _ in range(_MAX_ANSWERS):
        open_pos = lower.rfind(OPEN, 0, close) if close >= 0 else -1
        if open_pos < 0:
            break
        out.append((answer_in(text, lower, open_pos + len(OPEN), close), "answer_tag"))
        close = lower.rfind(CLOSE, 0, open_pos)
    return out


def _phrases(text: str, lower: str) -> list[tuple[Found, str]]:
    out: list[tuple[Found, str]] = [
        (p.found, "answer_phrase") for p in iter_phrases(text, lower, limit=_MAX_ANSWERS)
    ]
    out += [(last_gsm8k(text, lower), "answer_phrase"), (last_a_line(text, lower), "answer_phrase")]
    return out


def _math_and_sentences(text: str) -> list[tuple[Found, str]]:
    start = max(0, len(text) - _MAX_SCAN)
    out: list[tuple[Found, str]] = []
    for m in scan_math(text, start)[:_MAX_ANSWERS]:
        out.append((trim(text, m.start, m.end, in_math=True), "math_span"))
    for sentence in sentences(text, start, len(text))[-_MAX_ANSWERS:]:
        stated = stated_values(text, sentence)
        if stated:
            out.append((values_found(text, stated), "final_statement"))
    return out


def stated_answers(completion: str, *, prompt: str | None = None) -> list[StatedAnswer]:
    """Every answer ``completion`` states, in text order, each once (see the module docstring).

    >>> [a.text for a in stated_answers("So $2 \\\\times 3 = 6$, and the answer is \\\\boxed{6}.")]
    ['2 \\\\times 3 = 6', '6', '6']
    """
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    offset = 0
    if prompt and completion.startswith(prompt):
        completion, offset = completion[len(prompt) :], len(prompt)
    text, lower = answer_text(completion, lowered(completion))
    seen: dict[tuple[int, int], StatedAnswer] = {}
    for found, method in [
        *_boxes(text),
        *_tags(text, lower),
        *_phrases(text, lower),
        *_math_and_sentences(text),
    ]:
        spans = _spans(found)
        if not spans:
            continue
        candidates = [spans]
        result = [computed_result(text, s, e) for s, e in spans]
        if result != spans:
            candidates.append(result)
        for parts in candidates:
            key = (parts[0][0], parts[-1][1])
            if key not in seen:
                answer = ", ".join(text[s:e] for s, e in parts)
                seen[key] = StatedAnswer(answer, key[0] + offset, key[1] + offset, method)
    return sorted(seen.values(), key=lambda a: (a.start, a.end))
