"""Checkpoint discovery: only complete checkpoints count, newest by step number (not by name)."""

from __future__ import annotations

from pathlib import Path

from rlvr_train.checkpoint import STATE_FILE, latest_checkpoint, list_checkpoints


def _fake(base: Path, name: str, complete: bool = True) -> None:
    (base / name).mkdir(parents=True)
    if complete:
        (base / name / STATE_FILE).write_bytes(b"x")


def test_latest_complete_checkpoint(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path / "missing") is None
    _fake(tmp_path, "checkpoint-20")
    _fake(tmp_path, "checkpoint-100")
    _fake(tmp_path, "checkpoint-140", complete=False)  # killed before its state was written
    _fake(tmp_path, ".checkpoint-160.tmp")  # killed mid-save: never renamed
    _fake(tmp_path, "checkpoint-final")
    assert [step for step, _ in list_checkpoints(tmp_path)] == [20, 100]  # 100 > 20 numerically
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-100"
