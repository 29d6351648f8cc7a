"""Timeouts that hold in any thread, asyncio task or process: slow work runs in a worker process.

Why not SIGALRM (Math-Verify, the Qwen harness): signals only reach the main thread, so under
Ray, a thread pool or an async server the "timeout" silently never fires (verl once scored all
of MATH 0 for this reason), and a sympy call stuck in C code ignores Python-level alarms anyway.
Here the slow symbolic path runs in a persistent worker process; on overrun the parent kills
it (SIGKILL cannot be ignored) and starts a replacement, so the caller blocks at most `timeout`
(plus, once per process, the ~1 s start of the first worker, which is never charged to a budget;
`warm_up_sandbox` pays it up front).

Workers descend from fresh interpreters started with ``subprocess`` (like multiprocessing's
``spawn``): safe next to threads, and, unlike ``multiprocessing.Process``, also allowed inside
daemonic ``multiprocessing.Pool`` workers. On Linux a single-threaded "zygote" interpreter
imports sympy once and forks each worker on request (like multiprocessing's ``forkserver``), so
a killed worker is replaced in milliseconds instead of a ~1 s re-import; elsewhere, or if the
zygote fails, each worker is its own fresh interpreter. Workers talk over two pipes with
pickled messages:

- ``("call", fn, args)`` -> ``("ok", value)`` or ``("raise", exception)``;
- ``("map", fn, [args, ...])`` -> ``("started",)`` once unpickled, then one
  ``("item", k, "ok" | "raise", value)`` per element, in order (used by ``batch.py`` to amortise
  IPC over a chunk while still seeing per-item progress).

Functions must be picklable top-level functions (pickled by reference, imported in the worker).
The worker side (the loop, the zygote, the memory cap) lives in `sandbox_worker.py`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from rlvr_eval.verifier.errors import VerificationTimeout, WorkerCrashed

__all__ = [
    "SandboxWorker",
    "WorkerPool",
    "configure_sandbox",
    "run_guarded",
    "shutdown_sandbox",
    "warm_up_sandbox",
]

T = TypeVar("T")

#: Modules a symbolic worker imports before reporting ready, so the first call's budget is not
#: spent importing sympy (~1 s). Missing modules are skipped.
DEFAULT_PRELOAD: tuple[str, ...] = ("rlvr_eval.verifier.equivalence", "rlvr_eval.verifier.symbolic")
#: Default address-space headroom (MB) above the worker's size after imports; None disables.
DEFAULT_MEMORY_MB: int | None = int(os.environ.get("RLVR_SANDBOX_MEMORY_MB", "1024")) or None
#: Starting a worker (interpreter + sympy import) is not charged to any call's timeout, but
#: a worker that cannot start at all must not hang the caller forever.
STARTUP_TIMEOUT = 120.0
#: A pool keeps `max_workers` warm and lends up to this many times as many to a burst of callers.
BURST_FACTOR = 4

_BOOT = (
    "import json, os, sys\n"
    "_p = json.loads(os.environ.pop('RLVR_SANDBOX_SYSPATH', '[]'))\n"
    "sys.path[:] = _p + [x for x in sys.path if x not in _p]\n"
    "from rlvr_eval.verifier import sandbox_worker\n"
    "getattr(sandbox_worker, sys.argv[1])(*map(int, sys.argv[2:]))\n"
)
#: Fork workers from a preloaded zygote (Linux); RLVR_SANDBOX_ZYGOTE=0 starts each one fresh.
USE_ZYGOTE = (
    sys.platform.startswith("linux")
    and hasattr(socket, "send_fds")
    and os.environ.get("RLVR_SANDBOX_ZYGOTE", "1") != "0"
)


# --------------------------------------------------------------------------- parent side


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The worker must import the same modules as the parent (tests, editable installs, scripts).
    env["RLVR_SANDBOX_SYSPATH"] = json.dumps([p for p in sys.path if p])
    return env


def _interpreter(entry: str, fds: tuple[int, ...], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _BOOT, entry, *map(str, fds)],
        pass_fds=fds,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # never mix worker output into the caller's stdout
        env=env,
    )


class _ForkedProcess:
    """A zygote's child, seen from the caller: not our child, so no wait(); the zygote reaps it."""

    def __init__(self, pid: int):
        self.pid = pid
        self._gone = False

    def poll(self) -> int | None:
        if not self._gone:
            try:
                os.kill(self.pid, 0)
                return None
            except OSError:
                self._gone = True
        return -1  # exit code unknown

    def kill(self) -> None:
        if not self._gone:  # never signal a pid twice: after reaping it may be reused
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            self._gone = True

    def wait(self, timeout: float | None = None) -> int:
        return -1


