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
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
import yaml

WORKER = Path(__file__).with_name("distributed_worker.py")


def torchrun(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m torch.distributed.run --nproc_per_node 2`` on CPU with one thread per rank.

    ``--standalone`` lets torchrun bind its own free rendezvous port: a port picked here and released
    before torchrun binds it can be taken by another job in between (seen as setup errors under load)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args,
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


@pytest.mark.parametrize("mode", ["token_mean", "seq_mean_token_sum_norm", "token_budget", "checkpointing"])
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


def test_token_budget_plans_are_balanced_across_ranks(both_runs: tuple[Any, Any]) -> None:
    """The ranks' own greedy plans differ in length, yet both ran the same number of micro-batches
    (else the FSDP collectives would have hung) and the update equals one process's (test above)."""
    dist = both_runs[1]["token_budget"]
    assert len(set(dist["greedy_plans"])) == 2, dist["greedy_plans"]
    assert dist["metrics"]["micro_batches"] == max(dist["greedy_plans"])


def test_fsdp_mixed_precision_computes_in_bf16_and_keeps_fp32_masters(
    both_runs: tuple[Any, Any], tiny_model_dir: Path
) -> None:
    """FSDP2 mixed precision, run for real on gloo: layers compute with bf16 weights, while the sharded
    parameters (AdamW's master weights) and the reduced gradients stay fp32. The step is the fp32 step
    to bf16 accuracy."""
    single, dist = both_runs[0]["bf16"], both_runs[1]["bf16"]
    assert dist["compute_dtypes"] == {torch.bfloat16} and single["compute_dtypes"] == {torch.float32}
    assert dist["param_dtypes"] == dist["grad_dtypes"] == {torch.float32}
    scale = max(float(g.abs().max()) for g in single["grads"].values())
    worst = max(float((dist["grads"][k] - g).abs().max()) for k, g in single["grads"].items())
    assert 0 < worst < 0.05 * scale  # bf16 compute: close to the fp32 gradient, but not bit-equal
    assert dist["metrics"]["loss"] == pytest.approx(single["metrics"]["loss"], rel=0.05, abs=1e-3)
    for name, weight in single["weights"].items():  # Adam's first step moves every weight by <= ~lr
        assert dist["weights"][name].dtype == torch.float32  # fp32 masters: a 1e-4 step survives
        torch.testing.assert_close(dist["weights"][name], weight, atol=2.5e-4, rtol=0, msg=name)


def test_nan_on_one_rank_skips_the_step_on_every_rank(
    both_runs: tuple[Any, Any], tiny_model_dir: Path
) -> None:
    from transformers import AutoModelForCausalLM

    nan = both_runs[1]["nan"]  # no deadlock (the test got here) and rank 0, whose loss was finite, skipped
    assert nan["metrics"]["skipped"] is True and nan["metrics"]["grad_norm"] is None
    initial = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    for name, weight in nan["weights"].items():
        assert torch.equal(weight, initial[name]), name


def test_each_rank_takes_interleaved_whole_prompts_and_its_own_seeds(both_runs: tuple[Any, Any]) -> None:
    (r0, share0, pos0, occ0), (r1, share1, pos1, occ1) = both_runs[1]["split"]
    assert (r0, r1) == (0, 1)
    assert share0 == pos0 == [0, 2, 4, 6] and share1 == pos1 == [1, 3, 5, 7]  # disjoint, the whole step
    # the same prompt 8 times: each copy keeps its occurrence in the whole step, so the ranks draw
    # distinct samples, and together exactly those one process would draw
    assert occ0 == [0, 2, 4, 6] and occ1 == [1, 3, 5, 7]


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


ENGINE_WORKER = Path(__file__).with_name("engine_worker.py")
EVAL_ITEMS = ["Say 7", "Say 3", "Say 5", "What is 2+2?", "Say 9"]


@pytest.fixture(scope="module")
def engine_runs(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[Any, Any]]:
    """``engine_worker.py`` under 2 ranks: a real hf engine and a recording live engine, each trained one
    step with an evaluation of 5 items before and after."""
    out = tmp_path_factory.mktemp("engines")
    bench = out / "bench.jsonl"
    bench.write_text("".join(json.dumps({"question": q, "answer": "7"}) + "\n" for q in EVAL_ITEMS))
    torchrun([str(ENGINE_WORKER), str(tiny_model_dir), str(out), str(bench)], cwd=out, timeout=300)
    calls = {(kind, r): json.loads((out / f"{kind}-rank{r}.json").read_text())
             for kind in ("hf", "live") for r in (0, 1)}
    return out, calls


def _generates(calls: list[Any], kind: str) -> list[Any]:
    return [c for c in calls if c[0] == "generate" and c[1] == [kind]]


def test_sharded_evaluation_generates_each_item_once_and_rank0_writes(engine_runs: tuple[Path, Any]) -> None:
    out, calls = engine_runs
    rank0, rank1 = _generates(calls["hf", 0], "text"), _generates(calls["hf", 1], "text")
    assert len(rank0) == len(rank1) == 2  # evaluations at steps 0 and 1, each split over both engines
    for mine, theirs in zip(rank0, rank1, strict=True):
        assert len(mine[2]) == 3 and len(theirs[2]) == 2  # items 0, 2, 4 on rank 0; 1, 3 on rank 1
        prompts = mine[2] + theirs[2]
        assert len(set(prompts)) == 5 and all(any(q in p for p in prompts) for q in EVAL_ITEMS)
    for step in (0, 1):  # one complete run directory per evaluation, no duplicate or missing sample
        run = out / "hf-run" / "eval" / f"step-{step}"
        records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
        assert sorted(r["question"] for r in records) == sorted(EVAL_ITEMS)
        results = json.loads((run / "results.json").read_text())
        assert results["tasks"]["bench"]["n_items"] == 5
    rows = [json.loads(line) for line in (out / "hf-run" / "metrics.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in rows] == [("eval", 0), ("train", 1), ("eval", 1)]


def test_rollouts_are_split_by_rank_with_whole_step_seeds(engine_runs: tuple[Path, Any]) -> None:
    _, calls = engine_runs
    (r0,), (r1,) = _generates(calls["hf", 0], "ids"), _generates(calls["hf", 1], "ids")
    assert len(r0[2]) == len(r1[2]) == 2 and r0[3]["n"] == r1[3]["n"] == 2  # 4 prompts x 2, half each
    assert r0[3]["occurrences"] == [0, 2] and r1[3]["occurrences"] == [1, 3]  # same prompt: distinct seeds
    assert r0[3]["seed"] == r1[3]["seed"]  # one step seed; the occurrence separates the samples


def test_live_engine_calls_on_every_rank(engine_runs: tuple[Path, Any], tiny_model_dir: Path) -> None:
    """What a colocated vLLM engine gets on each rank under FSDP2: the FULL weights (gathered from the
    shards one tensor at a time) before its first use and after the update, sleep during the update."""
    from transformers import AutoModelForCausalLM

    _, calls = engine_runs
    expected_kinds = ["load_weights", "wake_up", "generate", "wake_up", "generate", "sleep",
                      "load_weights", "wake_up", "generate", "close"]
    initial = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    params = initial.named_parameters(remove_duplicate=False)  # a tied LM head comes under its own name
    full = [(n, list(p.shape), float(p.detach().double().sum())) for n, p in params]
    loads = {}
    for r in (0, 1):
        assert [c[0] for c in calls["live", r]] == expected_kinds
        loads[r] = [c[1] for c in calls["live", r] if c[0] == "load_weights"]
        first = loads[r][0]
        assert [(n, s) for n, s, _ in first] == [(n, s) for n, s, _ in full]
        for (name, _, got), (_, _, want) in zip(first, full, strict=True):
            assert got == pytest.approx(want, rel=1e-6, abs=1e-6), name
    assert loads[0] == loads[1] and loads[0][1] != loads[0][0]  # same updated weights on both ranks
