"""Rollout packing: padded batches give the same log-probs as unpadded ones; end tokens and rewards."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rlvr_eval import verify
from rlvr_train.rollout import HFRollout, Rollouts, cut_response, end_token_ids, pack, response_logits
from rlvr_train.trainer import reward_of


def test_cut_response_keeps_the_end_token() -> None:
    assert cut_response([5, 6, 2, 7, 2], {2}) == ([5, 6, 2], "stop")
    assert cut_response([5, 6, 7], {2}) == ([5, 6, 7], "length")
    assert cut_response([3, 5], {2, 3}) == ([3], "stop")


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


def test_hf_rollout_shapes_and_limits(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    engine = HFRollout(model, tokenizer, prompts_per_call=1)  # 1 per call: chunking must keep the order
    prompts = [tokenizer("What is 3 + 4?")["input_ids"], tokenizer("Hi")["input_ids"]]
    out = engine.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_tokens=5, seed=7)
    assert len(out) == 6 and out.prompt_ids == [prompts[0]] * 3 + [prompts[1]] * 3
    ends = set(end_token_ids(tokenizer))
    for tokens, reason in zip(out.response_ids, out.finish_reasons, strict=True):
        assert 1 <= len(tokens) <= 5
        assert (reason == "stop") == (tokens[-1] in ends)
        assert reason == "stop" or len(tokens) == 5
    again = engine.generate(prompts, n=3, temperature=1.0, top_p=1.0, max_tokens=5, seed=7)
    assert again.response_ids == out.response_ids  # seeded per call: resumable


@pytest.mark.parametrize(
    ("completion", "verifier", "fmt", "entropy"),
    [
        ("so \\boxed{12.8}", 1.0, 1.0, 0.0),
        ("so \\boxed{12.7}", 0.0, 1.0, 0.0),  # wrong but boxed: the format-only baseline pays
        ("the answer is 12.8", 0.0, 0.0, 0.0),  # right but unboxed: the paper's reward gives 0
        ("so \\boxed{}", 0.0, 0.0, 0.0),
    ],
)
def test_reward_modes(completion: str, verifier: float, fmt: float, entropy: float) -> None:
    verdict = verify(completion, "12.8")
    assert (reward_of(verdict, "verifier"), reward_of(verdict, "format"), reward_of(verdict, "entropy")) == (
        verifier, fmt, entropy,
    )
