"""The trainer's generation engine: ONE ``rlvr_eval.generation`` backend serves rollouts and evaluation.

- ``backend: hf`` wraps the policy module itself (``HFBackend.from_model``): rollouts always come from
  the current weights, nothing to sync. Under torchrun + FSDP2 the full weights are gathered on every
  rank for the length of a ``generating()`` block (ranks then generate without collectives).
- ``backend: vllm`` is a colocated vLLM engine per rank (``VLLMBackend(live=True)``; under torchrun
  with vLLM's ``external_launcher`` executor, as TRL's colocate mode and verl's hybrid engine). Before
  the first generation after an update it receives the policy's weights one parameter at a time (each
  FSDP2 shard gathered, loaded, freed); it sleeps (frees its KV cache) while the trainer updates.
  Ranks of one tensor-parallel group share an engine and send it the same requests.

Sampling is seeded per (step seed, prompt, occurrence of the prompt in the WHOLE step, sample index)
(``rlvr_eval.generation.derive_seed``), so the same weights, seed and step draw the same rollouts after a
resume, and, engine numerics aside, whatever the number of ranks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import torch

from rlvr_eval.generation import DEFAULT_STOP, Backend, LiveEngine, SamplingParams
from rlvr_eval.generation.base import occurrences
from rlvr_train import distributed as dist
from rlvr_train.config import TrainConfig
from rlvr_train.rollout import Rollouts, rollouts_from

EngineFactory = Callable[[Any, Any], Backend]
"""``(policy, tokenizer) -> backend``: lets a caller (a test, a custom engine) replace ``build_engine``."""


def engine_size(cfg: TrainConfig) -> int:
    """Ranks per engine: the vLLM tensor-parallel size (hf: each rank its own engine)."""
    return cfg.vllm_tensor_parallel_size if cfg.backend == "vllm" else 1


def check_layout(cfg: TrainConfig) -> str | None:
    """Why ranks cannot be grouped into engines as configured (None when they can)."""
    tp, world = engine_size(cfg), dist.world_size()
    if tp == 1:
        return None
    if not dist.is_distributed():
        return f"vllm_tensor_parallel_size={tp} needs torchrun with a multiple of {tp} ranks per node"
    local = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    if local % tp:  # vLLM groups consecutive ranks: a group must not span nodes
        return f"vllm_tensor_parallel_size={tp} must divide the {local} ranks per node"
    return None


def build_engine(cfg: TrainConfig, policy: Any, tokenizer: Any, source: str, autocast: Any) -> Backend:
    """The configured engine; ``source`` is the directory the policy was loaded from."""
    if cfg.backend == "hf":
        from rlvr_eval.generation.hf import HFBackend

        rows = rollout_rows_per_call(cfg)
        return HFBackend.from_model(policy, tokenizer, batch_size=rows, autocast=autocast)
    from rlvr_eval.generation.vllm_backend import VLLMBackend

    on_gpu = torch.cuda.is_available()
    if on_gpu:  # vLLM sizes its memory from what is free: return the trainer's cached blocks first
        torch.cuda.empty_cache()
    eval_tokens = cfg.eval_max_tokens if cfg.eval_every and cfg.eval_tasks else 0
    extra: dict[str, Any] = {}
    if cfg.vllm_kv_cache_memory_gb is not None:
        extra["kv_cache_memory_bytes"] = int(cfg.vllm_kv_cache_memory_gb * 2**30)
    return VLLMBackend(
        source, live=True, external_launcher=dist.is_distributed(),
        tensor_parallel_size=cfg.vllm_tensor_parallel_size,
        dtype="bfloat16" if on_gpu and cfg.bf16 else "float32", enforce_eager=not on_gpu,
        gpu_memory_utilization=cfg.vllm_gpu_memory_utilization, seed=cfg.seed,
        max_model_len=cfg.max_prompt_tokens + max(cfg.max_response_tokens, eval_tokens),
        engine_kwargs=extra,
    )


def rollout_rows_per_call(cfg: TrainConfig) -> int:
    """Sequences per ``generate`` batch of the hf engine during rollouts (memory bound)."""
    return cfg.rollout_prompts_per_call * cfg.rollouts


class PolicyEngine:
    """A generation backend kept in step with the policy being trained.

    Call ``generating()`` around every use (rollouts, evaluation), ``sleep()`` before the update and
    ``updated()`` after it. A live engine (vLLM) receives the weights at the first ``generating()``
    after ``updated()`` (and before its first use: on resume its own load may differ in precision).
    """

    def __init__(self, backend: Backend, policy: Any) -> None:
        self.backend = backend
        self.policy = policy
        self.live = isinstance(backend, LiveEngine)
        self._stale = self.live

    @contextlib.contextmanager
    def generating(self, rows_per_call: int | None = None) -> Iterator[Backend]:
        """The backend, ready to generate from the policy's current weights."""
        if self.live:
            assert isinstance(self.backend, LiveEngine)
            if self._stale:
                self.backend.load_weights(dist.iter_full_parameters(self.policy))
                self._stale = False
            self.backend.wake_up()
            gathered: Any = contextlib.nullcontext()
        else:
            gathered = dist.full_weights(self.policy)
        previous = getattr(self.backend, "batch_size", None)
        if rows_per_call is not None and previous is not None:
            self.backend.batch_size = rows_per_call  # type: ignore[attr-defined]
        try:
            with gathered:
                yield self.backend
        finally:
            if rows_per_call is not None and previous is not None:
                self.backend.batch_size = previous  # type: ignore[attr-defined]

    def sleep(self) -> None:
        """Free the engine's generation memory for the update (live engines that support it)."""
        if self.live:
            assert isinstance(self.backend, LiveEngine)
            self.backend.sleep()

    def updated(self) -> None:
        """The policy's weights changed: a live engine must receive them before it generates again."""
        self._stale = True

    def close(self) -> None:
        """Release the engine. A vLLM engine under torchrun also ends the process group: call last."""
        self.backend.close()


