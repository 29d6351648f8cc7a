"""Format layer: find the final answer a completion gives, and say whether it used the requested format.

The answer text is returned raw (only delimiters such as ``$...$`` and trailing sentence punctuation
are removed); making ``\\dfrac12`` and ``1/2`` comparable is ``normalize.py``'s job.

Rules, decided once here so every task grades alike:

- ``boxed``: the last ``\\boxed``/``\\fbox`` wins, whatever it holds. Its braces are matched by a
  scanner that treats ``\\{``, ``\\}`` and ``\\\\`` as literal characters. If the last box never closes
  the status is ``unbalanced`` even when an earlier box is complete (the model did not finish its
  answer; the lenient path may still find one). ``\\boxed 5`` takes one whitespace-delimited token.
- An *empty* box that is an echo of the instruction ("... within \\boxed{}.", or text that also
  appears in the prompt) is a placeholder: it is skipped, so it cannot hide an earlier real answer.
- Phrase formats: the last marker wins; the answer runs to the end of its line, a closing math
  delimiter, "I hope it is correct", or the first ". " (a sentence end; "3.5" is kept).
- ``multiple_choice``: the later of the last box and the last answer phrase that holds a label
  (A-Z or 1-9: "(B)", ``\\boxed{\\text{B}}``, "Option C"); else a bare label alone on the last line.
- Lenient chain: requested format, else the latest answer phrase / ``####`` / box, else the last number.
- ``finish_reason == "length"`` makes the status ``truncated``; the answer, if found, is still returned.

Everything is linear in the input: ``str.rfind``/``find`` and single-pass scanners, regexes only of
shapes that cannot backtrack, and a numpy brace scan for very long boxes.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from rlvr_eval.verifier.boxes import BOX_COMMANDS, last_boxed, last_boxed_content, match_brace, parse_box
from rlvr_eval.verifier.scan import (
    LINE_SPACES,
    NONE,
    SPACES,
    WHITESPACE,
    Found,
    escaped,
    find_close,
    is_letter,
    lowered,
    skip,
    span,
)
from rlvr_eval.verifier.schema import AnswerFormat, Extraction, FormatStatus

__all__ = ["Found", "extract_answer", "extract_lenient", "last_boxed", "last_boxed_content"]

Method = Literal["requested", "answer_phrase", "last_number", "none"]

_FORMATS = frozenset(get_args(AnswerFormat))
_MAX_PHRASE_TRIES = 32  # earlier occurrences of one marker we are willing to look at
_MATH_CLOSE_WINDOW = 4_000  # how far a "$$"/"\[" answer may run before its closing delimiter

_FINAL_MARKERS = ("final answer is", "final answer:", "final answer**:", "final answer：")
_COLON_MARKERS = ("answer:", "answer**:", "answer：")
_PHRASE_MARKERS = ("answer is", *_COLON_MARKERS)  # "answer is" also covers "the final answer is"
_RESTATED = ("the final answer is", "the answer is", "final answer:")
_MATH_DELIMS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_TRAILING_PUNCT = " \t\r\n.!?;,:*"

_MORE_MATH = re.compile(r"[ \t]*(?:,|;|and|or)?[ \t]*")  # "$f(n)=n$, $g(n)=1$": one answer, two parts
_MAX_MATH_PARTS = 16
_LEAD = re.compile(r"[ \t:*]*")
_SPACE_STARS = re.compile(r"[\s*]*")
_DIGIT = re.compile(r"[0-9]")
_NUMBER = re.compile(  # ASCII digits only; "−" (U+2212) is a minus sign models do write
    r"[-−]?\\[dt]?frac\{[-−]?[0-9]+\}\{[-−]?[0-9]+\}"  # \frac{1}{2}
    r"|[-−]?[0-9]+(?:,[0-9]{3}(?![0-9]))*(?:\.[0-9]+)?(?:/[0-9]+|[eE][-+]?[0-9]+)?"  # 1,000 5/6 1e-5
    r"|[-−]?\.[0-9]+"  # .5
)
_MAX_LABEL_LINE = 200  # a last line longer than this is prose, not a bare "(B)"
_NUMBER_WINDOW = 400  # a number is read from this many characters before the last digit
_LABEL_PREFIX = re.compile(
    r"(?:[\s$*({\[]|\\text(?:bf)?\{|\\math(?:rm|bf)\{|\\textbf\{|option\s|choice\s)*", re.IGNORECASE
)
_ARTICLE_FOLLOWERS = frozenset({"because", "since", "as", "and", "or", "is", "which", "with"})


# ----------------------------------------------------------------------------- phrase answers


def _trim(text: str, start: int, end: int) -> Found:
    """Peel delimiters, bold markers, a whole-answer box and trailing punctuation off an answer."""
    for _ in range(6):  # each pass removes one layer; real answers have at most a few
        s = skip(_SPACE_STARS, text, start, end)
        e = end
        if not text.endswith("...", s, e):
            e = s + len(text[s:e].rstrip(_TRAILING_PUNCT))
            if e < end and escaped(text, e):  # "\\," and "\\;" are LaTeX spacing, not punctuation
                e += 1
        for open_, close in _MATH_DELIMS:
            inner = s + len(open_)
            if text.startswith(open_, s) and e - len(close) >= inner:
                if find_close(text, close, inner, e) == e - len(close):  # one pair around everything
                    s, e = inner, e - len(close)
                break
        for cmd in BOX_COMMANDS:
            if text.startswith(cmd, s) and text[e - 1 : e] == "}":
                brace = skip(WHITESPACE, text, s + len(cmd))
                if text[brace : brace + 1] == "{" and match_brace(text, brace, e) == e - 1:
                    s, e = brace + 1, e - 1
                break
        if (s, e) == (start, end):
            break
        start, end = s, e
    return span(text, start, end)


def _more_math(text: str, delim: str, end: int, limit: int) -> int:
    """End of a list of inline math parts that starts with one ending at ``end`` ("$a$, $b$ and $c$")."""
    for _ in range(_MAX_MATH_PARTS):
        nxt = skip(_MORE_MATH, text, end, limit)
        if nxt == end or not text.startswith(delim, nxt):
            break
        close = find_close(text, "\\)" if delim == "\\(" else "$", nxt + len(delim), limit)
        if close < 0:
            break
        end = close + len(delim)
    return end


def _answer_after(text: str, lower: str, j: int) -> Found:
    """The answer following a marker that ends at ``j`` (Minerva: "... is $X$. I hope it is correct.")."""
    n, j = len(text), skip(_LEAD, text, j)
    for _ in range(2):  # "Final Answer: The final answer is $5$": skip the restated phrase
        lead = next((p for p in _RESTATED if lower.startswith(p, j)), None)
        if lead is None:
            break
        j = skip(_LEAD, text, j + len(lead))
    line_end = text.find("\n", j) % (n + 1)  # -1 (no newline) becomes n
    if skip(LINE_SPACES, text, j) >= line_end:  # "The final answer is:\n\n$$ 42 $$"
        j = skip(_LEAD, text, skip(WHITESPACE, text, j))
        line_end = text.find("\n", j) % (n + 1)
    for open_, close in _MATH_DELIMS:
        if text.startswith(open_, j):
            limit = line_end if open_ in ("$", "\\(") else min(n, j + _MATH_CLOSE_WINDOW)
            closing = find_close(text, close, j + len(open_), limit)
            if closing >= 0 and open_ in ("$$", "\\["):
                return _trim(text, j + len(open_), closing)
            if closing >= 0:
                return _trim(text, j, _more_math(text, open_, closing + len(close), limit))
            j += len(open_)  # unclosed: read the rest of the line
            break
    for cmd in BOX_COMMANDS:
        if text.startswith(cmd, j):
            box = parse_box(text, j, len(cmd))
            if box.ok:
                return box
    hope = lower.find("i hope it is correct", j, line_end)
    end = hope if hope >= 0 else line_end
    sentence = text.find(". ", j, end)  # a sentence end; "3.5" has no space after its point
    return _trim(text, j, sentence + 1 if sentence >= 0 else end)


def _marker_positions(lower: str, marker: str, limit: int) -> list[int]:
    """Up to ``limit`` word-initial occurrences of ``marker`` in ``lower``, last first."""
    out: list[int] = []
    pos = lower.rfind(marker)
    tries = 0
    while pos >= 0 and len(out) < limit and tries < 4 * limit:
        tries += 1
        if pos == 0 or not is_letter(lower[pos - 1]):
            out.append(pos)
        pos = lower.rfind(marker, 0, pos)
    return out


def _last_phrase(text: str, lower: str, markers: tuple[str, ...], *, need_ok: bool) -> Found:
    """Answer after the last of ``markers``; with ``need_ok``, the last one that yields an answer."""
    best = NONE
    for marker in markers:
        for pos in _marker_positions(lower, marker, _MAX_PHRASE_TRIES if need_ok else 1):
            if pos <= best.marker:
                break
            found = _answer_after(text, lower, pos + len(marker))._replace(marker=pos)
            if found.ok or not need_ok:
                best = found
                break
    return best


def _last_gsm8k(text: str, lower: str, *, need_ok: bool = False) -> Found:
    """``#### 42``; markdown headings ("#### Step 1") are not answers and are skipped."""
    pos = text.rfind("####")
    for _ in range(_MAX_PHRASE_TRIES):
        if pos < 0:
            break
        start = pos
        while start > max(0, pos - 8) and text[start - 1] == "#":  # bounded: "#####..." floods
            start -= 1
        j = skip(SPACES, text, pos + 4)
        k = skip(_LEAD, text, j)
        head = text[k : k + 1]  # "#### **42**" is an answer, "#### **Step 2**" is a heading
        if head and not (is_letter(head) or head == "#"):
            found = _answer_after(text, lower, j)._replace(marker=start)
            if found.ok or not need_ok:
                return found
        pos = text.rfind("####", 0, start)
    return NONE


