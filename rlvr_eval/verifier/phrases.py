"""Answer phrases: answers introduced by words or markers ("The final answer is", "Answer:", "#### ", "A:").

Markers (matched case-insensitively, at the start of a word):

- *final answer*: "final answer" followed by ``is``, ``:``, a dash, or a line end ("Final Answer: ...",
  "**Final Answer**: ...", "### Final Answer\\n...",
  Minerva's "The final answer is $X$. I hope it is correct.");
- *colon*: "answer:" / "answer**:" / "answer：" (the ``answer_colon`` format; also "Final Answer:");
- *answer is*: "the answer is ..." (any form not above);
- ``#### 42`` (GSM8K; markdown headings such as "#### Step 1" are not answers);
- ``A: 42`` as the last line of the text (the question/answer transcript of GSM8K few-shot prompts).

What follows a marker is reduced to the answer itself, never a prose sentence, tags or punctuation:
a box (and the boxes joined to it), an ``<answer>`` tag's content, a math span (or a list of inline
spans: "$x$ and $y$"), else the first sentence after the marker, from which the value it states is
taken ("**Final Answer**: The number of ways is \\(7\\)." gives 7), else that sentence itself when it
is short ("17 apples", "(B) 42", "yes"). A phrase whose answer is prose ("the answer is correct",
"the answer is not obvious because ...") yields nothing, so it cannot override an earlier answer; so
does an answer that is denied or only bounded ("the answer is not $3$", "Final Answer: not 14", "the
answer is at least 5"). A number-word quantity ("the answer is 2 million") gives the whole quantity
or nothing (``prose_numbers.number_phrase``), never its leading number; a quantity spelled out in words
("the answer is two and a half", "a dozen") gives its value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from rlvr_eval.verifier.boxes import box_command_at, box_group, last_boxed, parse_box
from rlvr_eval.verifier.math_spans import inline_list, math_at, trim, with_results
from rlvr_eval.verifier.prose_numbers import spelled_quantity
from rlvr_eval.verifier.scan import NONE, WHITESPACE, Found, is_letter, skip
from rlvr_eval.verifier.schema import FormatStatus
from rlvr_eval.verifier.statements import (
    NEGATION_LEAD,
    answer_values,
    closing_statement,
    leading_values,
    sentences,
    stated_values,
    values_found,
)

__all__ = ["Phrase", "answer_after", "answer_in", "iter_phrases", "last_a_line", "last_gsm8k", "last_phrase"]

MAX_PHRASE_TRIES = 32  # earlier occurrences of a marker looked at when the later ones yield nothing
_REGION = 2_000  # the answer after a marker is read from at most this many characters
_MAX_SHORT = 60  # a prose answer longer than this is a sentence, not an answer
_MAX_PROSE_WORDS = 4
_RESTATED = ("the final answer is", "the answer is", "final answer:", "final answer is")

_LEAD = re.compile(r"[ \t:*]*(?:[-—–][ \t]+)?")
_SPACES = re.compile(r"[ \t]*")
_LINE_SPACES = re.compile(r"[ \t\r\f\v]*")
_AFTER_FINAL = re.compile(r"[*_ \t]*(?:(?P<sep>[:：]|[-—–](?=\s)|is(?![A-Za-z]))|(?=\n|$))")
_AFTER_ANSWER = re.compile(r"(?:\*\*)?[ \t]*(?P<sep>[:：])|[ \t]+(?P<is>is)(?![A-Za-z])")
_NOT_AN_ANSWER_WORD = re.compile(
    r"correct|incorrect|wrong|right|clear|obvious|simple|straightforward|below|above|this|that|not|unknown|"
    r"here|there|it|follows|found|same|different",
    re.IGNORECASE,
)
_NOT_AN_ANSWER_START = re.compile(  # how prose after "the answer is" starts when it is no answer
    r"(?:correct|incorrect|wrong|right|clear|obvious|simple|straightforward|as follows|the following|"
    r"follows|below|above|given|not|this|that|therefore|found|calculated|determined|to|in|a|an|the|"
    r"still|also|then|now|yes or no|unknown|indeed|actually|probably|likely|it|we|i|you|there|here)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_TEXT_GROUP = re.compile(r"\\(?:text|textrm|mathrm|mbox|textbf)\s*\{[^{}]*\}")
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z{])[A-Za-z]{2,}")
_DIGIT_OR_MATH = re.compile(r"[0-9$\\]")
_TAG_OPEN, _TAG_CLOSE = "<answer>", "</answer>"


def _line_end(text: str, j: int, limit: int) -> int:
    end = text.find("\n", j, limit)
    return limit if end < 0 else end


def _prose_answer(text: str, lower: str, start: int, end: int) -> Found:
    """The answer in the sentence after a marker.

    A sentence that starts with its answer gives that value, without the explanation after it
    ("144 square units, since each side is 12" gives 144); a sentence that leads up to it gives the
    value it states ("The number of ways is \\(7\\)." gives 7) or, failing that, its one value
    ("Verna received $7.00 in change."). Short answers without sentence words are read as written
    ("x = 4", "(B) 42", "yes"). A long sentence, or prose that is no answer ("correct", "not obvious
    because ..."), gives nothing.
    """
    first = next(iter(sentences(text, start, end)), None)
    if first is None:
        return Found(FormatStatus.EMPTY)
    hope = lower.find("i hope it is correct", start, first.end)
    stop = hope if hope >= 0 else first.end
    found = trim(text, start, stop)
    if not found.ok or found.start is None or found.end is None:
        return found
    answer = text[found.start : found.end]
    if _PROSE_WORD.search(_TEXT_GROUP.sub("", answer)):  # "\\frac{270}7\\text{ degrees}" is no sentence
        region = next(iter(sentences(text, start, stop)), first)
        numeric = answer_values(text, region)
        tried = False
        for stated in (  # "9 squared, which is 81": a leading number that is no quantity gives way
            leading_values(text, region, found.start),
            stated_values(text, region),
            numeric if len(numeric) == 1 else (),
        ):
            if stated:
                read = values_found(text, stated)
                if read.ok:
                    return read
                tried = True
        if tried or region.values:  # "9 remainder 2", "is not 2": no one value, never the sentence
            return Found(FormatStatus.EMPTY)
    spelled = spelled_quantity(answer) if not _DIGIT_OR_MATH.search(answer) else None
    if spelled is not None:  # "the answer is two and a half": 2.5
        return found._replace(value=spelled)
    if len(answer) > _MAX_SHORT or (not _DIGIT_OR_MATH.search(answer) and _is_prose(answer)):
        return Found(FormatStatus.EMPTY)
    return found


def _is_prose(answer: str) -> bool:
    """Words that are no answer: "correct", "not obvious", "the following", more than a few words."""
    words = answer.split()
    if len(words) == 1:
        return bool(_NOT_AN_ANSWER_WORD.fullmatch(answer))
    return len(words) > _MAX_PROSE_WORDS or bool(_NOT_AN_ANSWER_START.match(answer))


def answer_after(text: str, lower: str, j: int, limit: int | None = None) -> Found:
    """The answer following a marker that ends at ``j`` (read no further than ``limit``)."""
    limit = min(len(text), j + _REGION) if limit is None else min(limit, j + _REGION)
    j = skip(_LEAD, text, j, limit)
    for _ in range(2):  # "Final Answer: The final answer is $5$": skip the restated phrase
        lead = next((p for p in _RESTATED if lower.startswith(p, j)), None)
        if lead is None:
            break
        j = skip(_LEAD, text, j + len(lead), limit)
    line_end = _line_end(text, j, limit)
    if skip(_LINE_SPACES, text, j, limit) >= line_end:  # "The final answer is:\n\n$$ 42 $$"
        j = skip(_LEAD, text, skip(WHITESPACE, text, j, limit), limit)
        line_end = _line_end(text, j, limit)
    if j >= limit or NEGATION_LEAD.match(text, j, limit):  # "the answer is not $\\frac13$", "at least 5"
        return Found(FormatStatus.EMPTY)
    if lower.startswith(_TAG_OPEN, j):  # "Answer:<answer>72</answer>"
        close = lower.find(_TAG_CLOSE, j, limit)
        if close >= 0:
            return answer_in(text, lower, j + len(_TAG_OPEN), close)
    math = math_at(text, j, line_end)
    if math is None and text.startswith("$", j) and not text.startswith("$$", j):
        j += 1  # "#### $18": an unpaired dollar is a currency sign
    elif math is not None:
        delim, inner, closing = math
        if delim in ("$", "\\("):
            listed = [
                trim(text, s, e, in_math=True)
                for s, e in inline_list(text, delim, (inner, closing), line_end)
            ]
            parts = tuple(
                (f.start, f.end) for f in listed if f.ok and f.start is not None and f.end is not None
            )
            if len(parts) > 1:  # "$x$ and $y$": one answer in two parts
                return with_results(text, Found(FormatStatus.OK, parts[0][0], parts[-1][1], parts=parts))
        return with_results(text, trim(text, j, closing + len(delim)))
    cmd_len = box_command_at(text, j)
    if cmd_len:
        box = parse_box(text, j, cmd_len)
        if box.ok:
            return box_group(text, box, forward=True)
    return _prose_answer(text, lower, j, line_end)


def answer_in(text: str, lower: str, start: int, end: int) -> Found:
    """The answer inside a region that holds nothing else, such as an ``<answer>`` tag's content.

    A box or an answer phrase inside the region wins ("<answer>The answer is \\boxed{5}</answer>");
    else the region is read like the text after an answer phrase: a math span, the value its sentence
    states, or the short region itself ("<answer> 72. </answer>"); a region of several sentences
    gives the value its closing sentence states.
    """
    box = last_boxed(text, start=start, end=end)
    if box.ok:
        return box_group(text, box)
    phrase = last_phrase(text, lower, lambda kind, final: True, start=start, end=end)
    if phrase.ok:
        return phrase
    j = skip(WHITESPACE, text, max(start, end - _REGION), end)  # a longer region is prose: read its end
    if len(sentences(text, j, end)) > 1:
        return closing_statement(text, end, start=j)._replace(marker=-1)
    return answer_after(text, lower, j, end)


# ----------------------------------------------------------------------------- marker search


def _marker_kind(text: str, lower: str, pos: int) -> tuple[str, int] | None:
    """Classify the word "answer" at ``pos``: ("final" | "colon" | "is", end of the marker), or None."""
    if pos > 0 and is_letter(lower[pos - 1]):
        return None  # "reanswer"
    after = pos + len("answer")
    if lower.endswith("final ", 0, pos) or lower.endswith("final**", 0, pos):
        m = _AFTER_FINAL.match(text, after)
        if m:
            sep = m.group("sep")
            return ("colon" if sep in (":", "：") else "final"), m.end()
    m = _AFTER_ANSWER.match(text, after)
    if m is None:
        return None
    return ("colon" if m.group("sep") else "is"), m.end()


class Phrase(NamedTuple):
    """One answer phrase: its kind, the answer after it (``marker`` set) and where that text starts."""

    kind: str  # "final" ("final answer is", "### Final Answer"), "colon" ("Answer:"), "is" ("the answer is")
    found: Found
    after: int


def iter_phrases(
    text: str, lower: str, *, start: int = 0, end: int | None = None, limit: int = 4 * MAX_PHRASE_TRIES
) -> Iterator[Phrase]:
    """Every answer phrase in ``text[start:end]``, last first.

    "Final Answer:" is of kind "colon" with its ``marker`` at "final". At most ``limit`` occurrences
    of the word "answer" are looked at.
    """
    end = len(text) if end is None else end
    pos = lower.rfind("answer", start, end)
    for _ in range(limit):
        if pos < 0:
            return
        kind = _marker_kind(text, lower, pos)
        if kind is not None:
            final = lower.rfind("final", max(start, pos - 8), pos) if kind[0] != "is" else -1
            found = answer_after(text, lower, kind[1], end)
            yield Phrase(kind[0], found._replace(marker=final if final >= 0 else pos), kind[1])
        pos = lower.rfind("answer", start, pos)


def last_phrase(
    text: str,
    lower: str,
    accepts: Callable[[str, bool], bool],
    *,
    start: int = 0,
    end: int | None = None,
) -> Found:
    """The answer after the last phrase that ``accepts(kind, starts_with_final)`` and that yields one.

    Earlier phrases are tried (up to ``MAX_PHRASE_TRIES``) when a later one is followed by no answer
    ("... the answer is correct."); if none yields one, the last accepted phrase's status (EMPTY).
    """
    last: Found = NONE
    tries = 0
    for kind, found, _ in iter_phrases(text, lower, start=start, end=end):
        if not accepts(kind, lower.startswith("final", found.marker)):
            continue
        if found.ok:
            return found
        last = last if last is not NONE else found
        tries += 1
        if tries >= MAX_PHRASE_TRIES:
            break
    return last


def last_gsm8k(text: str, lower: str) -> Found:
    """``#### 42``; markdown headings ("#### Step 1") are not answers and are skipped."""
    pos = text.rfind("####")
    last: Found = NONE
    for _ in range(MAX_PHRASE_TRIES):
        if pos < 0:
            break
        start = pos
        while start > max(0, pos - 8) and text[start - 1] == "#":  # bounded: "#####..." floods
            start -= 1
        j = skip(_SPACES, text, pos + 4)
        k = skip(_LEAD, text, j)
        head = text[k : k + 1]  # "#### **42**" is an answer, "#### **Step 2**" is a heading
        if head and not (is_letter(head) or head == "#"):
            found = answer_after(text, lower, j)._replace(marker=start)
            if found.ok:
                return found
            last = last if last is not NONE else found
        pos = text.rfind("####", 0, start)
    return last


def last_a_line(text: str, lower: str, end: int | None = None) -> Found:
    """``A: 42`` on the last non-empty line (a Q/A transcript's answer line)."""
    end = len(text.rstrip()) if end is None else len(text[:end].rstrip())
    line_start = text.rfind("\n", 0, end) + 1
    j = skip(_SPACES, text, line_start, end)
    if not lower.startswith("a:", j):
        return NONE
    return answer_after(text, lower, j + 2, end)._replace(marker=line_start)
