"""Public entry points of the verifier: `verify`, `is_equivalent`, and the content cache.

Every grade, reward and score in rlvr goes through `verify`, so the training reward and the
evaluation score cannot disagree. The steps (docs/DESIGN.md):

1. strict extraction of the requested format gives `format`; if it failed, the lenient fallback
   still finds an answer so `content` is computed (the lenient score);
2. `content` = the bounded in-process fast path, else the symbolic path in a sandbox worker
   under `timeout` (TIMEOUT on overrun, never a hang, from any thread or event loop);
3. ``correct = format_ok and content == EQUAL``; reward 1.0 / 0.0.
"""

from __future__ import annotations

import importlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from rlvr_eval.verifier.errors import VerificationTimeout, WorkerCrashed
from rlvr_eval.verifier.sandbox import run_guarded
from rlvr_eval.verifier.schema import (
    AnswerFormat,
    AnswerType,
    ContentStatus,
    EquivalenceOptions,
    Extraction,
    FormatStatus,
    Verdict,
)

__all__ = ["cache_clear", "cache_info", "is_equivalent", "verify", "verify_unguarded"]

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


# --------------------------------------------------------------------------- helpers


def _extract() -> ModuleType:
    # Resolved at call time (cheap after the first import) so tests can substitute the layers.
    return importlib.import_module("rlvr_eval.verifier.extract")


def _equivalence() -> ModuleType:
    return importlib.import_module("rlvr_eval.verifier.equivalence")


def _normalize(text: str, options: EquivalenceOptions) -> str:
    return importlib.import_module("rlvr_eval.verifier.normalize").normalize_answer(text, options.unit)


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


def _references(reference: str | Sequence[str], options: EquivalenceOptions) -> list[str]:
    """The alternatives to try; a multi-answer list stays one reference (all parts must be given)."""
    if isinstance(reference, str):
        return [reference]
    refs = list(reference) if isinstance(reference, (list, tuple)) else []
    if not refs or not all(isinstance(r, str) for r in refs):
        raise TypeError("reference must be a string or a non-empty list of strings")
    if options.multiple_answers and len(refs) > 1:
        return [", ".join(refs)]
    return refs


def _check_timeout(timeout: float) -> None:
    if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


# --------------------------------------------------------------------------- content layer


def _compare_one(
    answer: str, reference: str, options: EquivalenceOptions, budget: float, guarded: bool
) -> tuple[ContentStatus, str]:
    """Compare one answer with one reference; returns the status and how it was decided."""
    if len(answer) > MAX_ANSWER_CHARS:
        return ContentStatus.UNPARSEABLE, f"answer longer than {MAX_ANSWER_CHARS} characters"
    key = None
    if len(answer) <= _MAX_CACHED_CHARS and len(reference) <= _MAX_CACHED_CHARS:
        try:
            key = (_normalize(answer, options), _normalize(reference, options), options)
        except Exception:  # never let a normalization bug crash a grade: just skip the cache
            key = None
        cached = _CACHE.get(key) if key is not None else None
        if cached is not None:  # the stored explanation too, so verdicts do not depend on cache state
            return cached
    equivalence = _equivalence()
    try:
        status = equivalence.fast_compare(answer, reference, options)
    except Exception:  # a fast-path bug: let the complete (sandboxed) path decide
        status = None
    how = "fast path"
    if status is None:
        how = "symbolic"
        if budget <= 0:
            return ContentStatus.TIMEOUT, "no time left for the symbolic comparison"
        try:
            if guarded:
                status = run_guarded(equivalence.symbolic_compare, answer, reference, options, timeout=budget)
            else:  # inside a batch worker: the parent process enforces the deadline
                status = equivalence.symbolic_compare(answer, reference, options)
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


def _compare_any(
    answer: str, references: list[str], options: EquivalenceOptions, timeout: float, guarded: bool
) -> tuple[ContentStatus, str]:
    """EQUAL if any reference matches; the time budget is shared by all of them."""
    deadline = time.monotonic() + timeout
    statuses: list[tuple[ContentStatus, str]] = []
    for reference in references:
        status, how = _compare_one(answer, reference, options, deadline - time.monotonic(), guarded)
        if status is ContentStatus.EQUAL:
            return status, how
        statuses.append((status, how))
    for wanted in (ContentStatus.DIFFERENT, ContentStatus.TIMEOUT, ContentStatus.UNPARSEABLE):
        for status, how in statuses:
            if status is wanted:
                return status, how
    return statuses[0]


_MATH_SEGMENT_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_PLAIN_NUMBER_RE = re.compile(r"-?[\d.,/ ]+")


def _restates_prompt(answer: str, references: list[str], prompt: str, options: EquivalenceOptions) -> bool:
    """True if the answer merely copies an expression of the question (``Evaluate $2^{10}$`` -> ``2^{10}``).

    Graders that test value equality credit such answers on "simplify/evaluate" tasks; a restated
    expression is only accepted when it is literally the reference.
    """
    norm_answer = _normalize(answer, options)
    if not norm_answer or _PLAIN_NUMBER_RE.fullmatch(norm_answer):
        return False
    if any(norm_answer == _normalize(reference, options) for reference in references):
        return False
    for match in _MATH_SEGMENT_RE.finditer(prompt[:20_000]):
        segment = next(g for g in match.groups() if g is not None)
        if len(segment) <= 200 and _normalize(segment, options) == norm_answer:
            return True
    return False


# --------------------------------------------------------------------------- verify