# ----------------------------------------------------------------------------- multiple choice


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


def _choice_in(text: str, found: Found, *, wrapped: bool) -> Found | None:
    if not found.ok:
        return None
    label = _label(text, found.start, found.end, wrapped=wrapped)  # type: ignore[arg-type]
    return label._replace(marker=found.marker) if label else None


def _find_choice(text: str, lower: str, box: Found) -> Found:
    """Last labelled answer among box and answer phrases; else a bare "(B)" on the last line."""
    candidates = [_choice_in(text, box, wrapped=True)]
    for marker in _PHRASE_MARKERS:
        for pos in _marker_positions(lower, marker, _MAX_PHRASE_TRIES):
            found = _answer_after(text, lower, pos + len(marker))._replace(marker=pos)
            label = _choice_in(text, found, wrapped=False)
            if label:
                candidates.append(label)
                break
    best = max((c for c in candidates if c), key=lambda c: c.marker, default=None)
    if best:
        return best
    line_end = len(text.rstrip())
    line_start = text.rfind("\n", 0, line_end) + 1
    line = _trim(text, line_start, line_end) if line_end - line_start <= _MAX_LABEL_LINE else NONE
    if line.ok and line.start is not None and line.end is not None:
        label = _label(text, line.start, line.end, wrapped=False)
        if label and (label.start != line.start or label.end == line.end):  # "(B)" / "B" alone
            return label._replace(marker=line_start)
    return box if box.status in (FormatStatus.EMPTY, FormatStatus.UNBALANCED) else NONE


