"""``EvalConfig``: every setting of ``rlvr-eval score`` in one flat pydantic model.

Defaults are the 1-shot RLVR paper's evaluation (arXiv 2504.20571): its six math benchmarks, the
``qwen25-math-cot`` template, seed 0, top_p 1; n / temperature / max_tokens come from each benchmark
unless overridden (greedy for MATH500, Minerva, OlympiadBench; avg@8 at 0.6 for AIME and AMC).

A YAML file (``--config run.yaml``) holds the same keys; command-line flags override it::

    # rlvr-eval score --config run.yaml --limit 20
    model: Qwen/Qwen2.5-Math-1.5B
    tasks: [math500, aime24]      # or "math500,aime24", or a group: paper, all
    backend: vllm
    tensor_parallel_size: 2

Timeouts are checked here (finite, positive, bounded), so ``--verify-timeout inf`` fails before any
model loads instead of making a timeout that never fires.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from rlvr_eval.tasks import PAPER_MATH_TASKS, UnknownTaskError, expand_task_names
from rlvr_eval.verifier.schema import LenientFallback

DATA_DIR_ENV = "RLVR_DATA_DIR"


MAX_VERIFY_TIMEOUT = 3600.0  # seconds per comparison; the paper's harness uses 3
MAX_REQUEST_TIMEOUT = 86400.0  # seconds per generation request to a server


def _default_data_dir() -> str | None:
    return os.environ.get(DATA_DIR_ENV) or None


def check_seconds(value: float, maximum: float = MAX_VERIFY_TIMEOUT) -> float:
    """``value`` if it is a finite number of seconds in (0, maximum]; inf or nan would never fire."""
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise ValueError(f"must be a finite number of seconds in (0, {maximum:g}], got {value}")
    return value


VerifyTimeout = Annotated[float, AfterValidator(check_seconds)]
"""Seconds per verification: every config and CLI that takes one validates it the same way."""

RequestTimeout = Annotated[float, AfterValidator(lambda v: check_seconds(v, MAX_REQUEST_TIMEOUT))]


def seconds_arg(text: str) -> float:
    """argparse ``type=`` for a verification timeout: the one-line error names the flag."""
    try:
        return check_seconds(float(text))
    except ValueError as err:
        message = str(err) if "seconds" in str(err) else f"not a number: {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def task_list(value: Any) -> Any:
    """Before validation: the task names a list or string means (commas, spaces, groups); see
    ``rlvr_eval.tasks.expand_task_names``. Unknown names fail here, before any model loads."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        try:
            return expand_task_names(value)
        except UnknownTaskError as err:
            raise ValueError(str(err)) from None
    return value  # not text: let the field's type report it


class EvalConfig(BaseModel):
    """Settings of one evaluation run (``rlvr-eval score``)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(description="Model path or hub id; for the predictions backend, the predictions file.")
    tasks: list[str] = Field(
        default_factory=lambda: list(PAPER_MATH_TASKS),
        description="Benchmarks or groups (paper, all); commas or spaces separate names.",
    )
    backend: str | None = Field(None, description="vllm, hf, openai or predictions; None: vllm if installed.")
    run_name: str | None = Field(None, description="Row label in reports; default: model basename.")

    # Sampling: None means the benchmark's own default (the paper's setting for it).
    n: int | None = Field(None, ge=1, description="Samples per item (avg@n is the score).")
    temperature: float | None = Field(None, ge=0.0, description="Sampling temperature; 0 is greedy.")
    max_tokens: int | None = Field(None, ge=1, description="Maximum new tokens per completion.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    seed: int = Field(0, ge=0, description="Generation seed (per-sample seeds derive from it) and CI seed.")
    template: str = Field("qwen25-math-cot", description="Prompt template name or a file with {question}.")
    score_mode: Literal["strict", "lenient"] = Field(
        "lenient",
        description="Headline correctness. lenient = content equal whatever the format, on the answer "
        "the completion states (box, answer tag, answer phrase, closing statement; the paper's harness "
        "also takes the last number: see lenient_fallback); strict also requires the requested format "
        "(\\boxed{}). Both are always reported.",
    )

    limit: int | None = Field(None, ge=1, description="Only the first N items per benchmark (smoke runs).")
    output_dir: str = Field("runs/eval", description="Run directory: samples.jsonl, results.json, reports.")
    data_dir: str | None = Field(
        default_factory=_default_data_dir, description="Local benchmark files <dir>/<task>/test.jsonl."
    )
    chunk_size: int = Field(256, ge=1, description="Prompts generated between two saves of samples.jsonl.")

    # Backend options (each backend takes the ones it understands).
    tensor_parallel_size: int | None = Field(None, ge=1, description="vLLM: GPUs per model replica.")
    data_parallel_size: int | None = Field(None, ge=1, description="vLLM: model replicas.")
    base_url: list[str] | None = Field(None, description="openai: one or more server URLs.")
    max_concurrency: int | None = Field(None, ge=1, description="openai: requests in flight.")
    request_timeout: RequestTimeout | None = Field(None, description="openai: seconds per request (600).")
    max_retries: int | None = Field(None, ge=0, description="openai: retries of a failed request (5).")
    batch_size: int | None = Field(None, ge=1, description="hf: prompts per forward batch.")
    dtype: str | None = Field(None, description="Model dtype (auto, float32, bfloat16, float16).")
    gpu_memory_utilization: float | None = Field(
        None, gt=0.0, le=1.0, description="vLLM: share of GPU memory (of RAM on vLLM's CPU build) to use."
    )
    max_model_len: int | None = Field(None, ge=1, description="vLLM: context length (prompt + response).")
    enforce_eager: bool | None = Field(None, description="vLLM: no CUDA graphs (needed on its CPU build).")

    # Verifier.
    verify_timeout: VerifyTimeout = Field(3.0, description="Seconds per symbolic comparison (paper: 3).")
    verify_workers: int | None = Field(None, ge=1, description="Verifier processes; None: CPU count.")
    lenient_fallback: LenientFallback = Field(
        "none",
        description="What lenient extraction does when a completion states no answer: none (credit only "
        "a stated answer) or last_number (the last number in the text, as the paper's harness does). "
        "Changes lenient scores only; recorded in results.json.",
    )
    answer_present: bool = Field(
        True,
        description="Also check, per completion, whether the reference is stated anywhere in it (any box, "
        "math span, answer phrase), even where the final answer is wrong: the answer-present rate. "
        "A second verifier pass over the completions whose final answer is not right.",
    )

    _tasks = field_validator("tasks", mode="before")(task_list)

    @property
    def name(self) -> str:
        """The run's label in reports."""
        return self.run_name or Path(self.model.rstrip("/")).name or self.model

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> EvalConfig:
        """Load a YAML config; ``overrides`` whose value is not None win over the file."""
        data = load_yaml_mapping(path)
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(data)


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping; one-line errors for missing or malformed files."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read config {path}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise ValueError(f"config {path} is not UTF-8 text (byte offset {err.start})") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"config {path} is not valid YAML: {str(err).splitlines()[0]}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"config {path} must be a mapping of settings, got {type(data).__name__}")
    return data
