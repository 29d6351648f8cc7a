"""`verify_batch`: many verdicts at once, in input order, with a pool that survives hung items.

Why not `concurrent.futures` / `multiprocessing.Pool`: they cannot kill one stuck task; a sympy
call looping in C keeps its worker forever and the whole batch waits (or the pool breaks and
every pending result is lost). Here each worker runs the full `verify` in-process on a chunk of
items (one IPC round trip per chunk, one small reply per item, so the parent sees per-item
progress); the parent gives every item a deadline, and on overrun kills that worker, records a
TIMEOUT verdict for the item, re-queues the rest of the chunk and starts a replacement.
Workers are the sandbox's fresh interpreters (spawn-like: safe with threads) and persist across
calls, so a training loop pays the start-up (~1 s) once.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any, TypeVar

from rlvr_eval.verifier.errors import WorkerCrashed
from rlvr_eval.verifier.sandbox import DEFAULT_MEMORY_MB, STARTUP_TIMEOUT, SandboxWorker, check_timeout
from rlvr_eval.verifier.schema import (
    AnswerFormat,
    ContentStatus,
    EquivalenceOptions,
    LenientFallback,
    Verdict,
    VerifyRequest,
)

__all__ = ["BatchPool", "shutdown_batch_pools", "verify_batch", "verify_requests"]

T = TypeVar("T")
_MISSING = object()
#: Extra seconds per item on top of `timeout`: extraction, fast path and IPC of one item.
ITEM_SLACK = 0.5
#: Below this many items, starting (or waking) worker processes costs more than it saves.
MIN_ITEMS_FOR_POOL = 8
_MAX_WORKERS = 8
_BATCH_PRELOAD = (
    "rlvr_eval.verifier.api", "rlvr_eval.verifier.presence", "rlvr_eval.verifier.equivalence",
    "rlvr_eval.verifier.symbolic",
)

Failure = Callable[[int, str, str], Any]
"""``on_failure(index, kind, message)`` -> the result recorded for an item; kind: timeout | crash | error."""


class BatchPool:
    """A fixed number of sandbox workers that map a function over items with per-item deadlines."""

    def __init__(self, workers: int, preload: Sequence[str] = _BATCH_PRELOAD, memory_mb: int | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.size = workers
        self.preload = tuple(preload)
        self.memory_mb = DEFAULT_MEMORY_MB if memory_mb is None else memory_mb
        self.lock = threading.Lock()  # one map at a time per pool
        self._workers: list[SandboxWorker] = []
        self.replacements = 0  # workers killed and replaced (for tests and logs)

    def _spawn(self) -> SandboxWorker:
        return SandboxWorker(self.preload, self.memory_mb)

    def map(
        self,
        fn: Callable[[Any], T],
        items: Sequence[Any],
        *,
        item_timeout: float,
        on_failure: Failure,
        chunk_size: int | None = None,
        progress: bool = False,
        desc: str = "verify",
    ) -> list[T]:
        """``[fn(item) for item in items]`` in the workers; items over `item_timeout` get ``on_failure``."""
        n = len(items)
        results: list[Any] = [_MISSING] * n
        if n == 0:
            return results
        if chunk_size is None:
            chunk_size = max(1, min(32, -(-n // (self.size * 4))))
        queue: deque[list[int]] = deque(
            list(range(s, min(n, s + chunk_size))) for s in range(0, n, chunk_size)
        )
        self._workers = [w for w in self._workers if w.alive]
        while len(self._workers) < self.size:
            self._workers.append(self._spawn())
        idle = [w for w in self._workers if w.ready]
        starting = {w: time.monotonic() for w in self._workers if not w.ready}
        busy: dict[SandboxWorker, list[Any]] = {}  # worker -> [chunk, position, deadline]
        bar = _progress_bar(n, desc) if progress else None
        failed_starts = 0

        def record(index: int, value: Any) -> None:
            results[index] = value
            if bar is not None:
                bar.update(1)

        def replace(worker: SandboxWorker) -> None:
            worker.kill()
            self._workers.remove(worker)
            fresh = self._spawn()
            self._workers.append(fresh)
            starting[fresh] = time.monotonic()
            self.replacements += 1

        def retire(worker: SandboxWorker, kind: str, message: str) -> None:
            """Give up on the worker's current item, re-queue the rest of its chunk, replace it."""
            chunk, pos, _ = busy.pop(worker)
            record(chunk[pos], on_failure(chunk[pos], kind, message))
            if pos + 1 < len(chunk):
                queue.appendleft(chunk[pos + 1 :])
            replace(worker)

        try:
            while queue or busy:
                while idle and queue:
                    worker, chunk = idle.pop(), queue.popleft()
                    try:
                        worker.send(("map", fn, [(items[i],) for i in chunk]))
                    except OSError:  # died while idle: put the chunk back, try another worker
                        queue.appendleft(chunk)
                        replace(worker)
                        continue
                    busy[worker] = [chunk, 0, time.monotonic() + item_timeout]
                now = time.monotonic()
                deadlines = [entry[2] for entry in busy.values()]
                deadlines += [t0 + STARTUP_TIMEOUT for t0 in starting.values()]
                wait_for = max(0.0, min(deadlines) - now) if deadlines else None
                conns = {w.inbox: w for w in [*busy, *starting]}
                for conn in wait(list(conns), timeout=wait_for):
                    worker = conns[conn]  # type: ignore[index]
                    if worker in starting:
                        del starting[worker]
                        try:
                            worker.wait_ready(0)
                            idle.append(worker)
                            failed_starts = 0
                        except WorkerCrashed:
                            failed_starts += 1
                            if failed_starts > 2 * self.size:
                                raise
                            replace(worker)
                        continue
                    try:
                        reply = worker.recv()
                    except (EOFError, OSError):
                        retire(worker, "crash", f"worker died{worker.exit_note()}")
                        continue
                    entry = busy[worker]
                    if reply[0] == "started":  # the chunk is unpickled: the first item's clock starts
                        entry[2] = time.monotonic() + item_timeout
                        continue
                    _, _k, status, value = reply
                    chunk, pos = entry[0], entry[1]
                    if status == "ok":
                        record(chunk[pos], value)
                    else:
                        message = f"{type(value).__name__}: {value}"
                        record(chunk[pos], on_failure(chunk[pos], "error", message))
                    entry[1] = pos + 1
                    entry[2] = time.monotonic() + item_timeout
                    if entry[1] == len(chunk):
                        del busy[worker]
                        idle.append(worker)
                now = time.monotonic()
                for worker, (_, _, deadline) in list(busy.items()):
                    if now >= deadline:
                        retire(worker, "timeout", f"item exceeded {item_timeout:.2g} s; worker replaced")
                for worker, t0 in list(starting.items()):
                    if now - t0 >= STARTUP_TIMEOUT:
                        del starting[worker]
                        replace(worker)
        except BaseException:
            # Interrupted (Ctrl-C) or failing: do not leave workers mid-chunk with stale replies.
            for worker in list(busy):
                worker.kill()
            raise
        finally:
            if bar is not None:
                bar.close()
        return results

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()
        self._workers = []