class _Zygote:
    """A preloaded interpreter that forks workers on request; fds travel over a Unix socket."""

    def __init__(self, preload: tuple[str, ...]):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = _child_env()
        env["RLVR_ZYGOTE_PRELOAD"] = json.dumps(list(preload))
        try:
            self.process = _interpreter("_zygote_main", (theirs.fileno(),), env)
        finally:
            theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        self.ready = False

    def fork(self) -> tuple[_ForkedProcess, int, int]:
        """A new worker: (process, fd to read its replies, fd to write it requests)."""
        with self.lock:
            if not self.ready:
                self.sock.settimeout(STARTUP_TIMEOUT)
                if self.sock.recv(1) != b"R":
                    raise OSError("zygote failed to start")
                self.ready = True
            to_child_r, to_child_w = os.pipe()
            from_child_r, from_child_w = os.pipe()
            try:
                self.sock.settimeout(30)
                socket.send_fds(self.sock, [b"F"], [to_child_r, from_child_w])
                reply = b""
                while len(reply) < 8:
                    chunk = self.sock.recv(8 - len(reply))
                    if not chunk:
                        raise OSError("zygote died")
                    reply += chunk
            except BaseException:
                os.close(from_child_r)
                os.close(to_child_w)
                raise
            finally:
                os.close(to_child_r)
                os.close(from_child_w)
        return _ForkedProcess(struct.unpack("!q", reply)[0]), from_child_r, to_child_w

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


_ZYGOTES: dict[tuple[str, ...], _Zygote] = {}
_ZYGOTES_LOCK = threading.Lock()


def _fork_worker(preload: tuple[str, ...]) -> tuple[_ForkedProcess, int, int] | None:
    """Fork a worker from the zygote for `preload` (started on first use); None if unavailable."""
    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(preload)
        if zygote is None or zygote.process.poll() is not None:
            zygote = _ZYGOTES[preload] = _Zygote(preload)
    try:
        return zygote.fork()
    except OSError:
        with _ZYGOTES_LOCK:
            if _ZYGOTES.get(preload) is zygote:
                del _ZYGOTES[preload]
        zygote.close()
        return None


def _close_zygotes() -> None:
    with _ZYGOTES_LOCK:
        zygotes = list(_ZYGOTES.values())
        _ZYGOTES.clear()
    for zygote in zygotes:
        zygote.close()


