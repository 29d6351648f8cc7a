"""benchmarks/bench_train_gpu.py: its Qwen2.5-Math-1.5B stand-in, and a real ``--tiny`` run on CPU."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_train_gpu.py"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    return importlib.import_module("bench_train_gpu")


def test_stand_in_has_qwen_math_shape_and_vocabulary(bench: Any) -> None:
    """The random model has exactly Qwen2.5-Math-1.5B's parameter count, and its tokenizer decodes any of
    the 151,936 ids the model may sample."""
    import torch
    from transformers import Qwen2ForCausalLM

    tokenizer = bench.build_tokenizer(151936)
    assert len(tokenizer) == 151936
    ids = random.Random(0).choices(range(151936), k=500)
    assert isinstance(tokenizer.decode(ids), str)
    im_end, end_of_text = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    assert tokenizer.decode([im_end], skip_special_tokens=True) == ""  # still special: stops generation
    with torch.device("meta"):  # shapes only, no memory
        model = Qwen2ForCausalLM(bench.qwen_math_config(im_end, end_of_text))
    assert sum(p.numel() for p in model.parameters()) == 1_543_714_304  # Qwen2.5-Math-1.5B's count


@pytest.mark.slow  # fresh processes for rlvr-train and TRL: 15-30 s on 2 shared cores
def test_tiny_run_compares_trainers_on_equal_token_counts(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--tiny", "--no-vllm", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    names = [row["trainer"] for row in result["summary"]]
    has_trl = importlib.util.find_spec("trl") is not None
    assert names == ["rlvr-train hf", *(["trl GRPOTrainer"] if has_trl else [])]
    for name, run in result["runs"].items():  # forced full length: 2 prompts x 4 rollouts x 16 tokens
        assert run["tokens"] == [128.0] * 3, name
        assert len(run["rollout_s"]) == len(run["step_s"]) == 3
        assert all(0 < r < s for r, s in zip(run["rollout_s"], run["step_s"], strict=True)), name
    for row in result["summary"]:
        assert row["rollout_tokens_per_s"] > 0 and row["update_tokens_per_s"] > 0 and row["peak_mem_gib"] > 0
    if has_trl:
        assert "rlvr-train hf / TRL: rollout" in proc.stdout