def _extract_both(
    completion: str, answer_format: AnswerFormat, finish_reason: str | None, prompt: str | None
) -> Extraction:
    """One pass: ``format`` is the requested format's status, ``answer`` the lenient answer.

    (``extract_answer(strict=False)`` reports the requested format's status and falls back to
    answer phrases / the last number only for the answer, exactly the two things verify needs.)
    """
    kwargs: dict[str, Any] = {"answer_format": answer_format, "strict": False, "finish_reason": finish_reason}
    if prompt is not None:
        kwargs["prompt"] = prompt
    extraction: Extraction = _extract().extract_answer(completion, **kwargs)
    return extraction


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


def _verify(
    completion: str,
    reference: str | Sequence[str],
    answer_format: AnswerFormat,
    strict: bool,
    answer_type: AnswerType | None,
    timeout: float,
    finish_reason: str | None,
    options: EquivalenceOptions | None,
    prompt: str | None,
    guarded: bool,
) -> Verdict:
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a string, got {type(completion).__name__}")
    _check_timeout(timeout)
    options = _resolve_options(options, answer_type)
    references = _references(reference, options)
    extraction = _extract_both(completion, answer_format, finish_reason, prompt)
    answer = extraction.answer
    format_ok = extraction.format_ok if strict else answer is not None
    parts = [_describe(extraction, answer_format)]
    if extraction.method != "requested" and answer is not None:
        parts.append(f"fallback ({extraction.method}) found {_short(answer)!r}")
    if answer is None:
        content, how = ContentStatus.NOT_CHECKED, "nothing to compare"
    else:
        content, how = _compare_any(answer, references, options, timeout, guarded)
        equal = content is ContentStatus.EQUAL
        if equal and prompt and _restates_prompt(answer, references, prompt, options):
            content, how = ContentStatus.DIFFERENT, "answer restates an expression of the question"
    ref_text = ", ".join(repr(_short(r, 40)) for r in references[:4])
    if len(references) > 4:
        ref_text += ", ..."
    if len(references) > 1:
        ref_text = f"any of {ref_text}"
    parts.append(
        {
            ContentStatus.EQUAL: f"equals reference {ref_text} ({how})",
            ContentStatus.DIFFERENT: f"differs from reference {ref_text} ({how})",
            ContentStatus.UNPARSEABLE: f"could not be compared ({how})",
            ContentStatus.TIMEOUT: f"timed out ({how})",
            ContentStatus.NOT_CHECKED: "no answer to compare",
        }[content]
    )
    correct = format_ok and content is ContentStatus.EQUAL
    return Verdict(
        correct=correct,
        format=extraction.format,
        format_ok=format_ok,
        extracted=answer,
        extraction_method=extraction.method,
        content=content,
        reward=1.0 if correct else 0.0,
        reason="; ".join(parts),
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
) -> Verdict:
    """Grade one completion against its reference answer (or any of a list of references).

    Args:
        completion: the model's full output.
        reference: the gold answer; a list means "any of these", or, with
            ``options.multiple_answers``, one answer made of all these parts.
        answer_format: where the completion was asked to put its answer (see `AnswerFormat`).
        strict: if False, an answer found by the lenient fallback also counts as well-formatted.
        answer_type: shortcut for ``options.answer_type``.
        timeout: seconds allowed for the (sandboxed) symbolic comparison; holds in any thread.
        finish_reason: "length" marks a truncated generation (format TRUNCATED).
        options: equivalence options (tolerance, units, multiple answers, choices).
        prompt: the question; if given, an answer that merely restates one of its expressions
            is not credited.

    Returns:
        A `Verdict` with format and content kept apart; never raises on bad completions.

    >>> verify("so the answer is $\\\\boxed{\\\\frac{1}{2}}$", "0.5").correct  # doctest: +SKIP
    True
    """
    return _verify(
        completion, reference, answer_format, strict, answer_type, timeout, finish_reason, options, prompt,
        guarded=True,
    )


def verify_unguarded(item: tuple[Any, ...]) -> Verdict:
    """`verify` on a packed argument tuple without the sandbox: for batch workers, whose parent kills them."""
    completion, reference, answer_format, strict, timeout, finish_reason, options, prompt = item
    return _verify(
        completion, reference, answer_format, strict, None, timeout, finish_reason, options, prompt, False
    )


def verdict_without_content(item: tuple[Any, ...], content: ContentStatus, reason: str) -> Verdict:
    """The verdict of an item whose comparison failed elsewhere (a batch worker hung or died).

    The format layer is cheap and linear, so it is still evaluated here: a timed-out item keeps
    its true format status and extracted answer.
    """
    completion, _reference, answer_format, strict, _timeout, finish_reason, _options, prompt = item
    extraction = _extract_both(completion, answer_format, finish_reason, prompt)
    return Verdict(
        correct=False,
        format=extraction.format,
        format_ok=extraction.format_ok if strict else extraction.answer is not None,
        extracted=extraction.answer,
        extraction_method=extraction.method,
        content=content if extraction.answer is not None else ContentStatus.NOT_CHECKED,
        reward=0.0,
        reason=f"{_describe(extraction, answer_format)}; {reason}",
    )


def is_equivalent(answer: str, reference: str, **options: Any) -> bool:
    """Content only: does `answer` (already extracted) equal `reference`?

    Keyword options are `EquivalenceOptions` fields plus ``timeout`` (seconds, default 3).
    """
    timeout = options.pop("timeout", 3.0)
    _check_timeout(timeout)
    if not isinstance(answer, str) or not isinstance(reference, str):
        raise TypeError("is_equivalent takes two strings")
    resolved = EquivalenceOptions(**options)
    status, _ = _compare_any(answer, [reference], resolved, timeout, True)
    return status is ContentStatus.EQUAL
