"""TRL adapter: the reward functions under TRL's keyword contract, and a real GRPOTrainer run on CPU.

The contract tests need only rlvr (they call the functions exactly as ``GRPOTrainer._calculate_rewards``
does); the trainer test needs TRL (``pip install trl``) and skips without it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from rlvr_eval import verify
from rlvr_eval.integrations.trl import (
    VerifierReward,
    accuracy_reward,
    format_reward,
    make_accuracy_reward,
    make_format_reward,
)

HAS_TRL = importlib.util.find_spec("trl") is not None


class Hooks:
    """Stand-ins for GRPOTrainer's ``log_extra`` / ``log_metric`` that record what they get."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {}
        self.metrics: dict[str, float] = {}

    def log_extra(self, column: str, values: list[Any]) -> None:
        self.columns.setdefault(column, []).extend(values)

    def log_metric(self, name: str, value: float) -> None:
        self.metrics[name] = value


def trl_call(fn: Any, completions: list[Any], hooks: Hooks | None = None, **columns: Any) -> list[float]:
    """Call a reward function with every keyword GRPOTrainer passes (TRL 1.x)."""
    hooks = hooks or Hooks()
    prompts = columns.pop("prompts", ["What is $1+1$?"] * len(completions))
    return fn(
        prompts=prompts, completions=completions, completion_ids=[[1, 2, 3]] * len(completions),
        trainer_state=object(), log_extra=hooks.log_extra, log_metric=hooks.log_metric, **columns,
    )


COMPLETIONS = [
    "1 plus 1 makes $\\boxed{2}$.",  # correct, boxed
    "The answer is 2.",  # right content, wrong format
    "I think \\boxed{3}.",  # boxed, wrong
    "\\boxed{}",  # empty box
]


def test_accuracy_reward_one_float_per_completion_with_extra_columns_ignored() -> None:
    rewards = trl_call(accuracy_reward, COMPLETIONS, answer=["2"] * 4, level=[1] * 4, subject=["x"] * 4)
    assert rewards == [1.0, 0.0, 0.0, 0.0]
    assert all(isinstance(r, float) for r in rewards)


@pytest.mark.parametrize("column,value", [
    ("answer", "2"), ("ground_truth", "2"), ("solution", "We add: $1+1=\\boxed{2}$."), ("answer", 2.0),
])
def test_reference_columns(column: str, value: Any) -> None:
    assert trl_call(accuracy_reward, COMPLETIONS[:1], **{column: [value]}) == [1.0]
    assert trl_call(accuracy_reward, ["so \\boxed{5}"], **{column: [value]}) == [0.0]


def test_answer_column_wins_over_solution() -> None:
    # `answer` comes first in the preference order; a disagreeing `solution` must not be used.
    assert trl_call(accuracy_reward, COMPLETIONS[:1], answer=["2"], solution=["\\boxed{7}"]) == [1.0]


def test_chat_completions_grade_the_last_assistant_turn() -> None:
    chat = [
        [{"role": "assistant", "content": "so $\\boxed{2}$"}],
        [{"role": "assistant", "content": "\\boxed{2} first"}, {"role": "tool", "content": "\\boxed{9}"},
         {"role": "assistant", "content": [{"type": "text", "text": "final: \\boxed{5}"}]}],
    ]
    prompts = [[{"role": "user", "content": "What is $1+1$?"}]] * 2
    assert trl_call(accuracy_reward, chat, prompts=prompts, answer=["2", "5"]) == [1.0, 1.0]


def test_missing_reference_column_is_a_one_line_error() -> None:
    wanted = r"no reference column \(answer, solution, ground_truth\) in the dataset; columns: level$"
    with pytest.raises(ValueError, match=wanted):
        trl_call(accuracy_reward, ["\\boxed{2}"], level=[3])


def test_format_reward_needs_no_reference_and_follows_strict() -> None:
    assert trl_call(format_reward, COMPLETIONS) == [1.0, 0.0, 1.0, 0.0]
    lenient = make_format_reward(strict=False)
    assert trl_call(lenient, COMPLETIONS) == [1.0, 1.0, 1.0, 0.0]


def test_configured_values_and_format() -> None:
    reward = make_accuracy_reward(answer_format="gsm8k", correct_reward=2.5, incorrect_reward=-1.0, workers=0)
    assert trl_call(reward, ["work...\n#### 2", "\\boxed{2}"], answer=["2", "2"]) == [2.5, -1.0]
    lenient = make_accuracy_reward(strict=False)
    assert trl_call(lenient, COMPLETIONS, answer=["2"] * 4) == [1.0, 1.0, 0.0, 0.0]


