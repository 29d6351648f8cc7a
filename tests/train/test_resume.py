"""--resume continues the recorded run or refuses: changed settings, broken checkpoints, changed data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from rlvr_train.checkpoint import load_trainer_state
from rlvr_train.cli import main
from rlvr_train.config import TrainConfig
from rlvr_train.resume import SAFE_TO_CHANGE
from rlvr_train.trainer import TrainError, train


def toy(model_dir: Path, out: Path, **overrides: Any) -> TrainConfig:
    values: dict[str, Any] = dict(
        model=str(model_dir), output_dir=str(out), problem="Say 7", answer="7", template="plain",
        strict=False, lenient_fallback="last_number", batch_size=2, rollouts=4, max_response_tokens=6,
        temperature=1.0, lr=3e-3,
        micro_batch_size=8, steps=3, save_every=1, eval_every=0, verify_workers=0, tensorboard=False,
    )
    return TrainConfig(**{**values, **overrides})


def steps_logged(out: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_changed_settings_are_refused_or_logged(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    base = ["one-shot", "--model", str(tiny_model_dir), "--problem", "What is 3+4?", "--answer", "7",
            "--output-dir", str(out), "--batch-size", "2", "--rollouts", "4", "--max-tokens", "6",
            "--eval-tasks", "--quiet", "--save-every", "1"]
    assert main([*base, "--steps", "2"]) == 0
    other_model = tmp_path / "other"
    other_model.symlink_to(tiny_model_dir)  # the same files under another name still is another --model
    refused = {
        "lr": ["--lr", "2e-6"],
        "problem": ["--problem", "What is 4+3?"],
        "model": ["--model", str(other_model)],
        "temperature": ["--temperature", "0.7"],
        "aggregation": ["--aggregation", "seq_mean_token_sum_norm"],
        "normalize_std": ["--no-normalize-std"],
    }
    for field, change in refused.items():
        capsys.readouterr()
        assert main([*base, "--steps", "3", "--resume", *change]) == 2, field
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"rlvr-train: error: --resume cannot change {field} (--"), err
        assert "\n" not in err
    assert steps_logged(out) == [1, 2]  # nothing trained, nothing logged by the refused resumes
    assert not (out / "resume_log.jsonl").exists()

    assert main([*base, "--steps", "3", "--resume", "--micro-batch-size", "2", "--keep-last", "5"]) == 0
    assert steps_logged(out) == [1, 2, 3]
    (row,) = [json.loads(line) for line in (out / "resume_log.jsonl").read_text().splitlines()]
    assert row["step"] == 2 and row["checkpoint"] == "checkpoint-2"
    assert row["changed"] == {"steps": [2, 3], "micro_batch_size": [4, 2], "keep_last": [None, 5]}
    assert yaml.safe_load((out / "config.yaml").read_text())["steps"] == 3  # the settings now in force


def test_safe_list_holds_no_training_defining_setting() -> None:
    defining = {"model", "example", "problem", "answer", "data", "template", "reward", "answer_format",
                "strict", "batch_size", "rollouts", "max_prompt_tokens", "max_response_tokens", "temperature",
                "top_p", "lr", "warmup_steps", "weight_decay", "adam_betas", "grad_clip", "clip_low",
                "clip_high", "kl_coef", "entropy_coef", "aggregation", "normalize_std", "seed", "backend",
                "bf16"}
    assert defining <= TrainConfig.model_fields.keys()
    assert not defining & SAFE_TO_CHANGE
    assert TrainConfig.model_fields.keys() >= SAFE_TO_CHANGE  # no stale names


@pytest.mark.parametrize("victim", ["model.safetensors", "trainer_state.pt"])
def test_broken_newest_checkpoint_falls_back_and_continues_exactly(
    tiny_model_dir: Path, tmp_path: Path, victim: str, capsys: pytest.CaptureFixture[str]
) -> None:
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    train(toy(tiny_model_dir, straight, steps=4), progress=False)
    train(toy(tiny_model_dir, broken, steps=3, keep_trainer_state=2), progress=False)
    newest = broken / "checkpoint-3" / victim
    with open(newest, "r+b") as fh:
        fh.truncate(newest.stat().st_size // 3)
    capsys.readouterr()
    train(toy(tiny_model_dir, broken, steps=4, resume=True), progress=False)
    err = capsys.readouterr().err
    assert f"warning: checkpoint-3 cannot be resumed (checkpoint-3/{victim} does not load" in err
    assert "resuming from checkpoint-2" in err
    assert (broken / "checkpoint-3.broken" / victim).exists()  # kept aside for a look, out of the way
    assert steps_logged(broken) == [1, 2, 3, 4]  # step 3 logged once: the redone one
    a, b = load_trainer_state(straight / "checkpoint-4"), load_trainer_state(broken / "checkpoint-4")
    for name, weight in a["model"].items():
        assert torch.equal(weight, b["model"][name]), name  # as if nothing had happened


def test_no_loadable_checkpoint_is_a_one_line_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(toy(tiny_model_dir, out, steps=2), progress=False)  # keep_trainer_state=1: only checkpoint-2
    with open(out / "checkpoint-2" / "trainer_state.pt", "r+b") as fh:
        fh.truncate(100)
    needle = r"resumed \(checkpoint-2/trainer_state.pt does not load .*; checkpoint-1: no trainer_state"
    with pytest.raises(TrainError, match=needle):
        train(toy(tiny_model_dir, out, steps=3, resume=True), progress=False)
    assert (out / "checkpoint-2").is_dir()  # nothing renamed when nothing could be resumed


def test_changed_data_file_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"problem": "Say 7", "answer": "7"}\n')
    out = tmp_path / "run"
    cfg = toy(tiny_model_dir, out, steps=1, problem=None, answer=None, data=str(data))
    train(cfg, progress=False)
    data.write_text('{"problem": "Say 8", "answer": "8"}\n')  # same path, other example
    with pytest.raises(TrainError, match="training examples differ"):
        train(cfg.model_copy(update={"steps": 2, "resume": True}), progress=False)
