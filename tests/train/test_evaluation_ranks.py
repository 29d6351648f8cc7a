"""Evaluation under torchrun: every rank evaluates the gathered weights, each in its own run directory.

``rlvr-eval``'s runner locks its run directory (one process per directory), so ranks sharing
``eval/step-<k>`` would refuse each other, and before the lock they silently interleaved their
samples and deleted each other's files. Rank 0's directory is the one kept and logged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rlvr_eval.scoring.run_lock import run_dir_lock
from rlvr_train.config import TrainConfig
from rlvr_train.evaluation import evaluate


def test_a_second_rank_evaluates_beside_rank_0_without_touching_its_directory(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    policy = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    bench = tmp_path / "toy_eval.jsonl"
    bench.write_text('{"question": "Say 7", "answer": "7"}\n{"question": "Say 3", "answer": "3"}\n')
    out = tmp_path / "run"
    cfg = TrainConfig(model=str(tiny_model_dir), output_dir=str(out), eval_tasks=[f"jsonl:{bench}"],
                      eval_max_tokens=4, eval_template="plain", verify_workers=1)
    rank0 = out / "eval" / "step-0"
    rank0.mkdir(parents=True)
    with run_dir_lock(rank0):  # rank 0 is evaluating step 0 right now
        monkeypatch.setenv("RANK", "1")
        row = evaluate(cfg, policy, tokenizer, step=0)
    assert row["eval_accuracy"] in (0.0, 0.5, 1.0)
    assert [p.name for p in rank0.iterdir()] == [".lock"]  # nothing of rank 1's in rank 0's directory
    assert sorted(p.name for p in (out / "eval").iterdir()) == ["step-0"]  # rank 1's own one is removed