def test_truncation_length_marks_long_completions_truncated() -> None:
    reward = make_accuracy_reward(truncation_length=3)
    hooks = Hooks()
    rewards = reward(prompts=["q", "q"], completions=["\\boxed{2}", "\\boxed{2}"],
                     completion_ids=[[1, 2, 3], [1, 2]], answer=["2", "2"], log_extra=hooks.log_extra)
    assert rewards == [0.0, 1.0]
    assert hooks.columns["rlvr_accuracy/format"] == ["truncated", "ok"]


def test_verdicts_reach_the_log_hooks() -> None:
    hooks = Hooks()
    trl_call(accuracy_reward, COMPLETIONS, hooks, answer=["2"] * 4)
    assert hooks.columns["accuracy_reward/format"] == ["ok", "no_answer", "ok", "empty"]
    assert hooks.columns["accuracy_reward/extracted"][:3] == ["2", "2", "3"]
    assert hooks.columns["accuracy_reward/content"][:3] == ["equal", "equal", "different"]
    assert hooks.metrics["accuracy_reward/format_ok"] == 0.5
    assert hooks.metrics["accuracy_reward/lenient_correct"] == 0.5
    fmt = Hooks()
    trl_call(format_reward, COMPLETIONS, fmt)
    assert fmt.columns == {"format_reward/format": ["ok", "no_answer", "ok", "empty"]}
    assert fmt.metrics == {"format_reward/format_ok": 0.5}


def test_works_without_trl_hooks_and_pickles() -> None:
    import pickle

    assert accuracy_reward(prompts=["q"], completions=["\\boxed{2}"], answer=["2"]) == [1.0]
    copy = pickle.loads(pickle.dumps(make_accuracy_reward(correct_reward=3.0)))
    assert isinstance(copy, VerifierReward)
    assert copy(completions=["\\boxed{2}"], answer=["2"]) == [3.0]
    with pytest.raises(ValueError, match="kind must be"):
        VerifierReward("length")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- a real GRPOTrainer


@pytest.mark.skipif(not HAS_TRL, reason="TRL is not installed (pip install trl)")
def test_grpo_trainer_steps_with_rlvr_rewards(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Two GRPO steps on the tiny chat model (~5 s on CPU): rewards, logged verdicts and verify agree."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    questions = ["What is $1+1$?", "What is $2+3$?"]
    data = Dataset.from_dict({
        "prompt": [[{"role": "user", "content": q}] for q in questions] * 4,
        "answer": ["2", "5"] * 4,
        "level": [1, 2] * 4,  # an extra column TRL passes by name: must be ignored
    })
    args = GRPOConfig(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_generations=2,
        max_completion_length=12, learning_rate=1e-4, max_steps=2, logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=True, bf16=False, disable_tqdm=True, seed=0, temperature=1.0,
    )
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, padding_side="left")
    accuracy = make_accuracy_reward(name="accuracy_reward", workers=0)
    fmt = make_format_reward(name="format_reward")
    trainer = GRPOTrainer(model=model, reward_funcs=[accuracy, fmt], args=args, train_dataset=data,
                          processing_class=tokenizer)
    trainer.remove_callback(PrinterCallback)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores; restored so later tests in the session are unaffected
    try:
        trainer.train()
    finally:
        torch.set_num_threads(threads)

    history = [h for h in trainer.state.log_history if "loss" in h]
    assert len(history) == 2
    for entry in history:
        assert "rewards/accuracy_reward/mean" in entry and "accuracy_reward/format_ok" in entry
        assert entry["format_reward/format_ok"] == pytest.approx(entry["rewards/format_reward/mean"])

    # The last batch as TRL logged it: each reward and each logged column equals rlvr's own verdict.
    logs = trainer._logs
    completions = [c[-1]["content"] for c in logs["completion"]]
    prompts = [p[-1]["content"] for p in logs["prompt"]]
    answers = {q: a for q, a in zip(questions, ["2", "5"], strict=True)}
    assert len(completions) == 4
    for i, (prompt, text) in enumerate(zip(prompts, completions, strict=True)):
        verdict = verify(text, answers[prompt], prompt=prompt)
        assert logs["rewards"]["accuracy_reward"][i] == verdict.reward
        assert logs["rewards"]["format_reward"][i] == float(verdict.format_ok)
        assert logs["extra"]["accuracy_reward/format"][i] == verdict.format.value
        assert logs["extra"]["accuracy_reward/extracted"][i] == (verdict.extracted or "")