class SandboxWorker:
    """One worker process and its two pipes. Not thread-safe: a pool hands it to one caller at a time."""

    def __init__(self, preload: Iterable[str] = DEFAULT_PRELOAD, memory_mb: int | None = DEFAULT_MEMORY_MB):
        preload = tuple(preload)
        forked = _fork_worker(preload) if USE_ZYGOTE else None
        self.process: subprocess.Popen[bytes] | _ForkedProcess
        if forked is not None:
            self.process, from_child_r, to_child_w = forked
        else:
            to_child_r, to_child_w = os.pipe()
            from_child_r, from_child_w = os.pipe()
            try:
                self.process = _interpreter("_worker_main", (to_child_r, from_child_w), _child_env())
            finally:
                os.close(to_child_r)
                os.close(from_child_w)
        self.inbox = Connection(from_child_r, writable=False)
        self._outbox = Connection(to_child_w, readable=False)
        syspath = [p for p in sys.path if p]
        self._outbox.send({"preload": list(preload), "memory_mb": memory_mb, "syspath": syspath})
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the worker has imported its modules; raise WorkerCrashed if it cannot start."""
        if self.ready:
            return
        try:
            if not self.inbox.poll(timeout):
                raise WorkerCrashed(f"sandbox worker did not start within {timeout:.0f} s")
            self.inbox.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerCrashed(f"sandbox worker failed to start{self.exit_note()}") from exc
        self.ready = True

    def poll_ready(self) -> bool:
        """Non-blocking: has the worker finished starting?"""
        if not self.ready and self.alive and self.inbox.poll(0):
            with contextlib.suppress(WorkerCrashed):
                self.wait_ready(0)
        return self.ready

    def send(self, message: tuple[Any, ...]) -> None:
        self._outbox.send(message)

    def recv(self) -> Any:
        """Next reply; raises EOFError if the worker died."""
        return self.inbox.recv()

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], timeout: float) -> T:
        """Run ``fn(*args)`` in the worker. On overrun or death the worker is killed: do not reuse it."""
        self.wait_ready()
        deadline = time.monotonic() + timeout
        try:
            self.send(("call", fn, args))
            finished = self.inbox.poll(max(0.0, deadline - time.monotonic()))
            if finished:
                status, value = self.recv()
        except (EOFError, OSError) as exc:  # OSError covers BrokenPipeError
            note = self.exit_note()
            self.kill()
            raise WorkerCrashed(f"sandbox worker died{note}") from exc
        if not finished:
            self.kill()
            raise VerificationTimeout(f"guarded call exceeded {timeout:g} s; worker killed")
        if status == "ok":
            return value
        if isinstance(value, (MemoryError, RecursionError)):
            # The interpreter may be left fragmented or near its limits: retire the worker.
            self.kill()
            raise WorkerCrashed(f"guarded call failed: {type(value).__name__}") from value
        raise value

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def exit_note(self) -> str:
        """" (exit code N)" when known (a zygote's child has no exit code we can read)."""
        code = self.process.poll()
        return f" (exit code {code})" if code is not None and code != -1 else ""

    def forget(self) -> None:
        """Close our ends of the pipes without signalling the worker (in a forked child)."""
        for conn in (self.inbox, self._outbox):
            with contextlib.suppress(OSError):
                conn.close()

    def kill(self) -> None:
        """SIGKILL (cannot be ignored, works even mid C-extension call) and reap."""
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.forget()


class WorkerPool:
    """A small, lazily grown pool of sandbox workers, checked out under a lock.

    Concurrent threads each get their own worker, so they do not serialise on one process and
    each blocks at most its own timeout: up to `max_workers` are kept warm, and a burst of
    callers beyond that gets temporary extra workers (forked in milliseconds from the zygote),
    up to ``BURST_FACTOR * max_workers``; only past that cap does a caller wait for a free one.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        preload: Iterable[str] = DEFAULT_PRELOAD,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
    ):
        self.max_workers = max_workers or max(2, min(8, os.cpu_count() or 2))
        self.preload = tuple(preload)
        self.memory_mb = memory_mb
        self._cond = threading.Condition()
        self._idle: list[SandboxWorker] = []
        self._all: set[SandboxWorker] = set()
        self._closed = False

    def _new_worker(self) -> SandboxWorker:
        worker = SandboxWorker(self.preload, self.memory_mb)
        with self._cond:
            self._all.add(worker)
        return worker

    def _checkout(self) -> SandboxWorker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("sandbox pool is shut down")
                for dead in [w for w in self._idle if not w.alive]:  # e.g. hit by the OOM killer
                    self._idle.remove(dead)
                    self._all.discard(dead)
                    dead.kill()
                if self._idle:
                    # Prefer a warm worker: a replacement may still be importing sympy.
                    for k in range(len(self._idle) - 1, -1, -1):
                        if self._idle[k].poll_ready():
                            return self._idle.pop(k)
                    return self._idle.pop()
                if len(self._all) < self.max_workers * BURST_FACTOR:
                    break
                self._cond.wait()
        worker = self._new_worker()
        with self._cond:
            spare = len(self._all) < min(2, self.max_workers) and not self._closed
        if spare:  # a warm spare: after one kill, the next call need not wait for a restart
            self._checkin(self._new_worker())
        return worker

    def _checkin(self, worker: SandboxWorker) -> None:
        with self._cond:
            if worker.alive and not self._closed and len(self._idle) < self.max_workers:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                worker.kill()
            self._cond.notify()

    def _replace(self, dead: SandboxWorker) -> None:
        """Drop a killed worker and start its replacement now, so it warms up while callers go on."""
        with self._cond:
            self._all.discard(dead)
            needed = not self._closed and len(self._idle) < self.max_workers
        if needed:
            self._checkin(self._new_worker())
        else:
            with self._cond:
                self._cond.notify()

    def run(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        check_timeout(timeout)
        for attempt in range(3):  # a worker that fails to start is replaced; give up after 3
            worker = self._checkout()
            try:
                worker.wait_ready()
                break
            except WorkerCrashed:
                self._replace(worker)
                if attempt == 2:
                    raise
        try:
            result = worker.call(fn, args, timeout)
        except (VerificationTimeout, WorkerCrashed):
            self._replace(worker)
            raise
        except Exception:
            self._checkin(worker)  # an ordinary exception of fn: the worker is fine
            raise
        except BaseException:
            # Ctrl-C while waiting: the worker is still busy and would answer the next caller.
            worker.kill()
            self._replace(worker)
            raise
        self._checkin(worker)
        return result

    def warm_up(self, n: int = 1) -> None:
        """Start up to `n` workers and wait until they are ready (e.g. before timing a benchmark)."""
        workers = [self._checkout() for _ in range(min(n, self.max_workers))]
        for worker in workers:
            worker.wait_ready()
            self._checkin(worker)

    def worker_pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in self._all)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()


def check_timeout(timeout: float) -> None:
    """Reject a timeout that is not a positive, finite number of seconds (the one check, for every entry)."""
    if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


_POOL_LOCK = threading.Lock()
_POOL: WorkerPool | None = None
_POOL_SETTINGS: dict[str, Any] = {}


def _default_pool() -> WorkerPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool(**_POOL_SETTINGS)
        return _POOL


def run_guarded(fn: Callable[..., T], *args: Any, timeout: float) -> T:
    """Run ``fn(*args)`` in a sandbox worker process and return its result within `timeout` seconds.

    Raises `VerificationTimeout` on overrun (the worker is killed and replaced) and
    `WorkerCrashed` if the worker dies (segfault, MemoryError under the memory cap). Any other
    exception of `fn` is re-raised here. Works from any thread, asyncio coroutine or
    subprocess; no signals are used.
    """
    return _default_pool().run(fn, *args, timeout=timeout)


def warm_up_sandbox(n: int = 1) -> None:
    """Start `n` sandbox workers now (e.g. when a trainer starts), so no later call waits for one."""
    _default_pool().warm_up(n)


def configure_sandbox(
    *,
    max_workers: int | None = None,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    preload: Iterable[str] = DEFAULT_PRELOAD,
) -> None:
    """Set the default pool's size and memory cap (replaces the current pool; its workers are killed)."""
    global _POOL
    with _POOL_LOCK:
        old, _POOL = _POOL, None
        _POOL_SETTINGS.clear()
        _POOL_SETTINGS.update(max_workers=max_workers, memory_mb=memory_mb, preload=tuple(preload))
    if old is not None:
        old.close()


def shutdown_sandbox() -> None:
    """Kill all default-pool workers (they are restarted lazily on the next call)."""
    global _POOL
    with _POOL_LOCK:
        old, _POOL = _POOL, None
    if old is not None:
        old.close()


def _forget_after_fork() -> None:
    # A forked child must not talk to its parent's workers (their pipes are shared) nor kill them;
    # it closes its copies of their pipes so they still see EOF when the parent exits.
    global _POOL, _POOL_LOCK, _ZYGOTES_LOCK
    for worker in list(_POOL._all) if _POOL is not None else []:  # no lock: its holder may be gone
        worker.forget()
    for zygote in list(_ZYGOTES.values()):
        with contextlib.suppress(OSError):
            zygote.sock.close()
    _POOL = None
    _POOL_LOCK = threading.Lock()
    _ZYGOTES.clear()
    _ZYGOTES_LOCK = threading.Lock()


atexit.register(shutdown_sandbox)
atexit.register(_close_zygotes)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
