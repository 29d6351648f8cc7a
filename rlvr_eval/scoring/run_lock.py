"""One process at a time per run directory: an advisory ``flock`` on ``<run dir>/.lock``.

Two ``score`` (or ``rescore``) processes on one directory would interleave their appends to
samples.jsonl and overwrite each other's results. ``flock`` locks belong to the open file, so the
kernel drops the lock when the process ends however it ends (Ctrl-C, SIGKILL, OOM): a stale
``.lock`` file left behind never blocks the next run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from rlvr_eval.scoring.records import SAMPLES_FILE, repair_torn_tail

LOCK_FILE = ".lock"


class RunDirBusyError(OSError):
    """Another process holds the run directory's lock (an OSError: the CLIs print it as one line)."""


@contextlib.contextmanager
def run_dir_lock(out: Path) -> Iterator[None]:
    """Hold the exclusive lock of the existing run directory ``out`` for the ``with`` body."""
    try:
        import fcntl
    except ImportError:  # not POSIX (Windows): no advisory locks, run unguarded
        yield
        return
    with (out / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirBusyError(f"another rlvr-eval process is using {out}") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def locked_run_dir(out: Path) -> Iterator[None]:
    """Lock run directory ``out``, then repair a torn tail of its samples.jsonl (said on stderr)."""
    with run_dir_lock(out):
        note = repair_torn_tail(out / SAMPLES_FILE)
        if note:
            print(f"rlvr-eval: repaired {note}", file=sys.stderr)
        yield
