"""One flat training config with the 1-shot RLVR paper's settings as defaults.

Defaults reproduce the paper's π1 run (arXiv 2504.20571, §3.1 and its verl scripts; see
``REFERENCE.md`` §1): Qwen2.5-Math-1.5B, 128 prompts x 8 rollouts per step, AdamW lr 1e-6 constant,
clip 0.2/0.2, k3 KL 0.001 in the loss, entropy bonus 0.001, temperature 0.6, 1024/3072 token limits,
2000 steps, checkpoint and evaluation every 20 steps.

Precedence: field defaults < YAML file (``--config``) < command-line flags. Every field can be set
from YAML by its name; ``load_config`` rejects unknown keys so a typo cannot silently fall back to a
default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rlvr_eval.config import VerifyTimeout, load_yaml_mapping, task_list
from rlvr_eval.verifier.schema import LenientFallback
from rlvr_train.grpo import AggregationMode as Aggregation

RewardMode = Literal["verifier", "format", "entropy"]

PAPER_HUB_DATASET = "ypwang61/One-Shot-RLVR-Datasets"


class ConfigError(ValueError):
    """A config file or value cannot be used; the message is one line that says why."""


class TrainConfig(BaseModel):
    """Every knob of a GRPO run; one line per field says what it does."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- what to train ---
    model: str = Field("Qwen/Qwen2.5-Math-1.5B", description="Policy: local directory or Hub id.")
    output_dir: str = Field("runs/one_shot", description="Checkpoints, metrics.jsonl, config.yaml.")
    example: str | None = Field(None, description="Named training example (pi1, pi2, pi13, dsr_sub...).")
    problem: str | None = Field(None, description="Inline training problem (needs `answer`).")
    answer: str | None = Field(None, description="Reference answer of the inline problem.")
    data: str | None = Field(None, description="JSONL file of training rows (fields prompt|problem, answer).")
    data_dir: str | None = Field(None, description="Directory holding train/<example>.jsonl (local data).")
    hub_dataset: str = Field(PAPER_HUB_DATASET, description="Hub dataset used when no local file is found.")
    template: str = Field("qwen-boxed", description="Prompt template name or file (paper: qwen-boxed).")

    # --- reward ---
    reward: RewardMode = Field(
        "verifier",
        description="verifier: 1 if correct; format: 1 for any non-empty boxed answer; entropy: no reward.",
    )
    answer_format: Literal["boxed"] = Field("boxed", description="Where the answer must be (paper: boxed).")
    strict: bool = Field(True, description="Reward only answers in the requested format (paper: yes).")
    truncated_reward: Literal["score", "zero"] = Field(
        "score",
        description="Responses cut at max_response_tokens: score their last answer as any other (paper) "
        "or give them 0 (an overlong penalty).",
    )
    lenient_fallback: LenientFallback = Field(
        "none", description="With strict=false: also reward the last number of an answer-less text "
        "(last_number) or not (none, the default: only a stated answer counts).",
    )
    verify_workers: int | None = Field(None, description="Verifier processes (None: the verifier's default).")
    verify_timeout: VerifyTimeout = Field(3.0, description="Seconds per verification (finite, > 0).")

    # --- batch and sampling ---
    batch_size: int = Field(128, ge=1, description="Prompts per step (the example repeated to fill it).")
    rollouts: int = Field(8, ge=1, description="Responses per prompt = GRPO group size.")
    max_prompt_tokens: int = Field(1024, ge=1, description="Longer prompts are an error (paper: 1024).")
    max_response_tokens: int = Field(3072, ge=1, description="Generation limit per response (paper: 3072).")
    min_response_tokens: int = Field(
        0, ge=0, description="End tokens are masked until this many tokens (benchmarks: = max; paper: 0)."
    )
    temperature: float = Field(0.6, gt=0, description="Sampling temperature; log-probs use logits / T.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass (paper: 1, i.e. off).")

    # --- optimisation ---
    steps: int = Field(2000, ge=0, description="Optimizer steps (= rollout steps) to run.")
    lr: float = Field(1e-6, gt=0, description="AdamW learning rate, constant.")
    warmup_steps: int = Field(0, ge=0, description="Linear warmup steps (paper: none).")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    adam_betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW betas (torch defaults).")
    grad_clip: float = Field(1.0, gt=0, description="Max global gradient norm.")
    clip_low: float = Field(0.2, ge=0, description="PPO ratio clip below 1.")
    clip_high: float = Field(0.2, ge=0, description="PPO ratio clip above 1.")
    kl_coef: float = Field(0.001, ge=0, description="k3 KL weight in the loss; KL clamped at 10; 0: no ref.")
    entropy_coef: float = Field(0.001, description="Entropy bonus: loss -= coef * entropy.")
    aggregation: Aggregation = Field("token_mean", description="How token losses are averaged (paper).")
    normalize_std: bool = Field(True, description="Divide advantages by the group std (False: Dr. GRPO).")
    # Memory, not math: the accumulated gradient is the whole batch's whatever the split (departure 2).
    micro_batch_size: int = Field(4, ge=1, description="Max responses per forward/backward (accumulated).")
    max_tokens_per_micro_batch: int | None = Field(
        None, ge=1, description="Also cap a micro-batch's padded tokens, prompt + response (None: no cap)."
    )
    logprob_chunk_size: int = Field(
        512, ge=0, description="Positions per chunk of LM-head logits for log-probs/entropy (0: all at once)."
    )
    gradient_checkpointing: bool | None = Field(
        None, description="Recompute activations in backward to save memory (None: on for GPU, off for CPU)."
    )
    bf16: bool = Field(
        True, description="GPU: bf16 compute, fp32 master weights and gradient reduction (CPU: always fp32)."
    )
    seed: int = Field(0, description="Seeds torch, per-step sampling and the batch order.")

    # --- generation backend ---
    backend: Literal["hf", "vllm"] = Field(
        "hf", description="Engine for rollouts and evaluation: hf generate on the policy, or vLLM per rank."
    )
    rollout_prompts_per_call: int = Field(16, ge=1, description="hf: prompts per generate call (memory).")
    vllm_gpu_memory_utilization: float = Field(0.4, gt=0, le=1, description="vLLM memory share.")
    vllm_kv_cache_memory_gb: float | None = Field(
        None, gt=0, description="vLLM KV cache size in GiB instead of the memory share (CPU: share of RAM)."
    )
    vllm_tensor_parallel_size: int = Field(
        1, ge=1, description="Ranks sharing one vLLM engine under torchrun (within a node)."
    )

    # --- checkpoints, logging, evaluation ---
    save_every: int = Field(20, ge=0, description="Checkpoint every k steps (0: only at the end).")
    keep_last: int | None = Field(None, ge=1, description="Keep only the newest k checkpoints (None: all).")
    keep_trainer_state: int = Field(
        1, ge=1, description="Newest checkpoints that keep the fp32 weights + optimizer state --resume needs."
    )
    resume: bool = Field(False, description="Continue from the newest checkpoint in output_dir.")
    eval_every: int = Field(20, ge=0, description="Evaluate every k steps (0: never).")
    eval_tasks: list[str] = Field(
        default_factory=lambda: ["math500"],
        description="rlvr_eval task names or groups (paper, all), commas or spaces; empty: no evaluation.",
    )
    eval_limit: int | None = Field(None, ge=1, description="Items per eval task (None: all).")
    eval_template: str = Field("qwen25-math-cot", description="Eval prompt template (paper eval prompt).")
    eval_max_tokens: int = Field(3072, ge=1, description="Generation limit during evaluation.")
    eval_batch_size: int = Field(16, ge=1, description="Prompts per greedy generate call during eval.")
    eval_data_dir: str | None = Field(None, description="Benchmark directory for eval (None: data_dir).")
    tensorboard: bool = Field(True, description="Also log to TensorBoard when it is installed.")
    dry_run: bool = Field(False, description="Print the resolved config and exit.")

    @field_validator("eval_tasks", mode="before")
    @classmethod
    def _eval_tasks(cls, value: Any) -> Any:
        return value if value == [] else task_list(value)  # [] switches evaluation off

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if (self.problem is None) != (self.answer is None):
            raise ValueError("problem and answer must be given together")
        sources = [s for s in (self.example, self.problem, self.data) if s is not None]
        if len(sources) > 1:
            raise ValueError("give only one of example, problem/answer, data")
        if self.min_response_tokens > self.max_response_tokens:
            raise ValueError("min_response_tokens exceeds max_response_tokens")
        return self

    @property
    def responses_per_step(self) -> int:
        return self.batch_size * self.rollouts

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


_SOURCE_KEYS = {"example", "problem", "answer", "data"}


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a dict (an empty file is an empty dict), with rlvr-eval's reader."""
    try:
        return load_yaml_mapping(path)
    except ValueError as exc:  # same one-line messages, under the trainer's error type
        raise ConfigError(str(exc)) from None


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, *, none_is_unset: bool = True
) -> TrainConfig:
    """Defaults, then the YAML file, then ``overrides``.

    ``none_is_unset``: None values in ``overrides`` mean "not given" and are dropped; with False they
    set the field to None (the CLI passes only the flags that were typed, ``--keep-last none`` included).
    """
    values: dict[str, Any] = read_yaml(path) if path is not None else {}
    given = {k: v for k, v in (overrides or {}).items() if v is not None or not none_is_unset}
    if _SOURCE_KEYS & given.keys():  # a training source on the command line replaces the file's source
        for key in _SOURCE_KEYS:
            values.pop(key, None)
    values.update(given)
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
