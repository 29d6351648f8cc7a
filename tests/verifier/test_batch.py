"""verify_batch and its pool: input order, per-item deadlines, hung or crashing workers replaced."""

from __future__ import annotations

import os
import time

import pytest

from rlvr_eval.verifier import api
from rlvr_eval.verifier.answer import Answer
from rlvr_eval.verifier.batch import BatchPool, verify_batch
from rlvr_eval.verifier.schema import (
    ContentStatus,
    EquivalenceOptions,
    Extraction,
    FormatStatus,
    Verdict,
    VerifyRequest,
)

ITEM_TIMEOUT = 1.0


# --------------------------------------------------------------------------- stand-in layers
# The batch workers are separate interpreters: `_standin_verify` installs the stand-ins there.


def _scripted_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    """Equal iff identical; 'hang' sleeps past any deadline, 'crash' kills the worker."""
    if answer.text == "hang":
        time.sleep(60)
    if answer.text == "crash":
        os._exit(3)
    return ContentStatus.EQUAL if answer.text == reference.text else ContentStatus.DIFFERENT


def _fake_extract(completion: str, *, answer_format: str = "boxed", strict: bool = True,
                  finish_reason: str | None = None, prompt: str | None = None,
                  lenient_fallback: str = "none") -> Extraction:
    """Last ``\\boxed{}``; if absent and not strict, the last word (like the real lenient fallback)."""
    status = FormatStatus.TRUNCATED if finish_reason == "length" else FormatStatus.OK
    start = completion.rfind("\\boxed{")
    if start >= 0:
        end = completion.find("}", start)
        return Extraction(answer=completion[start + 7 : end], format=status, method="requested")
    status = FormatStatus.TRUNCATED if finish_reason == "length" else FormatStatus.NO_ANSWER
    words = completion.split()
    if strict or not words:
        return Extraction(answer=None, format=status, method="none")
    return Extraction(answer=words[-1], format=status, method="last_number")


def _undecided(answer: Answer, reference: Answer, options: object) -> None:
    return None


def _install(target: object) -> None:
    target.setattr(api, "extract_answer", _fake_extract)  # type: ignore[attr-defined]
    target.setattr(api, "fast_compare", _undecided)  # type: ignore[attr-defined]
    target.setattr(api, "symbolic_compare", _scripted_compare)  # type: ignore[attr-defined]


def _standin_verify(request: VerifyRequest) -> Verdict:
    _install(pytest.MonkeyPatch())
    return api.verify_unguarded(request)


def _item(completion: str, reference: str, finish_reason: str | None = None) -> VerifyRequest:
    return VerifyRequest(completion, reference, finish_reason=finish_reason, timeout=ITEM_TIMEOUT)


def _on_failure(items: list[VerifyRequest]):  # type: ignore[no-untyped-def]
    def on_failure(index: int, kind: str, message: str) -> Verdict:
        content = ContentStatus.TIMEOUT if kind == "timeout" else ContentStatus.UNPARSEABLE
        return api.verdict_without_content(items[index], content, message)

    return on_failure


@pytest.fixture(scope="module")
def pool() -> BatchPool:
    batch_pool = BatchPool(2, preload=(__name__,))  # the stand-ins need no sympy: fast restarts
    yield batch_pool
    batch_pool.close()


@pytest.fixture(autouse=True)
def standins(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch)  # the parent builds failure verdicts with the same layers
    api.cache_clear()


def _items(n: int, specials: dict[int, str] | None = None) -> list[VerifyRequest]:
    specials = specials or {}
    items = []
    for i in range(n):
        answer = specials.get(i, str(i) if i % 3 else str(i + 1))  # every third one is wrong
        items.append(_item(f"Reasoning {i} ... so \\boxed{{{answer}}}", str(i)))
    return items


def _run(pool: BatchPool, items: list[VerifyRequest], chunk_size: int | None = None) -> list[Verdict]:
    on_failure = _on_failure(items)
    return pool.map(
        _standin_verify, items, item_timeout=ITEM_TIMEOUT, on_failure=on_failure, chunk_size=chunk_size
    )


