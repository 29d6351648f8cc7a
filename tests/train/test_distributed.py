"""Data-parallel GRPO under torchrun (2 CPU processes, gloo, FSDP2) equals the single-process update.

The equality test runs ``distributed_worker.py`` under ``torchrun --nproc_per_node 2`` and in this process
on the same fixed batch: each rank holds half of the groups and a shard of the weights, yet the clipped
gradients, the global gradient norm, the logged loss and the updated weights must match the
single-process run to float32 rounding.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
import yaml

WORKER = Path(__file__).with_name("distributed_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m torch.distributed.run --nproc_per_node 2`` on CPU with one thread per rank."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
        "--master_port", str(free_port()), *args,
    ]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-8000:]
    return proc


def load_worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("distributed_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def both_runs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    out = tmp_path_factory.mktemp("dist") / "dist.pt"
    torchrun([str(WORKER), str(tiny_model_dir), str(out)], cwd=out.parent, timeout=300)
    worker = load_worker()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = {mode: worker.run(str(tiny_model_dir), mode) for mode in worker.MODES}
    finally:
        torch.set_num_threads(threads)
    return single, torch.load(out, weights_only=False)


@pytest.mark.parametrize("mode", ["token_mean", "seq_mean_token_sum_norm"])
def test_fsdp_update_equals_single_process(
    both_runs: tuple[Any, Any], mode: str, tiny_model_dir: Path
) -> None:
    from transformers import AutoModelForCausalLM

    single, dist = both_runs[0][mode], both_runs[1][mode]
    assert dist["local_numel"] * 2 == single["local_numel"]  # rank 0 really held half of the weights
    assert dist["grads"].keys() == single["grads"].keys() and len(single["grads"]) > 10
    for name, grad in single["grads"].items():
        torch.testing.assert_close(dist["grads"][name], grad, atol=1e-6, rtol=0, msg=name)
    m_single, m_dist = single["metrics"], dist["metrics"]
    assert m_single["grad_norm"] > 0.5  # clipping (at 0.5) was active: it used the global norm
    for key in ("loss", "policy_loss", "entropy", "grad_norm"):
        assert m_dist[key] == pytest.approx(m_single[key], rel=1e-5), key
    assert m_dist["skipped"] is m_single["skipped"] is False

    initial = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    assert dist["weights"].keys() == single["weights"].keys()
    moved = max(float((w - initial[k]).abs().max()) for k, w in single["weights"].items())
    assert moved > 5e-5  # the step moved weights by ~lr=1e-4: far above the tolerance below
    for name, weight in single["weights"].items():
        torch.testing.assert_close(dist["weights"][name], weight, atol=1e-6, rtol=0, msg=name)


def test_nan_on_one_rank_skips_the_step_on_every_rank(
    both_runs: tuple[Any, Any], tiny_model_dir: Path
) -> None:
    from transformers import AutoModelForCausalLM

    nan = both_runs[1]["nan"]  # no deadlock (the test got here) and rank 0, whose loss was finite, skipped
    assert nan["metrics"]["skipped"] is True and nan["metrics"]["grad_norm"] is None
    initial = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    for name, weight in nan["weights"].items():
        assert torch.equal(weight, initial[name]), name


def test_each_rank_takes_interleaved_whole_prompts_and_its_own_seed(both_runs: tuple[Any, Any]) -> None:
    (r0, share0, seed0), (r1, share1, seed1) = both_runs[1]["split"]
    assert (r0, r1) == (0, 1)
    assert share0 == [0, 2, 4, 6] and share1 == [1, 3, 5, 7]  # disjoint, together the whole step
    assert seed0 != seed1  # ranks do not draw identical rollouts


def write_config(path: Path, model_dir: Path, out: Path, **extra: Any) -> Path:
    values: dict[str, Any] = dict(
        model=str(model_dir), output_dir=str(out), problem="Say 7", answer="7", template="plain",
        strict=False, lenient_fallback="last_number",
        batch_size=4, rollouts=4, max_response_tokens=8, temperature=1.0, lr=3e-3,
        micro_batch_size=3, steps=2, save_every=1, keep_last=1, eval_every=0, verify_workers=0,
        tensorboard=False,
    )
    values.update(extra)
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_rlvr_train_under_torchrun_checkpoints_and_resumes_in_one_process(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """``rlvr-train run`` with 2 ranks: one metrics row per step, a loadable full checkpoint whose
    optimizer state has the single-process layout, so the run resumes without torchrun."""
    from transformers import AutoModelForCausalLM

    from rlvr_train.config import load_config
    from rlvr_train.trainer import train

    out = tmp_path / "run"
    config = write_config(tmp_path / "cfg.yaml", tiny_model_dir, out)
    proc = torchrun(["-m", "rlvr_train.cli", "run", "--config", str(config), "--quiet"], tmp_path, 600)
    assert proc.stdout.count("rlvr-train: done") == 1  # rank 0 only
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert all(r["skipped"] is False and r["response_length"] >= 1 for r in rows)
    assert rows[1]["kl"] > 0  # the policy moved away from the (sharded) reference
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint")) == ["checkpoint-2"]

    trained = AutoModelForCausalLM.from_pretrained(out / "checkpoint-2").state_dict()
    initial = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    assert trained.keys() == initial.keys()
    assert max(float((trained[k] - initial[k]).abs().max()) for k in initial) > 1e-4
    state = torch.load(out / "checkpoint-2" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 2
    exp_avg = {tuple(s["exp_avg"].shape) for s in state["optimizer"]["state"].values()}
    assert exp_avg == {tuple(t.shape) for n, t in initial.items() if n != "lm_head.weight"}  # full, unsharded

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:  # resume the torchrun checkpoint in this single process for one more step
        train(load_config(config, {"steps": 3, "resume": True}), progress=False)
    finally:
        torch.set_num_threads(threads)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
