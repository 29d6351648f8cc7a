"""The GRPO loop on a tiny local model: it learns, logs, checkpoints, resumes, and skips NaN steps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from rlvr_train.checkpoint import list_checkpoints, load_trainer_state
from rlvr_train.config import TrainConfig
from rlvr_train.rollout import Rollouts, pack
from rlvr_train.trainer import TrainError, policy_update, train

TRAIN_KEYS = {
    "step", "reward_mean", "accuracy", "format_rate", "adv_mean", "adv_std", "policy_loss", "loss", "kl",
    "entropy", "clip_frac", "grad_norm", "response_length", "truncation_rate", "step_time", "tokens_per_s",
    "example_accuracy", "skipped", "lr",
}


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: one thread is faster and leaves the other free
    yield
    torch.set_num_threads(threads)


def toy_config(model_dir: Path, out: Path, **overrides: Any) -> TrainConfig:
    """'Say 7': reward 1 when the last number of a short sample is 7 (strict=False with the last-number
    fallback: no box, and no stated answer, needed).

    A random 2-layer model almost never writes ``\\boxed{}``, but it emits digits, so the lenient
    last-number reward starts near 0.1 and gives GRPO a signal it can climb.
    """
    values: dict[str, Any] = dict(
        model=str(model_dir), output_dir=str(out), problem="Say 7", answer="7", template="plain",
        strict=False, lenient_fallback="last_number", batch_size=4, rollouts=8, max_response_tokens=8,
        temperature=1.0, lr=3e-3,
        micro_batch_size=32, steps=2, save_every=0, eval_every=0, verify_workers=0, tensorboard=False,
    )
    values.update(overrides)
    return TrainConfig(**values)


def read_rows(out: Path, kind: str = "train") -> list[dict[str, Any]]:
    lines = (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_loop_runs_logs_and_checkpoints(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    out = tmp_path / "run"
    train(toy_config(tiny_model_dir, out, steps=3, save_every=2, kl_coef=0.001), progress=False)
    rows = read_rows(out)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert rows[0].keys() >= TRAIN_KEYS
    for r in rows:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["reward_mean"] == pytest.approx(r["accuracy"])
        assert 1 <= r["response_length"] <= 8 and r["skipped"] is False
        assert set(r["example_accuracy"]) == {"0"}
        assert r["kl"] >= 0.0 and r["entropy"] > 0.0
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # step 1: policy == reference
    assert [s for s, _ in list_checkpoints(out)] == [2, 3]  # every 2 steps plus the final one
    assert load_trainer_state(out / "checkpoint-3")["step"] == 3
    model = AutoModelForCausalLM.from_pretrained(out / "checkpoint-3")
    assert model.config.num_hidden_layers >= 1


def test_refuses_to_overwrite_a_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(toy_config(tiny_model_dir, out, steps=1), progress=False)
    with pytest.raises(TrainError, match="--resume"):
        train(toy_config(tiny_model_dir, out, steps=1), progress=False)


class _Killed(Exception):
    pass


def _kill_at(step: int) -> Any:
    def hook(done: int, row: dict[str, Any]) -> None:
        if done == step:
            raise _Killed

    return hook


def test_kill_and_resume_matches_an_uninterrupted_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    train(toy_config(tiny_model_dir, straight, steps=5, save_every=2), progress=False)
    with pytest.raises(_Killed):  # dies after step 3 was logged; the last checkpoint is step 2
        train(toy_config(tiny_model_dir, broken, steps=5, save_every=2), progress=False, on_step=_kill_at(3))
    assert [r["step"] for r in read_rows(broken)] == [1, 2, 3]
    train(toy_config(tiny_model_dir, broken, steps=5, save_every=2, resume=True), progress=False)

    rows_a, rows_b = read_rows(straight), read_rows(broken)
    assert [r["step"] for r in rows_b] == [1, 2, 3, 4, 5]  # nothing lost, nothing repeated
    for a, b in zip(rows_a, rows_b, strict=True):  # same rollouts and updates as without the kill
        assert a["reward_mean"] == b["reward_mean"] and a["response_length"] == b["response_length"]
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-6)
    final_a = torch.load(straight / "checkpoint-5" / "trainer_state.pt", weights_only=False)["step"]
    final_b = torch.load(broken / "checkpoint-5" / "trainer_state.pt", weights_only=False)["step"]
    assert final_a == final_b == 5


def _fake_rollouts(tokens: int = 40) -> Rollouts:
    gen = torch.Generator().manual_seed(0)
    lengths = [1, 5, 2, 7, 3, 6, 4, 2]
    prompts = [[5, 6, 7], [5, 6, 7, 8]] * 4
    responses = [torch.randint(3, tokens, (n,), generator=gen).tolist() for n in lengths]
    return Rollouts(prompts, responses, [""] * 8, ["stop"] * 8)


def test_micro_batches_give_the_full_batch_gradient(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    ref = copy.deepcopy(base).eval()
    batch = pack(_fake_rollouts(), pad_id=0)
    advantages = torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, 0.0, -2.0, 0.3])
    results = []
    for micro in (8, 3, 1):
        model = copy.deepcopy(base)
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        cfg = TrainConfig(micro_batch_size=micro, kl_coef=0.001, temperature=0.6)
        stats = policy_update(model, ref, opt, batch, advantages, cfg, torch.device("cpu"), lambda: _null())
        results.append((stats, torch.cat([p.detach().flatten() for p in model.parameters()])))
    (full, w_full), *others = results
    for stats, weights in others:
        assert stats["grad_norm"] == pytest.approx(full["grad_norm"], rel=1e-4)
        assert stats["loss"] == pytest.approx(full["loss"], rel=1e-4, abs=1e-7)
        torch.testing.assert_close(weights, w_full, rtol=1e-5, atol=1e-6)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_nan_reward_skips_the_step(tiny_model_dir: Path, tmp_path: Path) -> None:
    def nan_verify(texts: list[str], refs: list[str], **kwargs: Any) -> list[Any]:
        return [SimpleNamespace(correct=False, reward=float("nan"), format_ok=False, extracted=None,
                                extraction_method="none", answered_in_format=False) for _ in texts]

    out = tmp_path / "run"
    train(toy_config(tiny_model_dir, out, steps=1, kl_coef=0.0), verify_fn=nan_verify, progress=False)
    (row,) = read_rows(out)
    assert row["skipped"] is True
    from transformers import AutoModelForCausalLM

    start = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    after = AutoModelForCausalLM.from_pretrained(out / "checkpoint-1")
    for p, q in zip(start.parameters(), after.parameters(), strict=True):
        assert torch.equal(p, q)  # the NaN update was not applied


def test_eval_is_logged_at_start_and_every_k(tiny_model_dir: Path, tmp_path: Path) -> None:
    bench = tmp_path / "toy_eval.jsonl"
    bench.write_text('{"question": "Say 7", "answer": "7"}\n{"question": "Say 3", "answer": "3"}\n')
    out = tmp_path / "run"
    cfg = toy_config(tiny_model_dir, out, steps=2, eval_every=2, eval_tasks=[f"jsonl:{bench}"],
                     eval_max_tokens=4, eval_template="plain")
    train(cfg, progress=False)
    evals = read_rows(out, "eval")
    assert [r["step"] for r in evals] == [0, 2]
    for r in evals:
        assert 0.0 <= r["eval_accuracy"] <= 1.0
        assert r["eval/toy_eval/accuracy"] == r["eval_accuracy"]
        assert 0.0 <= r["eval/toy_eval/format_rate"] <= 1.0
        # each evaluation is a full rlvr-eval run directory, greedy, one sample per item
        results = json.loads((Path(r["eval_dir"]) / "results.json").read_text())
        assert results["tasks"]["toy_eval"]["n_items"] == 2 and results["tasks"]["toy_eval"]["n_samples"] == 1
    assert Path(evals[1]["eval_dir"]).name == "step-2"


def test_grpo_raises_the_toy_reward(tiny_model_dir: Path, tmp_path: Path) -> None:
    """About 10 s on one core. Seen on the fixture model (seeds 0-3): first 5 steps 0.01-0.03, last 10
    steps 0.65-0.9 (lr 3e-3 is far above the paper's 1e-6: a 2-layer random model needs big steps)."""
    rewards: list[float] = []
    cfg = toy_config(tiny_model_dir, tmp_path / "run", steps=40, seed=1)
    train(cfg, progress=False, on_step=lambda step, row: rewards.append(row["reward_mean"]))
    start, end = sum(rewards[:5]) / 5, sum(rewards[-10:]) / 10
    assert start < 0.2, rewards
    assert end > 0.5 and end > start + 0.3, rewards


def test_keep_last_prunes_old_checkpoints(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(toy_config(tiny_model_dir, out, steps=3, save_every=1, keep_last=2), progress=False)
    assert [s for s, _ in list_checkpoints(out)] == [2, 3]


def test_resume_redoes_a_missing_checkpoint_eval(tiny_model_dir: Path, tmp_path: Path) -> None:
    bench = tmp_path / "toy_eval.jsonl"
    bench.write_text('{"question": "Say 7", "answer": "7"}\n')
    out = tmp_path / "run"
    common = dict(steps=4, save_every=2, eval_every=2, eval_tasks=[f"jsonl:{bench}"], eval_max_tokens=3,
                  eval_template="plain")
    with pytest.raises(_Killed):
        train(toy_config(tiny_model_dir, out, **common), progress=False, on_step=_kill_at(2))
    # as if the kill came after checkpoint-2 was saved but before its evaluation was logged
    metrics = out / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    metrics.write_text("".join(f"{x}\n" for x in lines if not ('"eval"' in x and '"step": 2,' in x)))
    assert [r["step"] for r in read_rows(out, "eval")] == [0]
    train(toy_config(tiny_model_dir, out, resume=True, **common), progress=False)
    assert [r["step"] for r in read_rows(out, "eval")] == [0, 2, 4]
    assert [r["step"] for r in read_rows(out)] == [1, 2, 3, 4]
