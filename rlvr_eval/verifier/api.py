"""Public entry points of the verifier: `verify`, `is_equivalent`, and the content cache.

Every grade, reward and score in rlvr goes through `verify`, so the training reward and the
evaluation score cannot disagree. Data flows one way (docs/DESIGN.md):

1. **extract** (`extract.extract_answer`): the requested format's status gives ``format``; if it
   failed, the lenient chain still finds an answer, so ``content`` is computed (the lenient score);
2. **parse** (`parse.parse`): the answer and each reference become typed `Answer` values, once;
3. **compare** (`compare.fast_compare` in process, else `compare.symbolic_compare` in a sandbox
   worker under `timeout`: TIMEOUT on overrun, never a hang, from any thread or event loop);
4. ``correct = format_ok and content == EQUAL``; reward 1.0 / 0.0.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from rlvr_eval.verifier.answer import Answer
from rlvr_eval.verifier.compare import fast_compare, symbolic_compare
from rlvr_eval.verifier.errors import VerificationTimeout, WorkerCrashed
from rlvr_eval.verifier.extract import extract_answer
from rlvr_eval.verifier.parse import parse
from rlvr_eval.verifier.question import (
    asks_for_rounding,
    asks_in_order,
    label_expression,
    label_what_was_asked,
    restates_question,
)
from rlvr_eval.verifier.sandbox import check_timeout, run_guarded
from rlvr_eval.verifier.schema import (
    AnswerFormat,
    AnswerType,
    ContentStatus,
    EquivalenceOptions,
    Extraction,
    FormatStatus,
    LenientFallback,
    Verdict,
    VerifyRequest,
    format_ok,
)

__all__ = ["cache_clear", "cache_info", "is_equivalent", "verify", "verify_request"]

#: Longer extracted answers are not compared: no real final answer is this long, and in-process
#: string work on megabytes would defeat the timeout.
MAX_ANSWER_CHARS = 5_000
#: Answers/references longer than this are compared but not cached (keys would be large).
_MAX_CACHED_CHARS = 2_000
_CACHE_SIZE = 65_536


# --------------------------------------------------------------------------- cache


class _LRU:
    """Thread-safe LRU of (status, how decided); TIMEOUT and crashes are never stored (may pass later)."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict[Any, tuple[ContentStatus, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> tuple[ContentStatus, str] | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Any, value: tuple[ContentStatus, str]) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


_CACHE = _LRU(_CACHE_SIZE)


def cache_info() -> dict[str, int]:
    """Hits, misses and size of this process's content cache."""
    size = len(_CACHE._data)
    return {"hits": _CACHE.hits, "misses": _CACHE.misses, "size": size, "maxsize": _CACHE.maxsize}


def cache_clear() -> None:
    """Empty this process's content cache (e.g. between benchmark runs)."""
    _CACHE.clear()


# --------------------------------------------------------------------------- inputs


def _resolve_options(
    options: EquivalenceOptions | None, answer_type: AnswerType | None
) -> EquivalenceOptions:
    if options is None:
        options = EquivalenceOptions()
    elif not isinstance(options, EquivalenceOptions):
        raise TypeError(f"options must be an EquivalenceOptions, got {type(options).__name__}")
    if answer_type is not None and answer_type != options.answer_type:
        options = options.model_copy(update={"answer_type": answer_type})
    return options


def references_of(reference: str | Sequence[str], options: EquivalenceOptions) -> list[str]:
    """The alternatives to try; a multi-answer list stays one reference (all parts must be given)."""
    if isinstance(reference, str):
        return [reference]
    refs = list(reference) if isinstance(reference, (list, tuple)) else []
    if not refs or not all(isinstance(r, str) for r in refs):
        raise TypeError("reference must be a string or a non-empty list of strings")
    if options.multiple_answers and len(refs) > 1:
        return [", ".join(refs)]
    return refs



# --------------------------------------------------------------------------- content layer


def compare_parsed(
    answer: Answer, reference: Answer, options: EquivalenceOptions, budget: float, guarded: bool
) -> tuple[ContentStatus, str]:
    """Compare one parsed answer with one parsed reference; returns the status and which path decided."""
    answer = label_expression(answer, reference)  # "m + n = 61" against 61 states 61
    cacheable = len(answer.text) <= _MAX_CACHED_CHARS and len(reference.text) <= _MAX_CACHED_CHARS
    key = (answer, reference, options) if cacheable else None
    cached = _CACHE.get(key) if key is not None else None
    if cached is not None:  # the stored explanation too, so verdicts do not depend on cache state
        return cached
    try:
        verdict = fast_compare(answer, reference, options)
    except Exception:  # a fast-path bug: let the complete (sandboxed) path decide
        verdict = None
    if verdict is not None:
        status, how = (ContentStatus.EQUAL if verdict else ContentStatus.DIFFERENT), "fast path"
    else:
        how = "symbolic"
        if budget <= 0:
            return ContentStatus.TIMEOUT, "no time left for the symbolic comparison"
        try:
            if guarded:
                status = run_guarded(symbolic_compare, answer, reference, options, timeout=budget)
            else:  # inside a batch worker: the parent process enforces the deadline
                status = symbolic_compare(answer, reference, options)
        except VerificationTimeout:
            return ContentStatus.TIMEOUT, f"symbolic comparison exceeded {budget:.2g} s"
        except WorkerCrashed as exc:
            return ContentStatus.UNPARSEABLE, f"symbolic comparison failed ({exc})"
        except Exception as exc:  # a parser bug must cost one item, not the training run
            return ContentStatus.UNPARSEABLE, f"symbolic comparison raised {type(exc).__name__}"
        status = ContentStatus(status)
    if key is not None:
        _CACHE.put(key, (status, how))
    return status, how


