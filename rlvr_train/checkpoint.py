"""Checkpoints: ``DIR/checkpoint-<step>/`` holds the policy in bf16 Hugging Face format; the newest also
hold what ``--resume`` needs to continue exactly.

Layout of one checkpoint (``step`` = optimizer steps completed)::

    checkpoint-40/
        config.json, generation_config.json, model.safetensors (bf16), tokenizer files
                                # every checkpoint: loads with AutoModel..., rlvr-eval score, vLLM
        checkpoint.json         # the step and its training metrics
        trainer_state.pt        # the newest `keep_trainer_state` checkpoints only: fp32 weights (the
                                # optimizer's master copy: bf16 would lose the small updates), AdamW
                                # moments, RNG states, step, run config, training-examples digest

Sizes for Qwen2.5-Math-1.5B (1,543,714,304 parameters): model.safetensors 3.09 GB; trainer_state.pt
18.5 GB (fp32 weights 6.17 GB + two fp32 AdamW moments 12.35 GB; measured on the tiny model: 2.01 and
12.13 bytes per parameter). The paper's 100 checkpoints: 99 x 3.09 + 21.6 GB = about 0.33 TB, against
1.85 TB when every checkpoint kept the fp32 weights and the optimizer state.

A checkpoint is written to ``.checkpoint-<step>.tmp``, every file and the directory are fsynced, and
only then is it renamed (and the parent directory fsynced), so a run killed or a machine that loses
power while saving never leaves a half-written ``checkpoint-<step>`` behind.
"""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlvr_train.durable import fsync, fsync_tree

STATE_FILE = "trainer_state.pt"
INFO_FILE = "checkpoint.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")
MODEL_DTYPE = torch.bfloat16  # what evaluation and vLLM load; training resumes from the fp32 copy


class CheckpointError(RuntimeError):
    """A checkpoint's files do not load; the message names the file and why."""


def checkpoint_dir(output_dir: str | Path, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}"


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (renamed into place, so fully written), oldest first."""
    base = Path(output_dir)
    if not base.is_dir():
        return []
    found = []
    for path in base.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found)


def resumable_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Checkpoints that still hold their trainer state, oldest first."""
    return [(step, path) for step, path in list_checkpoints(output_dir) if (path / STATE_FILE).is_file()]


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    output_dir: str | Path,
    step: int,
    *,
    model: Any,
    tokenizer: Any,
    weights: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, Any] | None = None,
    examples_digest: str = "",
    keep_last: int | None = None,
    keep_trainer_state: int = 1,
) -> Path:
    """Write ``checkpoint-<step>`` atomically and durably, then prune old checkpoints and trainer states.

    ``weights``: the full fp32 state dict (gathered from the shards under FSDP); ``model`` provides the
    config and the save logic only. Old trainer states are deleted only after the new checkpoint is
    durable, so a crash at any point leaves at least one resumable checkpoint.
    """
    final = checkpoint_dir(output_dir, step)
    tmp = final.with_name(f".{final.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, state_dict={name: t.to(MODEL_DTYPE) for name, t in weights.items()})
    model_config = copy.deepcopy(model.config)
    model_config.dtype = MODEL_DTYPE  # so vLLM / AutoModel "auto" load the bf16 weights as bf16
    model_config.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    info = {"step": step, "metrics": metrics or {}}
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")
    state = {
        "step": step, "model": weights, "optimizer": optimizer_state, "rng": rng_state(), "config": config,
        "examples_digest": examples_digest,
    }
    torch.save(state, tmp / STATE_FILE)
    fsync_tree(tmp)
    if final.exists():  # re-saving the same step (e.g. final save after a periodic one)
        shutil.rmtree(final)
    tmp.rename(final)
    fsync(final.parent)
    prune(output_dir, keep_last=keep_last, keep_trainer_state=keep_trainer_state)
    return final


def prune(output_dir: str | Path, *, keep_last: int | None, keep_trainer_state: int) -> None:
    """Delete checkpoints beyond the newest ``keep_last`` and trainer states beyond ``keep_trainer_state``."""
    if keep_last is not None:
        for _, old in list_checkpoints(output_dir)[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    for _, old in resumable_checkpoints(output_dir)[:-keep_trainer_state]:
        (old / STATE_FILE).unlink(missing_ok=True)


def load_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Copy a saved full state dict into ``model`` exactly; only tied aliases (lm_head = embeddings) may be
    absent from it (``distributed.full_state_dict`` keeps one name per tensor)."""
    result = model.load_state_dict(weights, strict=False)
    seen: dict[int, str] = {}
    aliases = set()
    for name, tensor in model.state_dict(keep_vars=True).items():
        if seen.setdefault(id(tensor), name) != name:
            aliases.add(name)
    missing = set(result.missing_keys) - aliases
    if missing or result.unexpected_keys:
        raise CheckpointError(
            f"saved weights do not fit the model: missing {sorted(missing)[:3]}, "
            f"unexpected {sorted(result.unexpected_keys)[:3]}"
        )


def load_trainer_state(path: str | Path) -> dict[str, Any]:
    """The trainer state of a checkpoint, after checking that its model files are whole too.

    Raises ``CheckpointError`` naming the first file that does not load (e.g. cut short by a full disk).
    The state file is memory-mapped: under torchrun every rank reads the same pages, not its own copy.
    """
    path = Path(path)
    check_model_files(path)
    try:
        # weights_only=False: the state holds numpy RNG tuples; the file is our own, not downloaded.
        state = torch.load(path / STATE_FILE, map_location="cpu", weights_only=False, mmap=True)
    except Exception as exc:  # truncated zip, bad pickle, missing file: all mean "not resumable"
        raise CheckpointError(f"{path.name}/{STATE_FILE} does not load ({_first_line(exc)})") from None
    missing = {"step", "model", "optimizer", "rng", "config"} - set(state)
    if missing:
        raise CheckpointError(f"{path.name}/{STATE_FILE} lacks {sorted(missing)} (written by an older rlvr?)")
    return state


def check_model_files(path: Path) -> None:
    """config.json parses and every safetensors file's header and data are complete."""
    from safetensors import safe_open

    try:
        json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name}/config.json does not load ({_first_line(exc)})") from None
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise CheckpointError(f"{path.name} has no model .safetensors file")
    for file in files:
        try:
            with safe_open(str(file), framework="pt") as handle:  # checks the data covers the header
                handle.keys()
        except Exception as exc:
            raise CheckpointError(f"{path.name}/{file.name} does not load ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    """``Type: first sentence`` of an exception (torch's zip errors run on for several sentences)."""
    lines = str(exc).strip().splitlines()
    first = lines[0].split(". ")[0].rstrip(".") if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
