"""``--resume``: continue a run exactly where its newest loadable checkpoint left it, or refuse.

A resumed run must be the run that was started: the settings that define what is trained (data, model,
reward, optimiser, sampling, loss, seed, ...) must equal the ones recorded in the checkpoint, else the
resume stops with one line naming the setting. Only settings in ``SAFE_TO_CHANGE`` may differ (how long
the run goes, how it is observed, saved or split into micro-batches); each such change is appended to
``<run>/resume_log.jsonl`` with the step it took effect at, so the run directory tells its whole story.

If the newest checkpoint does not load (a truncated ``model.safetensors`` or ``trainer_state.pt``), the
previous one that does is used, with a warning naming the bad one; the bad ones are renamed
``checkpoint-<step>.broken`` so that pruning and later resumes never mistake them for the newest.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr_train import checkpoint as ckpt
from rlvr_train.config import TrainConfig

RESUME_LOG = "resume_log.jsonl"

# Settings that may change on --resume: they decide how long the run goes, what is evaluated and logged,
# where files go and how the same update is computed (micro-batching is exact), never what is trained.
SAFE_TO_CHANGE = frozenset({
    "steps", "resume", "dry_run", "output_dir",
    "save_every", "keep_last", "keep_trainer_state", "tensorboard",
    "eval_every", "eval_tasks", "eval_limit", "eval_template", "eval_max_tokens", "eval_batch_size",
    "eval_data_dir",
    "verify_workers", "verify_timeout",
    "micro_batch_size", "max_tokens_per_micro_batch", "logprob_chunk_size", "gradient_checkpointing",
    "rollout_prompts_per_call", "vllm_gpu_memory_utilization", "vllm_kv_cache_memory_gb",
    "vllm_tensor_parallel_size",  # engine layout: like the number of ranks, it does not change the run
    "data_dir", "hub_dataset",  # where the examples are found; their content is checked by digest
})


_NOT_LOGGED = frozenset({"resume", "dry_run"})  # how this invocation was started, not a setting of the run


class ResumeError(ValueError):
    """The run cannot be resumed as asked; the message is one line that says why and what to do."""


def flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def recorded_config(state: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's run config as JSON values, defaults filled in for fields added since."""
    defaults = TrainConfig().model_dump(mode="json")
    saved = {k: v for k, v in state["config"].items() if k in defaults}
    return {**defaults, **saved}


def config_changes(recorded: dict[str, Any], cfg: TrainConfig) -> dict[str, list[Any]]:
    """``{field: [recorded, new]}`` for every field that differs; raises on a training-defining one."""
    new = cfg.model_dump(mode="json")
    changes = {
        k: [recorded.get(k), v] for k, v in new.items() if k not in _NOT_LOGGED and recorded.get(k) != v
    }
    for field, (old, value) in changes.items():
        if field not in SAFE_TO_CHANGE:
            raise ResumeError(
                f"--resume cannot change {field} ({flag(field)}) from {old!r} to {value!r}: it defines the "
                f"run; resume with the recorded value or start a new --output-dir"
            )
    return changes


def examples_digest(examples: Sequence[Any]) -> str:
    """sha256 of the training examples (index, question, answer): the data, wherever it was read from."""
    rows = [[ex.index, ex.question, ex.answer] for ex in examples]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


def check_examples(state: dict[str, Any], digest: str) -> None:
    recorded = state.get("examples_digest")
    if recorded and recorded != digest:
        raise ResumeError(
            "--resume: the training examples differ from the ones this run trained on (was the data file "
            "or --data-dir changed?); resume with the same data or start a new --output-dir"
        )


@dataclass
class ResumePoint:
    """The checkpoint to continue from, its trainer state, and the newer ones that did not load."""

    path: Path
    state: dict[str, Any]
    rejected: list[tuple[Path, str]]

    @property
    def step(self) -> int:
        return int(self.state["step"])

    @property
    def config(self) -> dict[str, Any]:
        """The run config recorded in the checkpoint, as JSON values (defaults for fields added since)."""
        return recorded_config(self.state)


def find_resume_point(output_dir: Path) -> ResumePoint | None:
    """The newest checkpoint that loads, with its trainer state; None if the run has no checkpoint.

    Reads only (every rank may call it at once); ``set_aside`` then deals with the rejected ones.
    Raises ``ResumeError`` if checkpoints exist but none can be resumed.
    """
    candidates = ckpt.list_checkpoints(output_dir)
    if not candidates:
        return None
    rejected: list[tuple[Path, str]] = []
    for _, path in reversed(candidates):
        if not (path / ckpt.STATE_FILE).is_file():
            reason = f"no {ckpt.STATE_FILE}: only the newest keep_trainer_state checkpoints keep it"
            rejected.append((path, reason))
            continue
        try:
            return ResumePoint(path, ckpt.load_trainer_state(path), rejected)
        except ckpt.CheckpointError as exc:
            rejected.append((path, str(exc)))
    reasons = "; ".join(
        reason if reason.startswith(path.name) else f"{path.name}: {reason}" for path, reason in rejected[:3]
    )
    raise ResumeError(f"no checkpoint in {output_dir} can be resumed ({reasons})")


def set_aside(point: ResumePoint) -> None:
    """Warn about each newer checkpoint that did not load and rename it ``*.broken`` (rank 0 only).

    Renamed, not deleted: the files may be worth a look. Left in place they would count as the newest
    checkpoint for ``keep_last`` pruning, which would then delete the good checkpoints written after.
    """
    for bad, reason in point.rejected:
        print(f"rlvr-train: warning: {bad.name} cannot be resumed ({reason}); resuming from "
              f"{point.path.name}; {bad.name} is renamed {bad.name}.broken", file=sys.stderr)
        bad.rename(bad.with_name(f"{bad.name}.broken"))


def log_resume(
    output_dir: Path, step: int, checkpoint: Path, changes: dict[str, list[Any]]
) -> None:
    """Append one row per resume: the step it continues from and every setting that changed there."""
    row = {"step": step, "checkpoint": checkpoint.name, "changed": changes,
           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with (output_dir / RESUME_LOG).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
