"""rlvr_eval: a rigorous math answer verifier and the evaluation harness built on it.

The public API is imported lazily so that ``import rlvr_eval`` stays cheap (no sympy,
torch or transformers until they are needed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "verify": "rlvr_eval.verifier.api",
    "answer_present": "rlvr_eval.verifier.presence",
    "is_equivalent": "rlvr_eval.verifier.api",
    "verify_batch": "rlvr_eval.verifier.batch",
    "verify_requests": "rlvr_eval.verifier.batch",
    "parse_answer": "rlvr_eval.verifier.parse",
    "extract_answer": "rlvr_eval.verifier.extract",
    "extract_lenient": "rlvr_eval.verifier.extract",
    "Verdict": "rlvr_eval.verifier.schema",
    "Extraction": "rlvr_eval.verifier.schema",
    "FormatStatus": "rlvr_eval.verifier.schema",
    "ContentStatus": "rlvr_eval.verifier.schema",
    "EquivalenceOptions": "rlvr_eval.verifier.schema",
    "VerifyRequest": "rlvr_eval.verifier.schema",
}

__all__ = [
    "ContentStatus",
    "EquivalenceOptions",
    "Extraction",
    "FormatStatus",
    "Verdict",
    "VerifyRequest",
    "__version__",
    "answer_present",
    "extract_answer",
    "extract_lenient",
    "is_equivalent",
    "parse_answer",
    "verify",
    "verify_batch",
    "verify_requests",
]

if TYPE_CHECKING:
    from rlvr_eval.verifier.api import is_equivalent, verify
    from rlvr_eval.verifier.batch import verify_batch, verify_requests
    from rlvr_eval.verifier.extract import extract_answer, extract_lenient
    from rlvr_eval.verifier.parse import parse_answer
    from rlvr_eval.verifier.presence import answer_present
    from rlvr_eval.verifier.schema import (
        ContentStatus,
        EquivalenceOptions,
        Extraction,
        FormatStatus,
        Verdict,
        VerifyRequest,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rlvr_eval' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