# --------------------------------------------------------------------------- tests


def test_order_preserved_and_equal_to_sequential(pool: BatchPool) -> None:
    items = _items(40)
    items.append(_item("no box here 39", "39"))
    items.append(_item("\\boxed{7} cut", "7", finish_reason="length"))
    results = _run(pool, items, chunk_size=3)
    expected = [api.verify_unguarded(item) for item in items]
    assert results == expected
    assert [v.correct for v in results[:40]] == [i % 3 != 0 for i in range(40)]


@pytest.mark.parametrize("chunk_size", [1, 4, 100])
def test_hung_item_loses_no_other_result(pool: BatchPool, chunk_size: int) -> None:
    items = _items(12, {2: "hang", 9: "hang"})
    before = pool.replacements
    t0 = time.monotonic()
    results = _run(pool, items, chunk_size=chunk_size)
    elapsed = time.monotonic() - t0
    for i, verdict in enumerate(results):
        if i in (2, 9):
            assert verdict.content is ContentStatus.TIMEOUT
            assert verdict.format is FormatStatus.OK and verdict.extracted == "hang"
            assert not verdict.correct
        else:
            assert verdict.correct == (i % 3 != 0), (i, verdict)
            assert verdict.content in (ContentStatus.EQUAL, ContentStatus.DIFFERENT)
    assert pool.replacements - before == 2
    assert elapsed < 2 * (ITEM_TIMEOUT + 0.5) + 10  # two deadlines (maybe in sequence) + restarts


def test_replaced_workers_keep_working(pool: BatchPool) -> None:
    _run(pool, _items(4, {0: "hang", 1: "hang"}), chunk_size=1)
    results = _run(pool, _items(20), chunk_size=2)
    assert [v.correct for v in results] == [i % 3 != 0 for i in range(20)]


def test_crashing_worker_costs_only_its_item(pool: BatchPool) -> None:
    items = _items(10, {4: "crash"})
    results = _run(pool, items, chunk_size=5)
    assert results[4].content is ContentStatus.UNPARSEABLE and "died" in results[4].reason
    assert [v.correct for i, v in enumerate(results) if i != 4] == [i % 3 != 0 for i in range(10) if i != 4]


def test_exception_in_item_becomes_unparseable(pool: BatchPool) -> None:
    bad = VerifyRequest("\\boxed{2}", 2, timeout=ITEM_TIMEOUT)  # type: ignore[arg-type]  # not a string
    items = [_item("\\boxed{1}", "1"), bad, _item("\\boxed{3}", "3")]
    results = _run(pool, items)
    assert results[0].correct and results[2].correct
    assert results[1].content is ContentStatus.UNPARSEABLE
    assert "TypeError: reference must be a string" in results[1].reason


def test_empty_batch(pool: BatchPool) -> None:
    assert _run(pool, []) == []
    assert verify_batch([], []) == []


def test_verify_batch_in_process_matches_verify() -> None:
    completions = [f"\\boxed{{{i % 4}}}" for i in range(10)] + ["nothing"]
    references = [str(i % 3) for i in range(10)] + [["x", "nothing"]]
    results = verify_batch(completions, references, workers=0, finish_reasons=[None] * 10 + ["stop"])
    assert results == [api.verify(c, r) for c, r in zip(completions, references, strict=True)]
    assert results[-1].content is ContentStatus.EQUAL and not results[-1].correct  # lenient only


def test_verify_batch_argument_errors() -> None:
    with pytest.raises(ValueError, match="2 references for 1 completions"):
        verify_batch(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="options has 1 entries for 2 completions"):
        verify_batch(["a", "b"], ["a", "b"], options=[EquivalenceOptions()])
    with pytest.raises(ValueError, match="timeout"):
        verify_batch(["a"], ["a"], timeout=0)
    with pytest.raises(ValueError, match="workers"):
        verify_batch(["a"], ["a"], workers=-1)