def parse_answer_to(answer_text: str, options: EquivalenceOptions, question: str | None) -> Answer:
    """The parsed answer, read in the light of the question when there is one (`question.py`)."""
    answer = parse(answer_text, options)
    return label_what_was_asked(answer, question) if question else answer


def _compare_any(
    answer_text: str, references: list[str], options: EquivalenceOptions, timeout: float, guarded: bool,
    question: str | None = None,
) -> tuple[ContentStatus, str]:
    """EQUAL if any reference matches; the time budget is shared by all of them."""
    if len(answer_text) > MAX_ANSWER_CHARS:
        return ContentStatus.UNPARSEABLE, f"answer longer than {MAX_ANSWER_CHARS} characters"
    deadline = time.monotonic() + timeout
    try:
        answer = parse_answer_to(answer_text, options, question)
        parsed_refs = [parse(r, options) for r in references]
    except RecursionError:  # parsing is bounded; this is a guard, not a path
        return ContentStatus.UNPARSEABLE, "answer too deeply nested to parse"
    statuses: list[tuple[ContentStatus, str]] = []
    for reference in parsed_refs:
        status, how = compare_parsed(answer, reference, options, deadline - time.monotonic(), guarded)
        if status is ContentStatus.EQUAL:
            return status, how
        statuses.append((status, how))
    for wanted in (ContentStatus.DIFFERENT, ContentStatus.TIMEOUT, ContentStatus.UNPARSEABLE):
        for status, how in statuses:
            if status is wanted:
                return status, how
    return statuses[0]


# --------------------------------------------------------------------------- verify


def extract(request: VerifyRequest) -> Extraction:
    """The format layer for a request: ``format`` is the requested format's status, ``answer`` the
    lenient answer (``extract_answer(strict=False)``), exactly the two things verify needs."""
    return extract_answer(
        request.completion, answer_format=request.answer_format, strict=False,
        finish_reason=request.finish_reason, prompt=request.prompt, lenient_fallback=request.lenient_fallback,
    )


def _describe(extraction: Extraction, answer_format: str) -> str:
    return {
        FormatStatus.OK: f"{answer_format} answer found",
        FormatStatus.NO_ANSWER: f"no {answer_format} answer",
        FormatStatus.EMPTY: f"{answer_format} answer is empty",
        FormatStatus.UNBALANCED: f"{answer_format} answer is unbalanced",
        FormatStatus.TRUNCATED: "generation was truncated",
    }[extraction.format]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _content_phrase(content: ContentStatus, references: list[str], how: str) -> str:
    ref_text = ", ".join(repr(_short(r, 40)) for r in references[:4])
    if len(references) > 4:
        ref_text += ", ..."
    if len(references) > 1:
        ref_text = f"any of {ref_text}"
    return {
        ContentStatus.EQUAL: f"equals reference {ref_text} ({how})",
        ContentStatus.DIFFERENT: f"differs from reference {ref_text} ({how})",
        ContentStatus.UNPARSEABLE: f"could not be compared ({how})",
        ContentStatus.TIMEOUT: f"timed out ({how})",
        ContentStatus.NOT_CHECKED: "no answer to compare",
    }[content]


def request_options(request: VerifyRequest) -> EquivalenceOptions:
    """The request's equivalence options, with what its question adds (lists asked for in order, a
    rounded reference when it asks to round)."""
    options = _resolve_options(request.options, None)
    if request.prompt and not options.ordered and asks_in_order(request.prompt):
        options = options.model_copy(update={"ordered": True})
    if request.prompt and not options.rounded_reference and asks_for_rounding(request.prompt):
        options = options.model_copy(update={"rounded_reference": True})
    return options


def verify_request(request: VerifyRequest, *, guarded: bool = True, presence: bool = True) -> Verdict:
    """`verify` on a request. ``guarded=False`` runs the symbolic path in this process: for batch
    workers, whose parent enforces the deadline by killing them. ``presence=False`` leaves
    ``answer_present`` unset even if the request asks for it (batch workers check it in a second
    pass, so a hung presence search can never cost an item its verdict)."""
    verdict = _verdict(request, guarded)
    if presence and request.check_answer_present:
        from rlvr_eval.verifier.presence import presence_of  # presence builds on this module

        present = presence_of(request, verdict, guarded=guarded)
        verdict = verdict.model_copy(update={"answer_present": present})
    return verdict


