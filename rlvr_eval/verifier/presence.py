"""Answer present: whether the reference value is stated anywhere in a completion, final or not.

Strict and lenient scores grade *the* final answer. A completion whose final answer is wrong or
missing may still have found the right value on the way ("so $x = 12$ ... hence \\boxed{13}", or
the right value in prose with no box at all). ``answer_present`` says whether it did, which
separates "the model found the answer but did not deliver it" from "the model never found it": the
question the 1-shot RLVR paper (arXiv 2504.20571) raises about format correction.

What counts as stated is exactly `stated.stated_answers`: every box (and group of boxes), answer
tag, answer-phrase answer, math span (whole: a digit inside ``x^2 + 12x`` is not "12"; a computation
also gives its result, ``2 \\times 6 = 12`` -> ``12``) and the value of every sentence that states
one. Each is compared with the reference as `verify` compares the final answer (parse, the
question's reading of labels and order, the reference list and ``multiple_answers`` rules, the fast
exact path; a candidate that only restates an expression of the question is not credited), with
these bounds:

- candidates are deduplicated (`dedupe_key`: spacing and sizing ignored), and at most
  `MAX_CANDIDATES` distinct ones are compared: explicit answers (boxes, tags, phrases, stated values)
  first, then math spans, each latest first (a conclusion is nearer the end); candidates over
  `MAX_CANDIDATE_CHARS` are skipped;
- every candidate gets the fast path first; only if none is equal do at most `MAX_SYMBOLIC` undecided
  answers given *as* answers (`SYMBOLIC_METHODS`: boxes, tags, answer phrases) get the sandboxed
  symbolic path; all of it within one ``timeout`` for the whole completion.

``Presence.complete`` is False when a bound cut the search short, so a ``False`` then means "not
among those compared". Never raises on a completion's text, however adversarial.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from rlvr_eval.verifier.answer import Answer
from rlvr_eval.verifier.api import compare_parsed, parse_answer_to, references_of, request_options
from rlvr_eval.verifier.parse import parse
from rlvr_eval.verifier.question import restates_question
from rlvr_eval.verifier.sandbox import check_timeout
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions, Verdict, VerifyRequest
from rlvr_eval.verifier.stated import StatedAnswer, stated_answers

__all__ = ["MAX_CANDIDATES", "MAX_CANDIDATE_CHARS", "Presence", "answer_present", "presence_of"]

#: Distinct stated answers compared per completion (dev.jsonl: 13 on average, 89 at most).
MAX_CANDIDATES = 128
#: Longer stated answers are skipped: a derivation, not a value (the final answer's own cap is 5,000).
MAX_CANDIDATE_CHARS = 500
#: Stated answers that get the symbolic path when the fast path is undecided: answers the completion
#: gives *as* answers. Math spans and stated values get the fast path only (exact arithmetic on
#: numbers, fractions, radicals, pi...): what the symbolic path adds there is mostly unevaluated
#: working (sums, integrals, \\angle ABC) that costs seconds and never states a found value.
SYMBOLIC_METHODS = frozenset({"boxed", "answer_tag", "answer_phrase"})
#: At most this many stated answers per completion get the symbolic path.
MAX_SYMBOLIC = 4
_EXPLICIT_FIRST = {"boxed": 0, "answer_tag": 0, "answer_phrase": 0, "final_statement": 0, "math_span": 1}


class Presence(NamedTuple):
    """Whether a completion states the reference anywhere, and where."""

    present: bool
    match: StatedAnswer | None  # the stated answer equal to the reference (None if absent)
    compared: int  # distinct candidates compared
    candidates: int  # distinct candidates the completion states (within MAX_CANDIDATE_CHARS)
    complete: bool  # every candidate was compared to the end (no cap, no timeout cut the search)


_COSMETIC = (("\\left", ""), ("\\right", ""), ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\!", ""),
             ("\\,", ""), ("\\;", ""), ("\\:", ""), ("$", ""))


def dedupe_key(text: str) -> str:
    """The text without spacing and sizing (``\\left( 1,\\, 2 \\right)`` -> ``(1,2)``): one comparison
    per distinct key. Deliberately cheap (not `normalize_answer`, which costs 10x more and would be
    paid for every stated answer): spellings it keeps apart are still compared, each once."""
    text = "".join(text.split())
    for old, new in _COSMETIC:
        if old in text:
            text = text.replace(old, new)
    return text


def _candidates(completion: str, prompt: str | None) -> list[StatedAnswer]:
    """Distinct stated answers in comparison order: explicit answers, then math spans, latest first."""
    stated = stated_answers(completion, prompt=prompt)
    stated.sort(key=lambda a: (_EXPLICIT_FIRST.get(str(a.method), 1), -a.end))
    seen: set[str] = set()
    out = []
    for answer in stated:
        if len(answer.text) > MAX_CANDIDATE_CHARS:
            continue
        key = dedupe_key(answer.text)
        if key and key not in seen:
            seen.add(key)
            out.append(answer)
    return out


def _parsed(text: str, options: EquivalenceOptions, question: str | None) -> Answer | None:
    try:
        return parse_answer_to(text, options, question)
    except Exception:  # parsing is bounded and total; a bug in it costs this candidate, not the item
        return None


def _credited(candidate: StatedAnswer, references: list[str], question: str | None) -> bool:
    """Equal content is credited unless the candidate only restates the question (as in verify)."""
    return not (question and restates_question(candidate.text, references, question))


def search(
    completion: str,
    references: list[str],
    options: EquivalenceOptions,
    *,
    timeout: float,
    question: str | None = None,
    guarded: bool = True,
    max_candidates: int = MAX_CANDIDATES,
    known_different: str | None = None,
) -> Presence:
    """The search behind `answer_present`. ``guarded=False`` runs the symbolic path in this process
    (batch workers, whose parent enforces the deadline); ``known_different``: an answer text already
    compared (the verdict's final answer), skipped."""
    deadline = time.monotonic() + timeout
    candidates = _candidates(completion, question)
    skip = dedupe_key(known_different) if known_different else None
    try:
        parsed_refs = [parse(r, options) for r in references]
    except Exception:  # a reference the parser cannot take: nothing can equal it
        return Presence(False, None, 0, len(candidates), False)
    shown = candidates[:max_candidates]
    undecided: list[tuple[StatedAnswer, Answer]] = []
    compared = 0
    for candidate in shown:  # pass 1: the fast path (and the cache) only
        if time.monotonic() >= deadline:
            return Presence(False, None, compared, len(candidates), False)
        compared += 1
        if skip is not None and dedupe_key(candidate.text) == skip:
            continue
        answer = _parsed(candidate.text, options, question)
        if answer is None:
            continue
        symbolic = candidate.method in SYMBOLIC_METHODS
        for reference in parsed_refs:
            status, how = compare_parsed(answer, reference, options, 0.0, guarded)
            if how == "symbolic" and not symbolic:
                continue  # a cached symbolic result: using it would make the answer depend on cache state
            if status is ContentStatus.EQUAL and _credited(candidate, references, question):
                return Presence(True, candidate, compared, len(candidates), True)
            if status is ContentStatus.TIMEOUT and symbolic:
                undecided.append((candidate, answer))  # undecided by the fast path (no budget given)
                break
    complete = len(shown) == len(candidates)
    for candidate, answer in undecided[:MAX_SYMBOLIC]:  # pass 2: the symbolic path, in the time left
        for reference in parsed_refs:
            budget = deadline - time.monotonic()
            if budget <= 0:
                return Presence(False, None, compared, len(candidates), False)
            status, _ = compare_parsed(answer, reference, options, budget, guarded)
            if status is ContentStatus.EQUAL and _credited(candidate, references, question):
                return Presence(True, candidate, compared, len(candidates), True)
            complete &= status is not ContentStatus.TIMEOUT
    return Presence(False, None, compared, len(candidates), complete and len(undecided) <= MAX_SYMBOLIC)


def answer_present(
    completion: str,
    reference: str | Sequence[str],
    *,
    options: EquivalenceOptions | None = None,
    timeout: float = 3.0,
    prompt: str | None = None,
    max_candidates: int = MAX_CANDIDATES,
) -> Presence:
    """Does ``completion`` state ``reference`` anywhere (any box, math span, answer phrase, stated value)?

    Args:
        completion: the model's full output.
        reference: the gold answer; a list means "any of these", or, with ``options.multiple_answers``,
            one answer made of all these parts (a box group or a list giving every part), as in `verify`.
        options: equivalence options, as in `verify`.
        timeout: seconds for the whole search (all candidates together); holds in any thread.
        prompt: the question: an expression merely copied from it is not credited, and it decides
            label and order readings, as in `verify`.
        max_candidates: distinct stated answers compared at most.

    Returns:
        A `Presence`; ``bool(result.present)`` is the metric. Never raises on the completion's text.

    >>> answer_present("So $x = 12$. Checking again, \\\\boxed{13}.", "12").present  # doctest: +SKIP
    True
    """
    if not isinstance(completion, str):
        raise TypeError(f"completion must be a string, got {type(completion).__name__}")
    check_timeout(timeout)
    request = VerifyRequest(completion, list(reference) if not isinstance(reference, str) else reference,
                            options=options, prompt=prompt, timeout=timeout)
    opts = request_options(request)
    return search(completion, references_of(request.reference, opts), opts, timeout=timeout,
                  question=prompt, guarded=True, max_candidates=max_candidates)


def _settled_by_verdict(verdict: Verdict) -> bool:
    """The final answer itself equals the reference and is a stated answer (not the last-number guess)."""
    return verdict.content is ContentStatus.EQUAL and verdict.extraction_method not in ("none", "last_number")


def presence_of(request: VerifyRequest, verdict: Verdict, *, guarded: bool = True) -> bool:
    """``answer_present`` for a request whose verdict is known: a right final answer settles it at once."""
    if _settled_by_verdict(verdict):
        return True
    options = request_options(request)
    return search(request.completion, references_of(request.reference, options), options,
                  timeout=request.timeout, question=request.prompt, guarded=guarded,
                  known_different=verdict.extracted).present


def needs_search(request: VerifyRequest, verdict: Verdict) -> bool:
    """Whether the request asks for presence and its verdict does not already settle it."""
    return request.check_answer_present and not _settled_by_verdict(verdict)


def presence_unguarded(pair: tuple[VerifyRequest, Verdict]) -> bool:
    """`presence_of` in a batch worker (top level, so it pickles; the parent enforces the deadline)."""
    request, verdict = pair
    return presence_of(request, verdict, guarded=False)
