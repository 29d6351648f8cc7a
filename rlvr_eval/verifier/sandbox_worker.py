"""The worker side of the sandbox: what runs inside a sandbox worker process or its zygote.

Kept apart from `sandbox.py` (the parent side: pools, timeouts, replacement) because this code runs
in another process with its own rules: single-threaded forking in the zygote, a memory cap, and
exiting when the parent dies. Message protocol: see `sandbox.py`'s module docstring.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Any


def _apply_memory_cap(memory_mb: int | None) -> None:
    """Cap the worker's address space (Linux) so `10^{10^{10}}` raises MemoryError, not OOM-kills."""
    if memory_mb is None or not sys.platform.startswith("linux"):
        return
    import resource

    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = current + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _watch_parent(parent_pid: int) -> None:
    """Exit when the parent (caller or zygote) dies, even if the main thread is stuck in C code."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:  # re-parented: our parent is gone
            os._exit(0)


def _run_one(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except BaseException as exc:  # report everything; the parent decides what is fatal
        return "raise", exc


def _send_reply(conn: Connection, reply: tuple[Any, ...]) -> None:
    try:
        conn.send(reply)
    except Exception as exc:  # unpicklable result or exception: send a plain description instead
        conn.send((*reply[:-2], "raise", RuntimeError(f"unpicklable result: {exc!r}")))


_WARMED: set[str] = set()  # modules whose warm_up() already ran here (a forked worker inherits it)


def _preload(modules: Iterable[str]) -> None:
    """Import the modules a worker needs and run their optional `warm_up()` once per process tree,
    so the zygote fills the caches and every worker forked from it starts warm."""
    for module in modules:
        with contextlib.suppress(ImportError):
            imported = importlib.import_module(module)
            warm_up = getattr(imported, "warm_up", None)
            if callable(warm_up) and module not in _WARMED:
                _WARMED.add(module)
                with contextlib.suppress(Exception):  # a cold cache is slower, never wrong
                    warm_up()


def _worker_main(read_fd: int, write_fd: int) -> None:
    """Entry point of a fresh-interpreter worker (see `_BOOT`)."""
    # Ctrl-C in a terminal signals the whole process group; the parent handles it, not us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _serve(Connection(read_fd, writable=False), Connection(write_fd, readable=False))


def _zygote_main(sock_fd: int) -> None:
    """Entry point of the zygote: import once, then fork a worker per request (see `_Zygote`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=sock_fd)
    _preload(json.loads(os.environ.pop("RLVR_ZYGOTE_PRELOAD", "[]")))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps our children
    sock.sendall(b"R")
    while True:  # single-threaded on purpose: forking is only safe without other threads
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1, 2)
        except OSError:
            return
        if not message or len(fds) != 2:
            return  # the owner closed the socket (or died)
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _serve(Connection(fds[0], writable=False), Connection(fds[1], readable=False))
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        sock.sendall(struct.pack("!q", pid))


def _serve(inbox: Connection, outbox: Connection) -> None:
    """The worker loop, after applying the caller's config (sys.path, preload, memory cap)."""
    config = inbox.recv()
    sys.path[:] = config["syspath"] + [p for p in sys.path if p not in config["syspath"]]
    _preload(config["preload"])
    _apply_memory_cap(config["memory_mb"])
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    outbox.send(("ready", os.getpid()))
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message[0] == "call":
            _send_reply(outbox, _run_one(message[1], message[2]))
        elif message[0] == "map":
            # Unpickling may have imported fn's module: tell the parent the clock starts now.
            outbox.send(("started",))
            for k, args in enumerate(message[2]):
                _send_reply(outbox, ("item", k, *_run_one(message[1], args)))
        else:
            return
