"""Rollouts: built from completions, packed (padded = unpadded log-probs), and their rewards."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rlvr_eval import verify
from rlvr_eval.generation import Completion
from rlvr_train.config import TrainConfig
from rlvr_train.rewards import reward_of
from rlvr_train.rollout import Rollouts, pack, response_logits, rollouts_from


def test_rollouts_from_completions_keeps_groups_and_end_tokens() -> None:
    done = Completion(text="a", finish_reason="stop", num_tokens=3, token_ids=(5, 6, 2))
    cut = Completion(text="b", finish_reason="length", num_tokens=2, token_ids=(7, 8))
    out = rollouts_from([[1, 2], [3]], [[done, cut], [cut, done]])
    assert out.prompt_ids == [[1, 2], [1, 2], [3], [3]]
    assert out.response_ids == [[5, 6, 2], [7, 8], [7, 8], [5, 6, 2]]
    assert out.finish_reasons == ["stop", "length", "length", "stop"] and out.texts == ["a", "b", "b", "a"]
    with pytest.raises(ValueError, match="no token ids"):  # e.g. the openai backend: text only
        rollouts_from([[1]], [[Completion(text="x", finish_reason="stop", num_tokens=1)]])


def test_packed_log_probs_match_unpadded(tiny_model_dir: Path) -> None:
    """Left-padded prompts + right-padded responses must give the log-probs of an unpadded forward
    (padding masked out, response positions sliced right)."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    rollouts = Rollouts(
        prompt_ids=[[10, 11, 12, 13, 14], [20, 21]],
        response_ids=[[30, 31, 32], [40, 41, 42, 43, 44, 45]],
        texts=["", ""], finish_reasons=["length", "length"],
    )
    batch = pack(rollouts, pad_id=0)
    assert batch.input_ids.shape == (2, 5 + 6) and batch.prompt_len == 5
    assert batch.response_mask.tolist() == [[1, 1, 1, 0, 0, 0], [1] * 6]
    with torch.no_grad():
        packed = torch.log_softmax(response_logits(model, batch), dim=-1)  # [2, 6, V]
        for i in range(2):
            alone = pack(Rollouts([rollouts.prompt_ids[i]], [rollouts.response_ids[i]], [""], ["length"]), 0)
            single = torch.log_softmax(response_logits(model, alone), dim=-1)[0]  # [R_i, V]
            n = len(rollouts.response_ids[i])
            torch.testing.assert_close(packed[i, :n], single[:n], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("completion", "verifier", "fmt"),
    [
        ("so \\boxed{12.8}", 1.0, 1.0),
        ("so \\boxed{12.7}", 0.0, 1.0),  # wrong but boxed: the format-only baseline pays
        ("the answer is 12.8", 0.0, 0.0),  # right but unboxed: the paper's reward gives 0
        ("so \\boxed{}", 0.0, 0.0),
        ("\\boxed{12.8} then \\boxed{3}", 0.0, 1.0),  # the LAST box counts
    ],
)
@pytest.mark.parametrize("truncated", [False, True])
def test_reward_modes(completion: str, verifier: float, fmt: float, truncated: bool) -> None:
    """The paper scores the last box whatever the finish reason: a truncated response is rewarded like
    any other by default, and gets 0 with ``truncated_reward: zero``."""
    verdict = verify(completion, "12.8", finish_reason="length" if truncated else "stop")
    assert verdict.correct is (verifier == 1.0 and not truncated)  # evaluation's stricter rule
    modes = ("verifier", "format")
    rewards = {mode: reward_of(verdict, TrainConfig(reward=mode), truncated) for mode in modes}
    assert rewards == {"verifier": verifier, "format": fmt}
    assert reward_of(verdict, TrainConfig(reward="entropy"), truncated) == 0.0
    zero = {mode: reward_of(verdict, TrainConfig(reward=mode, truncated_reward="zero"), truncated)
            for mode in modes}
    assert zero == ({"verifier": 0.0, "format": 0.0} if truncated else rewards)


def test_lenient_reward_counts_unboxed_answers_truncated_or_not() -> None:
    cfg = TrainConfig(strict=False)
    for reason in ("stop", "length"):
        verdict = verify("the answer is 12.8", "12.8", strict=False, finish_reason=reason)
        assert reward_of(verdict, cfg, reason == "length") == 1.0
    assert reward_of(verify("the answer is 3", "12.8", strict=False), cfg, False) == 0.0


def test_training_reward_grades_with_the_question_as_evaluation_does() -> None:
    """The reward passes each response's question to the verifier, as ``rlvr-eval`` does: a restated
    question is not credited, and a rounding question makes the decimal reference rounded."""
    from rlvr_eval import verify_batch
    from rlvr_train.data import Example
    from rlvr_train.rewards import grade_responses

    restate = Example(index="a", question="Compute $\\frac{7}{3}+\\frac{5}{6}$.", answer="\\frac{19}{6}")
    rounding = Example(index="b", question="What is $\\sqrt{2}$ rounded to the nearest tenth?", answer="1.4")
    cases = [
        (restate, "Adding, \\boxed{\\frac{7}{3}+\\frac{5}{6}}", False),  # equal in value, but the question
        (restate, "Adding, \\boxed{\\frac{19}{6}}", True),
        (rounding, "It is about \\boxed{1.41}", True),  # exact 1.4 would reject 1.41
        (rounding, "It is about \\boxed{1.5}", False),
    ]
    texts = [text for _, text, _ in cases]
    examples = [example for example, _, _ in cases]
    verdicts = grade_responses(verify_batch, texts, examples, ["stop"] * len(cases), TrainConfig())
    assert [v.correct for v in verdicts] == [expected for _, _, expected in cases]
    for (example, text, _), verdict in zip(cases, verdicts, strict=True):
        assert verdict == verify(text, example.answer, prompt=example.question)  # the evaluation's verdict
