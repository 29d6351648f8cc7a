"""The verifier's timeout holds everywhere: main thread, threads, asyncio, subprocesses, C-level loops.

Like Math-Verify's test_timeout.py, a slow comparison is injected (here: stand-in extraction and
equivalence layers whose symbolic step sleeps or spins), then we assert that `verify` returns
within timeout + slack with ``content == TIMEOUT``. Unlike SIGALRM-based graders, this must also
hold off the main thread and inside daemonic multiprocessing workers.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlvr_eval.verifier import api, sandbox
from rlvr_eval.verifier.answer import Answer
from rlvr_eval.verifier.errors import VerificationTimeout, WorkerCrashed
from rlvr_eval.verifier.schema import ContentStatus, Extraction, FormatStatus

TIMEOUT = 1.0
SLACK = 1.5  # kill + reap + IPC + thread scheduling on a loaded 2-core CI machine


# --------------------------------------------------------------------------- stand-in layers
# Top-level functions: the sandbox pickles them by reference and imports this module in the worker.


def _sleepy_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    time.sleep(60)
    return ContentStatus.EQUAL


def _spinning_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    # One long C call (catastrophic regex backtracking) that holds the GIL and never checks
    # signals: only killing the process stops it.
    matched = re.match(r"(a+)+$", "a" * 60 + "b")
    return ContentStatus.EQUAL if matched else ContentStatus.DIFFERENT


def _crashing_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    os.abort()  # like a segfault in a C extension
    return ContentStatus.EQUAL  # pragma: no cover


def _hungry_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    blob = bytearray(8 * 1024**3)  # 8 GB: beyond the worker's address-space cap
    return ContentStatus.EQUAL if blob else ContentStatus.DIFFERENT


def _echo_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    return ContentStatus.EQUAL if answer.text == reference.text else ContentStatus.DIFFERENT


def _fake_extract(completion: str, *, answer_format: str = "boxed", strict: bool = True,
                  finish_reason: str | None = None, prompt: str | None = None,
                  lenient_fallback: str = "none") -> Extraction:
    start = completion.rfind("\\boxed{")
    if start < 0:
        return Extraction(answer=None, format=FormatStatus.NO_ANSWER, method="none")
    end = completion.find("}", start)
    return Extraction(answer=completion[start + 7 : end], format=FormatStatus.OK, method="requested")


def _undecided(answer: Answer, reference: Answer, options: object) -> None:
    return None  # the fast path never decides: every pair goes to the (stand-in) symbolic path


def install_standins(target: object, symbolic: object, fast: object = _undecided) -> None:
    """Swap `api`'s extraction and comparison steps (works in this process or a child): the names
    `api` calls are plain module attributes, so patching them is all it takes."""
    target.setattr(api, "extract_answer", _fake_extract)  # type: ignore[attr-defined]
    target.setattr(api, "fast_compare", fast)  # type: ignore[attr-defined]
    target.setattr(api, "symbolic_compare", symbolic)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    api.cache_clear()


@pytest.fixture
def sleepy(monkeypatch: pytest.MonkeyPatch) -> None:
    install_standins(monkeypatch, _sleepy_compare)


@pytest.fixture(scope="module", autouse=True)
def light_pool() -> None:
    # The stand-ins need no sympy: workers that skip the preload restart in ~0.1 s after a kill.
    sandbox.configure_sandbox(max_workers=2, preload=())
    yield
    sandbox.configure_sandbox()


@pytest.fixture(autouse=True)
def warm_pool(light_pool: None) -> None:
    # Worker start-up (or a killed worker's replacement still importing sympy) is never charged
    # to a call's budget, but it would blur the timing asserts: start each test with warm workers.
    sandbox._default_pool().warm_up(2)


def _timed_verify(timeout: float = TIMEOUT) -> tuple[float, ContentStatus]:
    t0 = time.monotonic()
    verdict = api.verify("so \\boxed{42}", "42", timeout=timeout)
    return time.monotonic() - t0, verdict.content


def _assert_timed_out(elapsed: float, content: ContentStatus, timeout: float = TIMEOUT) -> None:
    assert content is ContentStatus.TIMEOUT
    assert timeout * 0.9 <= elapsed < timeout + SLACK, elapsed


# --------------------------------------------------------------------------- where the timeout holds


def test_main_thread(sleepy: None) -> None:
    _assert_timed_out(*_timed_verify())


def test_plain_thread(sleepy: None) -> None:
    out: list[tuple[float, ContentStatus]] = []
    thread = threading.Thread(target=lambda: out.append(_timed_verify()))
    thread.start()
    thread.join(TIMEOUT + 10)
    assert out, "verify did not return in a worker thread"
    _assert_timed_out(*out[0])


def test_thread_pool_concurrent_calls_do_not_serialise(sleepy: None) -> None:
    # Four threads at once (the pool keeps 2 warm, lends extras to a burst) each get their own
    # sandbox worker: all end after ~timeout, not 2x or 4x.
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _timed_verify(), range(4)))
    for elapsed, content in results:
        _assert_timed_out(elapsed, content)
    assert time.monotonic() - t0 < TIMEOUT + SLACK
    assert len(sandbox._default_pool().worker_pids()) <= 2  # the burst's extras are not kept


def test_asyncio_to_thread(sleepy: None) -> None:
    async def main() -> tuple[float, ContentStatus]:
        return await asyncio.to_thread(_timed_verify)

    _assert_timed_out(*asyncio.run(main()))


def test_asyncio_plain_call_in_coroutine(sleepy: None) -> None:
    async def main() -> tuple[float, ContentStatus]:
        return _timed_verify()  # blocks the loop, but at most `timeout`

    _assert_timed_out(*asyncio.run(main()))


def _child_verify(symbolic_name: str) -> tuple[float, str]:
    """Runs in a multiprocessing worker: install the stand-ins there, then time a verify."""
    mp = pytest.MonkeyPatch()
    install_standins(mp, globals()[symbolic_name])
    sandbox._default_pool().warm_up(1)
    elapsed, content = _timed_verify()
    return elapsed, content.value


def test_daemonic_multiprocessing_pool_worker() -> None:
    # multiprocessing.Pool workers are daemonic and may not start multiprocessing children;
    # the sandbox's subprocess workers are still allowed there.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        elapsed, content = pool.apply(_child_verify, ("_sleepy_compare",))
    assert content == "timeout"
    assert elapsed < TIMEOUT + SLACK


def test_spinning_c_code_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    install_standins(monkeypatch, _spinning_compare)
    _assert_timed_out(*_timed_verify())


def test_no_alarm_signals_used(sleepy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object) -> None:
        raise AssertionError("SIGALRM-based timeout used")

    monkeypatch.setattr(signal, "alarm", forbidden)
    monkeypatch.setattr(signal, "setitimer", forbidden)
    _assert_timed_out(*_timed_verify())


# --------------------------------------------------------------------------- recovery


def test_worker_replaced_after_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    install_standins(monkeypatch, _sleepy_compare)
    pids_before = set(sandbox._default_pool().worker_pids())
    _assert_timed_out(*_timed_verify())
    assert set(sandbox._default_pool().worker_pids()) != pids_before  # the hung one is gone
    install_standins(monkeypatch, _echo_compare)
    api.cache_clear()
    assert api.verify("\\boxed{7}", "7", timeout=5).content is ContentStatus.EQUAL
    assert api.verify("\\boxed{7}", "8", timeout=5).content is ContentStatus.DIFFERENT


@pytest.mark.parametrize("symbolic", [_crashing_compare, _hungry_compare])
def test_dead_or_oom_worker_reports_error_and_recovers(
    monkeypatch: pytest.MonkeyPatch, symbolic: object
) -> None:
    install_standins(monkeypatch, symbolic)
    t0 = time.monotonic()
    verdict = api.verify("\\boxed{7}", "7", timeout=20)
    assert verdict.content is ContentStatus.UNPARSEABLE
    assert "failed" in verdict.reason
    assert time.monotonic() - t0 < 10  # a capped allocation fails at once; no swap storm
    install_standins(monkeypatch, _echo_compare)
    api.cache_clear()
    assert api.verify("\\boxed{7}", "7", timeout=5).correct


def test_timeouts_are_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    install_standins(monkeypatch, _sleepy_compare)
    api.cache_clear()
    assert _timed_verify()[1] is ContentStatus.TIMEOUT
    install_standins(monkeypatch, _echo_compare)
    assert api.verify("so \\boxed{42}", "42", timeout=5).content is ContentStatus.EQUAL


# --------------------------------------------------------------------------- run_guarded itself


def test_run_guarded_returns_and_reraises() -> None:
    assert sandbox.run_guarded(math.comb, 10, 3, timeout=5) == 120
    with pytest.raises(ValueError, match="invalid literal"):
        sandbox.run_guarded(int, "x", timeout=5)
    with pytest.raises(VerificationTimeout):
        sandbox.run_guarded(time.sleep, 30, timeout=0.3)
    with pytest.raises(WorkerCrashed):
        sandbox.run_guarded(os.abort, timeout=5)
    assert sandbox.run_guarded(math.comb, 5, 2, timeout=5) == 10


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), float("nan"), "3"])
def test_bad_timeout_is_a_clear_error(bad: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        sandbox.run_guarded(math.comb, 3, 1, timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        api.verify("\\boxed{1}", "1", timeout=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- worker start-up


@pytest.mark.skipif(not sandbox.USE_ZYGOTE, reason="the zygote fork server is Linux-only")
def test_killed_worker_is_replaced_without_reimporting_sympy() -> None:
    pool = sandbox.WorkerPool(max_workers=1)  # no spare: the next call needs the replacement
    try:
        pool.warm_up(1)
        with pytest.raises(VerificationTimeout):
            pool.run(time.sleep, 30, timeout=0.3)
        t0 = time.monotonic()
        assert pool.run(math.comb, 6, 3, timeout=5) == 20
        # forked from the preloaded zygote: no ~1 s interpreter start + sympy import
        assert time.monotonic() - t0 < 0.5
        assert "sympy" in pool.run(_loaded_modules, timeout=5)
    finally:
        pool.close()


def _loaded_modules() -> list[str]:
    return sorted(sys.modules)


_FALLBACK_SCRIPT = """
import math, time
from rlvr_eval.verifier import sandbox
from rlvr_eval.verifier.errors import VerificationTimeout
try:
    sandbox.run_guarded(time.sleep, 30, timeout=0.5)