# ----------------------------------------------------------------------------- fallbacks and API


def _last_number(text: str) -> Found:
    """The last number (``-3``, ``3.5``, ``1,000``, ``5/6``, ``\\frac{1}{2}``) in ``text``."""
    hit = _DIGIT.search(text[::-1])
    if hit is None:
        return NONE
    last_digit = len(text) - 1 - hit.start()
    window = max(0, last_digit - _NUMBER_WINDOW)
    matches = list(_NUMBER.finditer(text, window, min(len(text), last_digit + 2)))
    if not matches:
        return NONE
    start, end = matches[-1].span()
    if text[start] in "-−" and start > 0 and (text[start - 1].isalnum() or text[start - 1] in ")]}"):
        start += 1  # "5-3": a minus between operands is subtraction, not a sign
    return Found(FormatStatus.OK, start, end, start)


def _requested(text: str, lower: str, answer_format: str, box: Found) -> Found:
    if answer_format in ("final_answer", "answer_colon"):
        markers = _FINAL_MARKERS if answer_format == "final_answer" else _COLON_MARKERS
        return _last_phrase(text, lower, markers, need_ok=False)
    if answer_format == "gsm8k":
        return _last_gsm8k(text, lower)
    return box if answer_format == "boxed" else _find_choice(text, lower, box)


