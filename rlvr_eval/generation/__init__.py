"""Generation backends behind one interface (``Backend`` in ``base.py``).

Backends are imported lazily by name, so choosing ``openai`` or ``predictions`` never imports torch,
and a missing vLLM only matters to someone who asks for it.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from rlvr_eval.generation.base import (
    DEFAULT_STOP,
    Backend,
    BackendError,
    Completion,
    LiveEngine,
    Prompt,
    SamplingParams,
    derive_seed,
)

BACKENDS: dict[str, str] = {
    "vllm": "rlvr_eval.generation.vllm_backend:VLLMBackend",
    "hf": "rlvr_eval.generation.hf:HFBackend",
    "openai": "rlvr_eval.generation.openai_backend:OpenAIBackend",
    "predictions": "rlvr_eval.generation.predictions:PredictionsBackend",
}
"""Backend name -> ``module:class``; the class's constructor takes the ``get_backend`` kwargs."""

__all__ = [
    "BACKENDS",
    "DEFAULT_STOP",
    "Backend",
    "BackendError",
    "Completion",
    "LiveEngine",
    "Prompt",
    "SamplingParams",
    "default_backend_name",
    "derive_seed",
    "get_backend",
]


def get_backend(name: str, **kwargs: Any) -> Backend:
    """Build the backend called ``name`` (``vllm``, ``hf``, ``openai``, ``predictions``)."""
    target = BACKENDS.get(name)
    if target is None:
        raise BackendError(f"unknown generation backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module_name, class_name = target.split(":")
    backend: Backend = getattr(importlib.import_module(module_name), class_name)(**kwargs)
    return backend


def default_backend_name() -> str:
    """``vllm`` when it is installed (fast), else ``hf`` (works anywhere torch does)."""
    return "vllm" if importlib.util.find_spec("vllm") is not None else "hf"
