"""The GRPO loop on a tiny local model: it learns, logs, checkpoints, resumes, and skips NaN steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from rlvr_train.checkpoint import list_checkpoints, load_trainer_state
from rlvr_train.config import TrainConfig
from rlvr_train.trainer import TrainError, train

TRAIN_KEYS = {
    "step", "reward_mean", "accuracy", "format_rate", "adv_mean", "adv_std", "policy_loss", "loss", "kl",
    "entropy", "clip_frac", "grad_norm", "response_length", "truncation_rate", "step_time", "tokens_per_s",
    "example_accuracy", "skipped", "lr",
}


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
        assert 1 <= r["response_length"] <= 8 and r["skipped"] is False
        assert set(r["example_accuracy"]) == {"0"}
        assert r["kl"] >= 0.0 and r["entropy"] > 0.0
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # step 1: policy == reference
    assert [s for s, _ in list_checkpoints(out)] == [2, 3]  # every 2 steps plus the final one
    assert load_trainer_state(out / "checkpoint-3")["step"] == 3
    assert not (out / "checkpoint-2" / "trainer_state.pt").exists()  # keep_trainer_state=1: newest only
    for step in (2, 3):
        model = AutoModelForCausalLM.from_pretrained(out / f"checkpoint-{step}")
        assert model.dtype == torch.bfloat16 and model.config.num_hidden_layers >= 1
        info = json.loads((out / f"checkpoint-{step}" / "checkpoint.json").read_text())
        assert info["step"] == step and info["metrics"]["step"] == step


# Known responses to "Say 7" (reference 7), graded by the real verifier with the paper's strict rule.
SCRIPT = [
    ("so \\boxed{7}", "stop"),  # right, boxed: reward 1
    ("so \\boxed{7} and then 7 7 7", "length"),  # right, boxed, cut at the limit: 1 (paper), 0 with zero
    ("\\boxed{3}", "stop"),  # wrong but boxed: format reward only
    ("7", "stop"),  # right but unboxed: 0 under the strict (paper) rule
]


@pytest.mark.parametrize(
    ("reward", "truncated_reward", "expected_reward", "truncated_paid"),
    [
        ("verifier", "score", 2 / 4, 1.0),
        ("verifier", "zero", 1 / 4, 0.0),
        ("format", "score", 3 / 4, 1.0),
        ("format", "zero", 2 / 4, 0.0),
    ],
)
def test_rewards_of_known_responses(
    tiny_model_dir: Path, tmp_path: Path, reward: str, truncated_reward: str, expected_reward: float,
    truncated_paid: float,
) -> None:
    from fake_engine import ScriptedEngine
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    out = tmp_path / "run"
    cfg = toy_config(tiny_model_dir, out, steps=1, strict=True, batch_size=2, rollouts=4, reward=reward,
                     truncated_reward=truncated_reward, max_response_tokens=64)
    train(cfg, progress=False, make_engine=lambda policy, tok: ScriptedEngine(tok, SCRIPT))
    (row,) = read_rows(out)
    lengths = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) + (reason == "stop")
               for text, reason in SCRIPT]
    assert row["reward_mean"] == pytest.approx(expected_reward)
    assert row["accuracy"] == pytest.approx(2 / 4)  # right and boxed, truncated or not, whatever pays
    assert row["format_rate"] == pytest.approx(3 / 4) and row["lenient_accuracy"] == pytest.approx(3 / 4)
    assert row["truncation_rate"] == pytest.approx(1 / 4) and row["truncated_rewarded"] == truncated_paid
    assert row["response_length"] == pytest.approx(sum(lengths) / 4) and row["skipped"] is False


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
    final_a = load_trainer_state(straight / "checkpoint-5")
    final_b = load_trainer_state(broken / "checkpoint-5")
    assert final_a["step"] == final_b["step"] == 5
    # resumed from the fp32 master weights and optimizer moments: bitwise the uninterrupted run
    assert final_a["model"].keys() == final_b["model"].keys()
    for name, weight in final_a["model"].items():
        assert torch.equal(weight, final_b["model"][name]), name
    for idx, moments in final_a["optimizer"]["state"].items():
        assert torch.equal(moments["exp_avg_sq"], final_b["optimizer"]["state"][idx]["exp_avg_sq"])


def test_nan_reward_skips_the_step(tiny_model_dir: Path, tmp_path: Path, monkeypatch: Any) -> None:
    import rlvr_train.rewards as rewards_module

    monkeypatch.setattr(rewards_module, "reward_of", lambda *args: float("nan"))
    out = tmp_path / "run"
    train(toy_config(tiny_model_dir, out, steps=1, kl_coef=0.0), progress=False)
    (row,) = read_rows(out)
    assert row["skipped"] is True
    from transformers import AutoModelForCausalLM

    start = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    after = load_trainer_state(out / "checkpoint-1")["model"]  # the fp32 weights, not the bf16 copy
    assert after.keys() <= start.keys() and len(after) > 10
    for name, weight in after.items():
        assert torch.equal(weight, start[name]), name  # the NaN update was not applied


def test_live_engine_gets_the_policy_weights_before_each_use(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A live engine (vLLM's role) is sent the weights once per update, sleeps during the update, and
    serves the evaluation too (the same engine object); rollouts are token-id prompts, evaluation text."""
    from fake_engine import SCRIPT_EVAL, RecordingLiveEngine

    bench = tmp_path / "toy_eval.jsonl"
    bench.write_text('{"question": "Say 7", "answer": "7"}\n{"question": "Say 3", "answer": "3"}\n')
    engines: list[RecordingLiveEngine] = []
    policies: list[Any] = []
    snapshots: list[list[tuple[str, list[int], float]]] = []

    def weights() -> list[tuple[str, list[int], float]]:
        params = policies[0].named_parameters(remove_duplicate=False)
        return [(n, list(p.shape), float(p.detach().double().sum())) for n, p in params]

    def make(policy: Any, tokenizer: Any) -> RecordingLiveEngine:
        policies.append(policy)
        snapshots.append(weights())  # before any update
        engines.append(RecordingLiveEngine(tokenizer, SCRIPT_EVAL))
        return engines[-1]

    out = tmp_path / "run"
    cfg = toy_config(tiny_model_dir, out, steps=2, eval_every=2, eval_tasks=[f"jsonl:{bench}"],
                     eval_template="plain", max_response_tokens=16)
    train(cfg, progress=False, make_engine=make, on_step=lambda step, row: snapshots.append(weights()))
    (engine,) = engines
    kinds = [call[0] for call in engine.calls]
    assert kinds == [
        "load_weights", "wake_up", "generate",  # evaluation at step 0
        "wake_up", "generate", "sleep",  # step 1: weights unchanged since the evaluation
        "load_weights", "wake_up", "generate", "sleep",  # step 2
        "load_weights", "wake_up", "generate",  # evaluation at step 2
        "close",
    ]
    generated = [call for call in engine.calls if call[0] == "generate"]
    assert [call[1] for call in generated] == [["text"], ["ids"], ["ids"], ["text"]]
    assert len(generated[0][2]) == 2 and generated[1][3]["n"] == 8  # 2 eval items; G rollouts per prompt
    loads = [call[1] for call in engine.calls if call[0] == "load_weights"]
    assert len(snapshots) == 3  # initial, after step 1, after step 2
    for load, expected in zip(loads, snapshots, strict=True):  # whole tensors, tied ones under each name
        assert [(n, s) for n, s, _ in load] == [(n, s) for n, s, _ in expected]
        for (name, _, got), (_, _, want) in zip(load, expected, strict=True):
            assert got == pytest.approx(want, rel=1e-6, abs=1e-6), name
    assert loads[1] != loads[0]  # the update changed the weights the engine received


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
        toy = results["tasks"]["toy_eval"]
        assert r["eval/toy_eval/answer_present_rate"] == toy["answer_present_rate"] >= toy["lenient_accuracy"]
    assert Path(evals[1]["eval_dir"]).name == "step-2"


def test_grpo_raises_the_toy_reward(tiny_model_dir: Path, tmp_path: Path) -> None:
    """About 9 s on one core. Seen on the fixture model with the per-step seeding and verifier v2 (seeds
    0-4): first 5 steps 0.0-0.013, last 10 of 60 steps 0.76-0.99 (after 40 steps only 0.37-0.71, so 60);
    lr 3e-3 is far above the paper's 1e-6: a 2-layer random model needs big steps."""
    rewards: list[float] = []
    cfg = toy_config(tiny_model_dir, tmp_path / "run", steps=60, seed=1)
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