def _fallback(text: str, lower: str, answer_format: str, box: Found) -> tuple[Found, Method]:
    """Lenient chain after the requested format failed: answer phrases (and boxes), then last number."""
    candidates = [
        _last_phrase(text, lower, _PHRASE_MARKERS, need_ok=True),
        _last_gsm8k(text, lower, need_ok=True),
        box,
    ]
    best = max((c for c in candidates if c.ok), key=lambda c: c.marker, default=None)
    if best is not None:
        if answer_format == "multiple_choice":
            best = _choice_in(text, best, wrapped=best is box) or best
        return best, "answer_phrase"
    number = _last_number(text)
    return (number, "last_number") if number.ok else (NONE, "none")


def _prepare(completion: str, answer_format: str, prompt: str | None) -> tuple[str, int]:
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str or None, got {type(prompt).__name__}")
    if answer_format not in _FORMATS:
        raise ValueError(f"unknown answer_format {answer_format!r}; expected one of {sorted(_FORMATS)}")
    if prompt and completion.startswith(prompt):  # the prompt's own "\boxed{}" is not an answer
        return completion[len(prompt) :], len(prompt)
    return completion, 0


def _extraction(text: str, offset: int, found: Found, method: Method, status: FormatStatus) -> Extraction:
    if not found.ok or found.start is None or found.end is None:
        return Extraction(answer=None, format=status, method="none")
    answer, start, end = text[found.start : found.end], found.start + offset, found.end + offset
    return Extraction(answer=answer, format=status, method=method, start=start, end=end)


def extract_answer(
    completion: str,
    *,
    answer_format: AnswerFormat = "boxed",
    strict: bool = True,
    finish_reason: str | None = None,
    prompt: str | None = None,
) -> Extraction:
    """Extract the final answer; ``format`` is always the status of the *requested* format.

    Args:
        completion: model output (may start with ``prompt``, which is then ignored).
        answer_format: where the prompt asked for the answer.
        strict: only the requested format counts; otherwise fall back like ``extract_lenient``.
        finish_reason: ``"length"`` marks the status ``truncated`` (a found answer is still returned).
        prompt: the prompt, to strip an echo of it and to recognise its ``\\boxed{}`` placeholder.

    >>> extract_answer("so $x=\\\\boxed{\\\\frac{1}{2}}$.").answer
    '\\\\frac{1}{2}'
    >>> lenient = extract_answer("The answer is 7.", strict=False)
    >>> lenient.format.value, lenient.answer, lenient.method
    ('no_answer', '7', 'answer_phrase')
    """
    text, offset = _prepare(completion, answer_format, prompt)
    lower = "" if answer_format == "boxed" and strict else lowered(text)
    # The last box serves the boxed and multiple-choice formats and the lenient chain: find it once.
    needs_box = not strict or answer_format in ("boxed", "multiple_choice")
    box = last_boxed(text, prompt=prompt) if needs_box else NONE
    found = _requested(text, lower, answer_format, box)
    status = FormatStatus.TRUNCATED if finish_reason == "length" else found.status
    if found.ok or strict:
        return _extraction(text, offset, found, "requested", status)
    fallback, method = _fallback(text, lower, answer_format, box)
    return _extraction(text, offset, fallback, method, status)


def extract_lenient(
    completion: str,
    *,
    answer_format: AnswerFormat = "boxed",
    prompt: str | None = None,
    finish_reason: str | None = None,
) -> Extraction:
    """Requested format, else the last answer phrase or box, else the last number (``method`` says which).

    Answer phrases: "the (final) answer is X", "Answer: X", "#### X"; the latest one in the text wins.
    """
    return extract_answer(
        completion, answer_format=answer_format, strict=False, finish_reason=finish_reason, prompt=prompt
    )