def _verdict(request: VerifyRequest, guarded: bool) -> Verdict:
    if not isinstance(request.completion, str):
        raise TypeError(f"completion must be a string, got {type(request.completion).__name__}")
    check_timeout(request.timeout)
    options = request_options(request)
    references = references_of(request.reference, options)
    extraction = extract(request)
    answer = extraction.answer
    parts = [_describe(extraction, request.answer_format)]
    if extraction.method != "requested" and answer is not None:
        parts.append(f"fallback ({extraction.method}) found {_short(answer)!r}")
    if answer is None:
        content, how = ContentStatus.NOT_CHECKED, "nothing to compare"
    else:
        content, how = _compare_any(answer, references, options, request.timeout, guarded, request.prompt)
        restated = request.prompt and restates_question(answer, references, request.prompt)
        if content is ContentStatus.EQUAL and restated:
            content, how = ContentStatus.DIFFERENT, "answer restates an expression of the question"
    parts.append(_content_phrase(content, references, how))
    formatted = format_ok(extraction, strict=request.strict)
    correct = formatted and content is ContentStatus.EQUAL
    return Verdict(
        correct=correct,
        format=extraction.format,
        format_ok=formatted,
        extracted=answer,
        extraction_method=extraction.method,
        content=content,
        reward=1.0 if correct else 0.0,
        reason="; ".join(parts),
    )


def verify_unguarded(request: VerifyRequest) -> Verdict:
    """`verify_request` without the sandbox: the function batch workers run (top level, so it pickles);
    ``answer_present`` is left to the batch's second pass (`presence.presence_unguarded`)."""
    return verify_request(request, guarded=False, presence=False)


def verdict_without_content(request: VerifyRequest, content: ContentStatus, reason: str) -> Verdict:
    """The verdict of a request whose comparison failed elsewhere (a batch worker hung or died).

    The format layer is cheap and linear, so it is still evaluated here: a timed-out item keeps
    its true format status and extracted answer.
    """
    extraction = extract(request)
    return Verdict(
        correct=False,
        format=extraction.format,
        format_ok=format_ok(extraction, strict=request.strict),
        extracted=extraction.answer,
        extraction_method=extraction.method,
        content=content if extraction.answer is not None else ContentStatus.NOT_CHECKED,
        reward=0.0,
        reason=f"{_describe(extraction, request.answer_format)}; {reason}",
    )


def verify(
    completion: str,
    reference: str | list[str],
    *,
    answer_format: AnswerFormat = "boxed",
    strict: bool = True,
    answer_type: AnswerType | None = None,
    timeout: float = 3.0,
    finish_reason: str | None = None,
    options: EquivalenceOptions | None = None,
    prompt: str | None = None,
    lenient_fallback: LenientFallback = "none",
    check_answer_present: bool = False,
) -> Verdict:
    """Grade one completion against its reference answer (or any of a list of references).

    Args:
        completion: the model's full output.
        reference: the gold answer; a list means "any of these", or, with
            ``options.multiple_answers``, one answer made of all these parts.
        answer_format: where the completion was asked to put its answer (see `AnswerFormat`).
        strict: if False, an answer found by the lenient chain also counts as well-formatted.
        answer_type: shortcut for ``options.answer_type``.
        timeout: seconds allowed for the (sandboxed) symbolic comparison; holds in any thread.
        finish_reason: "length" marks a truncated generation (format TRUNCATED).
        options: equivalence options (tolerance, units, multiple answers, choices).
        prompt: the question; if given, an answer that merely restates one of its expressions
            is not credited.
        lenient_fallback: what the lenient chain does when the text states no answer: "none"
            (default) or "last_number" (the paper's harness: the last number in the text).
        check_answer_present: also set ``Verdict.answer_present``: is the reference stated anywhere in
            the completion (`presence.answer_present`, with its own ``timeout``)?

    Returns:
        A `Verdict` with format and content kept apart; never raises on bad completions.

    >>> verify("so the answer is $\\\\boxed{\\\\frac{1}{2}}$", "0.5").correct  # doctest: +SKIP
    True
    """
    request = VerifyRequest(
        completion, reference, answer_format, _resolve_options(options, answer_type), finish_reason, prompt,
        strict, timeout, lenient_fallback, check_answer_present,
    )
    return verify_request(request)


def is_equivalent(answer: str, reference: str, **options: Any) -> bool:
    """Content only: does `answer` (already extracted) equal `reference`?

    Keyword options are `EquivalenceOptions` fields plus ``timeout`` (seconds, default 3).
    """
    timeout = options.pop("timeout", 3.0)
    check_timeout(timeout)
    if not isinstance(answer, str) or not isinstance(reference, str):
        raise TypeError("is_equivalent takes two strings")
    resolved = EquivalenceOptions(**options)
    status, _ = _compare_any(answer, [reference], resolved, timeout, True)
    return status is ContentStatus.EQUAL
