"""Exceptions of the verifier runtime.

They are internal signals: ``verify`` turns them into a ``ContentStatus`` (TIMEOUT or
UNPARSEABLE) so that a bad completion never crashes a training or evaluation loop.
"""

from __future__ import annotations


class VerificationError(RuntimeError):
    """Base class of the verifier's runtime errors."""


class VerificationTimeout(VerificationError, TimeoutError):
    """Guarded work did not finish within its time budget; its worker was killed and replaced."""


class WorkerCrashed(VerificationError):
    """A sandbox worker died (segfault, out of memory, killed) or failed to start; it was replaced."""
