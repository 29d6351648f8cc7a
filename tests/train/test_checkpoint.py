"""Checkpoints: bf16 model files every time, fp32 trainer state for the newest only, durable and atomic
writes, and loud failures on truncated files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from rlvr_train import durable
from rlvr_train.checkpoint import (
    STATE_FILE,
    CheckpointError,
    list_checkpoints,
    load_trainer_state,
    load_weights,
    resumable_checkpoints,
    save_checkpoint,
)
from rlvr_train.durable import write_atomic


@pytest.fixture(scope="module")
def model_and_tokenizer(tiny_model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


def save(out: Path, step: int, model: Any, tokenizer: Any, **kwargs: Any) -> Path:
    from rlvr_train.distributed import full_state_dict

    optimizer = torch.optim.AdamW(model.parameters())
    return save_checkpoint(out, step, model=model, tokenizer=tokenizer, weights=full_state_dict(model),
                           optimizer_state=optimizer.state_dict(), config={"lr": 1.0},
                           metrics={"step": step, "reward_mean": 0.5}, **kwargs)


def test_layout_bf16_model_and_fp32_state(model_and_tokenizer: tuple[Any, Any], tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    model, tokenizer = model_and_tokenizer
    path = save(tmp_path, 7, model, tokenizer)
    assert path == tmp_path / "checkpoint-7"
    names = {p.name for p in path.iterdir()}
    assert {"config.json", "model.safetensors", "checkpoint.json", STATE_FILE} <= names
    assert json.loads((path / "config.json").read_text())["dtype"] == "bfloat16"  # vLLM "auto" -> bf16
    assert json.loads((path / "checkpoint.json").read_text()) == {"step": 7, "metrics": {"step": 7,
                                                                                         "reward_mean": 0.5}}
    loaded = AutoModelForCausalLM.from_pretrained(path)
    assert loaded.dtype == torch.bfloat16
    for name, weight in model.state_dict().items():  # the bf16 copy of the weights
        assert torch.equal(loaded.state_dict()[name], weight.to(torch.bfloat16)), name
    # bf16 file: 2 bytes per parameter (tied head stored once) plus a small JSON header
    n_params = sum(p.numel() for p in model.parameters())
    assert 2 * n_params < (path / "model.safetensors").stat().st_size < 2 * n_params + 8192
    state = load_trainer_state(path)
    assert state["step"] == 7 and state["config"] == {"lr": 1.0}
    for name, weight in state["model"].items():  # fp32 masters, bit for bit
        assert weight.dtype == torch.float32 and torch.equal(weight, model.state_dict()[name]), name


def test_trainer_state_only_for_the_newest(model_and_tokenizer: tuple[Any, Any], tmp_path: Path) -> None:
    model, tokenizer = model_and_tokenizer
    for step in (1, 2, 3, 4):
        save(tmp_path, step, model, tokenizer, keep_last=3, keep_trainer_state=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2, 3, 4]  # keep_last=3
    assert [s for s, _ in resumable_checkpoints(tmp_path)] == [3, 4]  # keep_trainer_state=2
    (tmp_path / ".checkpoint-5.tmp").mkdir()  # killed mid-save: never renamed, never listed
    (tmp_path / "checkpoint-9.broken").mkdir()
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2, 3, 4]


@pytest.mark.parametrize("victim", ["model.safetensors", STATE_FILE, "config.json"])
def test_truncated_file_is_a_checkpoint_error_naming_it(
    model_and_tokenizer: tuple[Any, Any], tmp_path: Path, victim: str
) -> None:
    path = save(tmp_path, 3, model_and_tokenizer[0], model_and_tokenizer[1])
    with open(path / victim, "r+b") as fh:  # as a full disk or a lost write would leave it
        fh.truncate((path / victim).stat().st_size // 2)
    with pytest.raises(CheckpointError, match=f"checkpoint-3/{victim} does not load"):
        load_trainer_state(path)


def test_load_weights_is_exact_and_refuses_a_mismatch(model_and_tokenizer: tuple[Any, Any]) -> None:
    import copy

    from rlvr_train.distributed import full_state_dict

    model = model_and_tokenizer[0]
    weights = {k: v + 0.001 for k, v in full_state_dict(model).items()}  # no lm_head: tied alias
    target = copy.deepcopy(model)
    load_weights(target, weights)
    for name, weight in weights.items():
        assert torch.equal(target.state_dict()[name], weight)
    assert target.lm_head.weight is target.model.embed_tokens.weight
    del weights["model.norm.weight"]
    with pytest.raises(CheckpointError, match=r"model\.norm\.weight"):
        load_weights(target, weights)


def test_files_and_directory_are_fsynced_before_the_rename(
    model_and_tokenizer: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, Path.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def rename(self: Path, target: Any) -> Any:
        events.append(("rename", str(self)))
        return real_rename(self, target)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    monkeypatch.setattr(Path, "rename", rename)
    path = save(tmp_path, 2, model_and_tokenizer[0], model_and_tokenizer[1])
    renamed = events.index(("rename", str(tmp_path / ".checkpoint-2.tmp")))
    synced = {p for kind, p in events[:renamed] if kind == "fsync"}
    tmp = str(tmp_path / ".checkpoint-2.tmp")
    assert {os.path.join(tmp, f.name) for f in path.iterdir()} | {tmp} <= synced
    assert ("fsync", str(tmp_path)) in events[renamed:]  # the rename itself is made durable


def test_write_atomic_keeps_the_old_file_if_the_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "metrics.jsonl"
    target.write_text("old\n")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["metrics.jsonl"]

    def crash(self: Path, other: Any) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(OSError):
        write_atomic(target, "newer\n")
    assert target.read_text() == "new\n"  # never a half-written file
