"""Format layer: find the final answer a completion gives, and say whether it used the requested format.

The answer text is returned raw (only delimiters such as ``$...$``, a wrapping box or tag, and
trailing sentence punctuation are removed); making ``\\dfrac12`` and ``1/2`` comparable is the
content layer's job. One module per job:

- ``boxes.py``: the one box parser (``\\boxed{}``, ``\\fbox{}``, ``\\boxed 5``, multi-part box groups);
- ``answer_tags.py``: ``<answer>...</answer>``;
- ``phrases.py``: "The final answer is", "Answer:", "####", "A:" and what follows them;
- ``choices.py``: choice labels for ``multiple_choice``;
- ``math_spans.py`` / ``statements.py`` / ``prose_numbers.py``: math spans, sentences and the value a
  sentence states, standalone numbers;
- ``turns.py``: text a model generates after answering (new turns, code) is not read;
- ``lenient.py``: the lenient chain (``strict=False``), documented step by step.

Rules of the requested formats, decided once here so every task grades alike:

- ``boxed``: the last ``\\boxed``/``\\fbox`` wins, with the boxes joined to it in one sentence (a
  multi-part answer, ``Extraction.parts``). If the last box never closes the status is
  ``unbalanced`` even when an earlier box is complete. An empty box that echoes the instruction
  ("... within \\boxed{}.") is skipped.
- Phrase formats: the last marker that is followed by an answer wins (``phrases.py``).
- ``answer_tag``: the last ``<answer>...</answer>``; an unclosed last tag is ``unbalanced``.
- ``multiple_choice``: the later of the last box and the last answer phrase that holds a label
  (A-Z or 1-9); else a bare label alone on the last line.
- An answer read from prose (a phrase or a statement) that is a computation on numbers
  (``1 + 2 + 4 = 7``) states its result (``7``); a box's content is returned as written.
- ``finish_reason == "length"`` makes the status ``truncated``; the answer, if found, is still returned.

Everything is linear in the input: ``str.rfind``/``find`` and single-pass scanners, regexes only of
shapes that cannot backtrack, bounded look-backs, and a numpy brace scan for very long boxes.
"""

from __future__ import annotations

from typing import get_args

from rlvr_eval.verifier.answer_tags import last_answer_tag
from rlvr_eval.verifier.boxes import box_group, last_boxed, last_boxed_content
from rlvr_eval.verifier.choices import find_choice
from rlvr_eval.verifier.lenient import LenientFallback, lenient_answer
from rlvr_eval.verifier.phrases import last_gsm8k, last_phrase
from rlvr_eval.verifier.scan import NONE, Found, lowered
from rlvr_eval.verifier.schema import AnswerFormat, Extraction, ExtractionMethod, FormatStatus
from rlvr_eval.verifier.turns import answer_text

__all__ = [
    "Found",
    "LenientFallback",
    "extract_answer",
    "extract_lenient",
    "last_boxed",
    "last_boxed_content",
]

_FORMATS = frozenset(get_args(AnswerFormat))
_FALLBACKS = frozenset(get_args(LenientFallback))


def _requested(text: str, lower: str, answer_format: str, box: Found, prompt: str | None) -> Found:
    """The answer in the requested format (status says why there is none)."""
    if answer_format == "boxed":
        return box_group(text, box)
    if answer_format == "final_answer":
        return last_phrase(text, lower, lambda kind, final: kind == "final" or (kind == "colon" and final))
    if answer_format == "answer_colon":
        return last_phrase(text, lower, lambda kind, final: kind == "colon")
    if answer_format == "gsm8k":
        return last_gsm8k(text, lower)
    if answer_format == "answer_tag":
        return last_answer_tag(text, lower, prompt=prompt)
    return find_choice(text, lower, box)


def _prepare(completion: str, answer_format: str, prompt: str | None, fallback: str) -> tuple[str, int]:
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a str, got {type(completion).__name__}")
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str or None, got {type(prompt).__name__}")
    if answer_format not in _FORMATS:
        raise ValueError(f"unknown answer_format {answer_format!r}; expected one of {sorted(_FORMATS)}")
    if fallback not in _FALLBACKS:
        raise ValueError(f"unknown lenient_fallback {fallback!r}; expected one of {sorted(_FALLBACKS)}")
    if prompt and completion.startswith(prompt):  # the prompt's own "\boxed{}" is not an answer
        return completion[len(prompt) :], len(prompt)
    return completion, 0


