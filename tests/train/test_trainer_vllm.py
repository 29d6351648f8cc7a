"""The vLLM rollout backend: weights synced from the policy each step (slow: the engine starts in ~20 s).

Runs where vLLM is installed (``scripts/setup_vllm_cpu.sh`` builds such an environment), e.g.
``../venv-vllm/bin/python -m pytest -m slow tests/train/test_trainer_vllm.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

pytest.importorskip("vllm", reason="vLLM is not installed (scripts/setup_vllm_cpu.sh)")

pytestmark = pytest.mark.slow


def test_engine_follows_the_policy_weights_and_training_runs(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr_train.config import TrainConfig
    from rlvr_train.rollout import HFRollout, VLLMRollout
    from rlvr_train.trainer import train

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    engine = VLLMRollout(str(tiny_model_dir), policy, tokenizer, max_model_len=128,
                         gpu_memory_utilization=0.05, seed=0)
    hf = HFRollout(policy, tokenizer)
    prompts = [tokenizer(q, add_special_tokens=False)["input_ids"] for q in ("What is 3 + 4?", "Compute 2")]
    greedy: dict[str, Any] = {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 10, "seed": 0}
    assert engine.generate(prompts, **greedy).response_ids == hf.generate(prompts, **greedy).response_ids
    with torch.no_grad():  # a training step changes the policy: the engine must follow it
        gen = torch.Generator().manual_seed(1)
        for p in policy.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    after = engine.generate(prompts, **greedy)
    assert after.response_ids == hf.generate(prompts, **greedy).response_ids
    sampled = engine.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_tokens=6, seed=2)
    assert len(sampled) == 6 and sampled.prompt_ids[3] == prompts[1]
    engine.close()

    out = tmp_path / "run"
    cfg = TrainConfig(model=str(tiny_model_dir), output_dir=str(out), problem="Say 7", answer="7",
                      template="plain", strict=False, lenient_fallback="last_number",
                      batch_size=2, rollouts=4, max_response_tokens=6,
                      temperature=1.0, lr=3e-3, steps=2, save_every=0, eval_every=0, verify_workers=0,
                      backend="vllm", vllm_gpu_memory_utilization=0.05, max_prompt_tokens=64,
                      tensorboard=False)
    train(cfg, progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(r["skipped"] is False for r in rows)
