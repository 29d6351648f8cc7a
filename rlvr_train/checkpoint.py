"""Checkpoints: ``DIR/checkpoint-<step>/`` holds the policy in Hugging Face format plus trainer state.

Layout of one checkpoint (``step`` = optimizer steps completed)::

    checkpoint-40/
        config.json, model.safetensors, tokenizer files   # save_pretrained: loads with AutoModel...
        trainer_state.pt                                   # optimizer, RNG states, step, run config

A checkpoint is written to ``.checkpoint-<step>.tmp`` and renamed when complete, so a run killed while
saving never leaves a half-written directory that ``--resume`` would pick up.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_FILE = "trainer_state.pt"
_NAME = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_dir(output_dir: str | Path, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}"


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (with their trainer state), oldest first."""
    base = Path(output_dir)
    if not base.is_dir():
        return []
    found = []
    for path in base.iterdir():
        match = _NAME.match(path.name)
        if match and (path / STATE_FILE).is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    ckpts = list_checkpoints(output_dir)
    return ckpts[-1][1] if ckpts else None


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
    model: Any,
    tokenizer: Any,
    optimizer: torch.optim.Optimizer,
    config: dict[str, Any],
    keep_last: int | None = None,
    *,
    model_state: dict[str, Any] | None = None,
    optimizer_state: dict[str, Any] | None = None,
) -> Path:
    """Write ``checkpoint-<step>`` atomically and prune old ones beyond ``keep_last``.

    ``model_state`` / ``optimizer_state``: full states gathered from a sharded (FSDP) run, written
    instead of the module's and optimizer's own (which would hold only this rank's shards).
    """
    final = checkpoint_dir(output_dir, step)
    tmp = final.with_name(f".{final.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    if model_state is None:
        model.save_pretrained(tmp)
    else:
        model.save_pretrained(tmp, state_dict=model_state)
    tokenizer.save_pretrained(tmp)
    optim = optimizer.state_dict() if optimizer_state is None else optimizer_state
    state = {"step": step, "optimizer": optim, "rng": rng_state(), "config": config}
    torch.save(state, tmp / STATE_FILE)
    if final.exists():  # re-saving the same step (e.g. final save after a periodic one)
        shutil.rmtree(final)
    tmp.rename(final)
    if keep_last is not None:
        for _, old in list_checkpoints(output_dir)[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def load_trainer_state(path: str | Path) -> dict[str, Any]:
    """The optimizer/RNG/step state saved beside the weights (trusted: written by this trainer)."""
    # weights_only=False: the state holds numpy RNG tuples; the file is our own, not downloaded.
    return torch.load(Path(path) / STATE_FILE, map_location="cpu", weights_only=False)