except VerificationTimeout:
    pass
assert sandbox.run_guarded(math.comb, 6, 3, timeout=30) == 20
assert not sandbox._ZYGOTES
print("ok")
"""


def test_fresh_interpreter_workers_without_zygote() -> None:
    env = {**os.environ, "RLVR_SANDBOX_ZYGOTE": "0"}
    done = subprocess.run(
        [sys.executable, "-c", _FALLBACK_SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def _raising_compare(answer: Answer, reference: Answer, options: object) -> ContentStatus:
    raise ValueError("parser bug")


def test_bugs_in_the_layers_cost_one_verdict_not_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    install_standins(monkeypatch, _echo_compare, fast=_raising_compare)
    verdict = api.verify("\\boxed{7}", "7", timeout=5)
    assert verdict.correct and "symbolic" in verdict.reason  # the complete path still decided
    install_standins(monkeypatch, _raising_compare, fast=_raising_compare)
    api.cache_clear()
    verdict = api.verify("\\boxed{7}", "7", timeout=5)
    assert verdict.content is ContentStatus.UNPARSEABLE and "ValueError" in verdict.reason


def test_idle_worker_killed_from_outside_is_discarded() -> None:
    # e.g. the kernel's OOM killer: the next caller must get a live worker, not an error
    pool = sandbox.WorkerPool(max_workers=1, preload=())
    try:
        pool.warm_up(1)
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        assert pool.run(math.comb, 5, 2, timeout=5) == 10
        assert pool.worker_pids() != [pid]
    finally:
        pool.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_its_own_workers_and_leaves_ours_alone() -> None:
    sandbox._default_pool().warm_up(2)
    ours = sandbox._default_pool().worker_pids()
    pid = os.fork()
    if pid == 0:  # the child: must start its own workers, never reuse or kill the parent's
        code = 1
        try:
            fine = sandbox.run_guarded(math.comb, 5, 2, timeout=30) == 10
            code = 0 if fine and not set(sandbox._default_pool().worker_pids()) & set(ours) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sandbox.run_guarded(math.comb, 6, 2, timeout=5) == 15
    assert set(ours) <= set(sandbox._default_pool().worker_pids())