def step_seed(seed: int, step: int) -> int:
    """The sampling seed of one step (non-negative: backends derive per-sample seeds from it)."""
    return (seed * 1_000_003 + step) % (2**31 - 1)


def my_rollout_positions(batch: int, tp: int) -> tuple[list[int], slice]:
    """Positions (in the step's prompt list) this rank's engine generates, and where its own lie.

    Rank r trains on positions r, r+W, ... (whole groups; ``dist.my_share``). The ranks of one
    tensor-parallel group share an engine, so each of them asks it for the whole group's positions
    (the same requests on every member, as vLLM requires) and keeps its own slice of the answer.
    """
    world, rank = dist.world_size(), dist.rank()
    first = rank - rank % tp
    positions = [p for member in range(first, first + tp) for p in range(member, batch, world)]
    own = batch // world
    return positions, slice((rank % tp) * own, (rank % tp + 1) * own)


def sample_rollouts(
    backend: Backend, step_prompts: list[list[int]], cfg: TrainConfig, step: int
) -> tuple[Rollouts, list[int]]:
    """This rank's rollouts of one step (``G`` per prompt, groups contiguous) and their positions."""
    positions, own = my_rollout_positions(len(step_prompts), engine_size(cfg))
    occurrence = occurrences(step_prompts)  # counted over the whole step, not this rank's share
    params = SamplingParams(
        n=cfg.rollouts, temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_response_tokens,
        min_tokens=cfg.min_response_tokens, seed=step_seed(cfg.seed, step), stop=list(DEFAULT_STOP),
        occurrences=[occurrence[p] for p in positions],
    )
    completions = backend.generate([step_prompts[p] for p in positions], params)
    mine = positions[own]
    return rollouts_from([step_prompts[p] for p in mine], completions[own]), mine
