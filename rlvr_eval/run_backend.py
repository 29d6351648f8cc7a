"""The generation backend a run's ``EvalConfig`` asks for, built only when a sample is missing.

``make_backend`` passes each backend only the options its constructor accepts, so one flat config
serves vLLM, HF, an OpenAI-compatible server pool and saved predictions alike.
"""

from __future__ import annotations

import inspect
from typing import Any

from rlvr_eval.config import EvalConfig
from rlvr_eval.generation import Backend, BackendError, default_backend_name


def backend_name(config: EvalConfig) -> str:
    return config.backend or default_backend_name()


def make_backend(config: EvalConfig) -> Backend:
    """Build the configured backend, passing only the options its constructor accepts."""
    from rlvr_eval.generation import BACKENDS, get_backend

    name = backend_name(config)
    options: dict[str, Any] = {
        "model": config.model,
        "path": config.model,  # the predictions backend reads saved completions from the "model" path
        "tensor_parallel_size": config.tensor_parallel_size,
        "data_parallel_size": config.data_parallel_size,
        "base_url": config.base_url,
        "base_urls": config.base_url,
        "max_concurrency": config.max_concurrency,
        "request_timeout": config.request_timeout,
        "max_retries": config.max_retries,
        "batch_size": config.batch_size,
        "dtype": config.dtype,
        "gpu_memory_utilization": config.gpu_memory_utilization,
        "max_model_len": config.max_model_len,
        "enforce_eager": config.enforce_eager,
        "seed": config.seed,
    }
    target = BACKENDS.get(name)
    if target is not None:
        import importlib

        module_name, class_name = target.split(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImportError as err:
            raise BackendError(f"backend {name!r} is not available: {err}") from err
        params = inspect.signature(cls).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        options = {k: v for k, v in options.items() if v is not None and (takes_any or k in params)}
    try:
        return get_backend(name, **options)
    except TypeError as err:  # a required option is missing, e.g. the openai backend without --base-url
        raise BackendError(f"backend {name!r} cannot be built from these options: {err}") from err


class LazyBackend:
    """Builds the backend only when a sample is actually missing (a finished run never loads a model)."""

    def __init__(self, config: EvalConfig, backend: Backend | None) -> None:
        self.config = config
        self.backend = backend
        self.owned = backend is None

    def get(self) -> Backend:
        if self.backend is None:
            self.backend = make_backend(self.config)
        return self.backend

    def close(self) -> None:
        if self.owned and self.backend is not None:
            self.backend.close()