def _extraction(
    text: str, offset: int, found: Found, method: ExtractionMethod, status: FormatStatus
) -> Extraction:
    if not found.ok or found.start is None or found.end is None:
        return Extraction(answer=None, format=status, method="none")
    spans = found.parts or ((found.start, found.end),)
    parts = tuple(text[s:e] for s, e in spans)
    start, end = spans[0][0] + offset, spans[-1][1] + offset
    if len(parts) == 1:
        answer = parts[0] if found.value is None else found.value  # "2 million" reads as 2000000
        return Extraction(answer=answer, format=status, method=method, start=start, end=end)
    return Extraction(
        answer=", ".join(parts), format=status, method=method, start=start, end=end, parts=parts
    )


def extract_answer(
    completion: str,
    *,
    answer_format: AnswerFormat = "boxed",
    strict: bool = True,
    finish_reason: str | None = None,
    prompt: str | None = None,
    lenient_fallback: LenientFallback = "none",
) -> Extraction:
    """Extract the final answer; ``format`` is always the status of the *requested* format.

    Args:
        completion: model output (may start with ``prompt``, which is then ignored).
        answer_format: where the prompt asked for the answer.
        strict: only the requested format counts; otherwise fall back along the lenient chain
            (``lenient.py``): another explicit answer (box, answer tag, answer phrase), else the
            value the closing sentence states.
        finish_reason: ``"length"`` marks the status ``truncated`` (a found answer is still returned;
            the lenient chain then skips the closing-statement step, as a cut text has no last word).
        prompt: the prompt, to strip an echo of it and to recognise its ``\\boxed{}`` placeholder.
        lenient_fallback: ``"last_number"`` adds a last lenient step, the last standalone number of
            the text (the Qwen2.5-Math harness rule the paper's numbers use); ``"none"`` (default)
            credits only answers the text states. Ignored when ``strict``.

    >>> extract_answer("so $x=\\\\boxed{\\\\frac{1}{2}}$.").answer
    '\\\\frac{1}{2}'
    >>> extract_answer("The solutions are \\\\boxed{-3} and \\\\boxed{8}.").parts
    ('-3', '8')
    >>> lenient = extract_answer("The answer is 7.", strict=False)
    >>> lenient.format.value, lenient.answer, lenient.method
    ('no_answer', '7', 'answer_phrase')
    >>> extract_answer("Hence the interval is $t \\\\in [2, 9)$.", strict=False).answer
    't \\\\in [2, 9)'
    """
    text, offset = _prepare(completion, answer_format, prompt, lenient_fallback)
    text, lower = answer_text(text, lowered(text))
    # The last box serves the boxed and multiple-choice formats and the lenient chain: find it once.
    needs_box = not strict or answer_format in ("boxed", "multiple_choice")
    box = last_boxed(text, prompt=prompt) if needs_box else NONE
    found = _requested(text, lower, answer_format, box, prompt)
    status = FormatStatus.TRUNCATED if finish_reason == "length" else found.status
    if found.ok or strict:
        return _extraction(text, offset, found, "requested", status)
    fallback, method = lenient_answer(
        text,
        lower,
        answer_format=answer_format,
        box=box,
        prompt=prompt,
        truncated=finish_reason == "length",
        fallback=lenient_fallback,
    )
    return _extraction(text, offset, fallback, method, status)


def extract_lenient(
    completion: str,
    *,
    answer_format: AnswerFormat = "boxed",
    prompt: str | None = None,
    finish_reason: str | None = None,
    lenient_fallback: LenientFallback = "none",
) -> Extraction:
    """``extract_answer(strict=False)``: the requested format, else the lenient chain (``method`` says which).

    The chain: requested format -> the latest box / ``<answer>`` tag / answer phrase ("The final
    answer is", "Answer:", "####", "A:") -> the value the closing sentence states -> with
    ``lenient_fallback="last_number"``, the last standalone number.
    """
    return extract_answer(
        completion,
        answer_format=answer_format,
        strict=False,
        finish_reason=finish_reason,
        prompt=prompt,
        lenient_fallback=lenient_fallback,
    )