def _progress_bar(total: int, desc: str = "verify") -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="item")


_POOLS: dict[int, BatchPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_for(workers: int) -> tuple[BatchPool, bool]:
    """The persistent pool of this size, or a temporary one if another thread is using it."""
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = _POOLS[workers] = BatchPool(workers)
    if pool.lock.acquire(blocking=False):
        return pool, True
    return BatchPool(workers), False


def shutdown_batch_pools() -> None:
    """Kill the persistent batch workers (restarted lazily by the next `verify_batch`)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


def _forget_after_fork() -> None:
    # See sandbox._forget_after_fork: a forked child drops (but never kills) its parent's workers.
    global _POOLS_LOCK
    for pool in list(_POOLS.values()):
        for worker in pool._workers:
            worker.forget()
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


atexit.register(shutdown_batch_pools)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _per_item(value: Any, n: int, name: str, is_single: Callable[[Any], bool]) -> list[Any]:
    if is_single(value):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries for {n} completions")
    return values


def verify_batch(
    completions: Sequence[str],
    references: Sequence[str | list[str]],
    *,
    workers: int | None = None,
    timeout: float = 3.0,
    finish_reasons: Sequence[str | None] | None = None,
    answer_format: AnswerFormat | Sequence[AnswerFormat] = "boxed",
    strict: bool = True,
    options: EquivalenceOptions | Sequence[EquivalenceOptions | None] | None = None,
    prompts: Sequence[str | None] | None = None,
    lenient_fallback: LenientFallback = "none",
    progress: bool = False,
    check_answer_present: bool = False,
) -> list[Verdict]:
    """`verify` every (completion, reference) pair; verdicts come back in input order.

    Args:
        workers: worker processes; None -> min(CPU count, 8); 0 or 1 -> in this process (the
            sandbox still guards slow comparisons). Tiny batches also run in-process.
        timeout: per-item budget in seconds; an item over budget gets a TIMEOUT verdict and
            costs no other item its result.
        finish_reasons, prompts: per-item values (or None).
        answer_format, options: one value for all items, or one per item.
        lenient_fallback: as in `verify` ("none" or "last_number").
        progress: show a tqdm progress bar.
        check_answer_present: also set each verdict's ``answer_present`` (a second pass over the items
            whose final answer is not right, with the same per-item deadline).
    """
    n = len(completions)
    if len(references) != n:
        raise ValueError(f"{len(references)} references for {n} completions")
    check_timeout(timeout)
    formats = _per_item(answer_format, n, "answer_format", lambda v: isinstance(v, str))
    opts = _per_item(options, n, "options", lambda v: v is None or isinstance(v, EquivalenceOptions))
    reasons = _per_item(finish_reasons, n, "finish_reasons", lambda v: v is None)
    prompt_list = _per_item(prompts, n, "prompts", lambda v: v is None)
    requests = [
        VerifyRequest(
            completions[i], references[i], formats[i], opts[i], reasons[i], prompt_list[i], strict, timeout,
            lenient_fallback, check_answer_present,
        )
        for i in range(n)
    ]
    return verify_requests(requests, workers=workers, progress=progress)


def verify_requests(
    requests: Sequence[VerifyRequest], *, workers: int | None = None, progress: bool = False
) -> list[Verdict]:
    """The verdict of every request, in input order: `verify_batch` for callers that build requests.

    Each item's deadline is its request's ``timeout`` plus `ITEM_SLACK`; an item over it gets a
    TIMEOUT verdict (its format layer still evaluated) and costs no other item its result.
    """
    from rlvr_eval.verifier import api

    n = len(requests)
    for request in requests:
        check_timeout(request.timeout)
    if workers is None:
        workers = min(os.cpu_count() or 1, _MAX_WORKERS)
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    if workers <= 1 or n < MIN_ITEMS_FOR_POOL:
        bar = _progress_bar(n) if progress else None
        verdicts = []
        for request in requests:
            verdicts.append(api.verify_request(request))
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return verdicts

    def on_failure(index: int, kind: str, message: str) -> Verdict:
        content = ContentStatus.TIMEOUT if kind == "timeout" else ContentStatus.UNPARSEABLE
        return api.verdict_without_content(requests[index], content, message)

    pool, persistent = _pool_for(workers)  # one persistent pool per size, whatever the batch length
    try:
        item_timeout = max(request.timeout for request in requests) + ITEM_SLACK
        verdicts = pool.map(
            api.verify_unguarded, requests, item_timeout=item_timeout, on_failure=on_failure,
            progress=progress,
        )
        return _with_presence(pool, requests, verdicts, progress)
    finally:
        if persistent:
            pool.lock.release()
        else:
            pool.close()


def _with_presence(
    pool: BatchPool, requests: Sequence[VerifyRequest], verdicts: list[Verdict], progress: bool
) -> list[Verdict]:
    """Second pass: ``answer_present`` for the requests that ask for it, under the same per-item deadline.

    A pass of its own, not part of the verdict's item, so that a presence search that hangs (a stated
    expression that stalls sympy) costs only its own answer (left None), never the item's verdict.
    A right final answer settles presence without a search.
    """
    from rlvr_eval.verifier.presence import needs_search, presence_unguarded

    out = [
        v.model_copy(update={"answer_present": True}) if r.check_answer_present else v
        for r, v in zip(requests, verdicts, strict=True)
    ]
    todo = [i for i, (r, v) in enumerate(zip(requests, verdicts, strict=True)) if needs_search(r, v)]
    if not todo:
        return out
    item_timeout = max(requests[i].timeout for i in todo) + ITEM_SLACK
    found = pool.map(
        presence_unguarded, [(requests[i], verdicts[i]) for i in todo], item_timeout=item_timeout,
        on_failure=lambda index, kind, message: None, progress=progress, desc="answer present",
    )
    for i, present in zip(todo, found, strict=True):
        out[i] = verdicts[i].model_copy(update={"answer_present": present})
    return out
