"""policy_update: micro-batches by count or token budget give exactly the one-big-batch gradient.

The reference gradient is computed here without policy_update's machinery: one forward over the whole
batch, whole logits, ``grpo_loss`` over all responses, one backward. policy_update must reproduce it for
every aggregation mode, micro-batch size, token budget and log-prob chunk size.
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any, get_args

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_train.config import TrainConfig
from rlvr_train.grpo import AggregationMode, grpo_loss, token_log_probs_and_entropy
from rlvr_train.rollout import Packed, Rollouts, pack, response_logits
from rlvr_train.update import plan_micro_batches, policy_update, response_token_stats, select_rows

MODES: tuple[AggregationMode, ...] = get_args(AggregationMode)
ADVANTAGES = torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, 0.0, -2.0, 0.3])
COMMON = dict(kl_coef=0.01, entropy_coef=0.01, temperature=0.6, grad_clip=1e9, max_response_tokens=10)


def fake_batch(vocab: int) -> Packed:
    """8 responses of lengths 1..7 to two prompts of different lengths (so both paddings occur)."""
    gen = torch.Generator().manual_seed(0)
    lengths = [1, 5, 2, 7, 3, 6, 4, 2]
    prompts = [[5, 6, 7], [5, 6, 7, 8, 9]] * 4
    responses = [torch.randint(3, vocab, (n,), generator=gen).tolist() for n in lengths]
    return pack(Rollouts(prompts, responses, [""] * 8, ["stop"] * 8), pad_id=0)


@pytest.fixture(scope="module")
def models(tiny_model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM

    policy = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    ref = copy.deepcopy(policy).eval().requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # a reference away from the policy, so the KL term has a gradient
        for p in ref.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return policy, ref


def reference_grads(policy: Any, ref: Any, batch: Packed, cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """The whole batch at once: whole logits, one loss, one backward."""
    model = copy.deepcopy(policy)
    tokens, temperature = batch.response_ids, cfg.temperature
    logp, entropy = token_log_probs_and_entropy(response_logits(model, batch), tokens, temperature)
    with torch.no_grad():
        ref_logp = token_log_probs_and_entropy(response_logits(ref, batch), tokens, temperature)[0]
    loss, _ = grpo_loss(logp, ADVANTAGES, batch.response_mask, ref_logp=ref_logp, entropy=entropy,
                        kl_coef=cfg.kl_coef, entropy_coef=cfg.entropy_coef, aggregation=cfg.aggregation,
                        norm_length=cfg.max_response_tokens)
    loss.backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def update_grads(
    policy: Any, ref: Any, batch: Packed, cfg: TrainConfig
) -> tuple[dict[str, torch.Tensor], Any]:
    """The gradient policy_update hands the optimizer (after accumulation), and its metrics."""
    model = copy.deepcopy(policy)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    grads: dict[str, torch.Tensor] = {}

    def record(*args: Any) -> None:
        grads.update({name: p.grad.clone() for name, p in model.named_parameters()})

    optimizer.register_step_pre_hook(record)
    stats = policy_update(model, ref, optimizer, batch, ADVANTAGES, cfg, torch.device("cpu"),
                          contextlib.nullcontext)
    return grads, stats


SPLITS = [  # (micro_batch_size, max_tokens_per_micro_batch, logprob_chunk_size)
    (8, None, 0),  # one micro-batch, whole logits: policy_update's own path as the baseline
    (8, None, 3),
    (3, None, 5),
    (1, None, 2),
    (8, 24, 4),  # token budget binds: padded widths 12+11 | 10+7 | 6+7+5 | 4 (prompt + response)
    (8, 1, 1),  # budget below any row: every response alone
]


@pytest.mark.parametrize("mode", MODES)
def test_micro_batches_give_the_one_batch_gradient(models: tuple[Any, Any], mode: AggregationMode) -> None:
    policy, ref = models
    batch = fake_batch(policy.config.vocab_size)
    expected = reference_grads(policy, ref, batch, TrainConfig(aggregation=mode, **COMMON))
    assert max(float(g.abs().max()) for g in expected.values()) > 1e-3  # a real gradient to compare
    counts = []
    for micro, budget, chunk in SPLITS:
        cfg = TrainConfig(aggregation=mode, micro_batch_size=micro, max_tokens_per_micro_batch=budget,
                          logprob_chunk_size=chunk, **COMMON)
        grads, stats = update_grads(policy, ref, batch, cfg)
        counts.append(stats["micro_batches"])
        for name, grad in expected.items():  # fp32 sums in another order: relative to the tensor's scale
            atol = 2e-6 * float(grad.abs().max())
            torch.testing.assert_close(grads[name], grad, rtol=1e-4, atol=atol, msg=f"{name} {cfg}")
    assert counts == [1, 1, 3, 8, 4, 8]


def test_chunked_stats_equal_whole_logits_and_zero_padding(models: tuple[Any, Any]) -> None:
    policy, _ = models
    batch = fake_batch(policy.config.vocab_size)
    with torch.no_grad():
        full = response_token_stats(policy, batch, 0.6, chunk_size=0)
        chunked = response_token_stats(policy, batch, 0.6, chunk_size=3)
    real = batch.response_mask.bool()
    for a, b in zip(full, chunked, strict=True):
        torch.testing.assert_close(a[real], b[real], rtol=1e-5, atol=1e-5)
        assert torch.all(b[~real] == 0)


def test_select_rows_drops_unused_padding_without_changing_outputs(models: tuple[Any, Any]) -> None:
    policy, _ = models
    batch = fake_batch(policy.config.vocab_size)  # P = 5, R = 7
    rows = [0, 2, 4]  # prompts of 3 tokens, responses of 1, 2, 3 tokens
    small = select_rows(batch, rows)
    assert (small.prompt_len, small.response_ids.shape[1], small.input_ids.shape[1]) == (3, 3, 6)
    with torch.no_grad():
        whole = response_token_stats(policy, batch, 0.6, chunk_size=0)[0][rows]  # [3, 7]
        cut = response_token_stats(policy, small, 0.6, chunk_size=0)[0]  # [3, 3]
    mask = small.response_mask.bool()
    torch.testing.assert_close(cut[mask], whole[:, :3][mask], rtol=1e-5, atol=1e-5)


@settings(max_examples=80, deadline=None)
@given(
    lengths=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12)), min_size=1, max_size=24),
    max_responses=st.integers(1, 8), max_tokens=st.one_of(st.none(), st.integers(1, 120)),
    data=st.data(),
)
def test_plan_covers_every_row_once_within_both_caps(
    lengths: list[tuple[int, int]], max_responses: int, max_tokens: int | None, data: st.DataObject
) -> None:
    response, prompt = [r for r, _ in lengths], [p for _, p in lengths]
    plan = plan_micro_batches(response, prompt, max_responses=max_responses, max_tokens=max_tokens)
    count = data.draw(st.integers(len(plan), len(lengths)))
    balanced = plan_micro_batches(response, prompt, max_responses=max_responses, max_tokens=max_tokens,
                                  count=count)
    assert len(balanced) == count
    for p in (plan, balanced):
        assert sorted(i for rows in p for i in rows) == list(range(len(lengths)))
        for rows in p:
            assert 1 <= len(rows) <= max_responses
            padded = len(rows) * max(response[i] + prompt[i] for i in rows)
            assert max_tokens is None or len(rows) == 1 or padded <= max_tokens
    # longest responses first: the micro-batches' longest responses never increase along the plan
    longest = [max(response[i] for i in rows) for rows in plan]
    assert longest == sorted(longest, reverse=True)


def test_plan_rejects_an_impossible_count() -> None:
    with pytest.raises(ValueError, match="cannot make 4 micro-batches"):
        plan_micro_batches([3, 2, 1], [1, 1, 1], max_responses=8, count=4)


def test_gradient_checkpointing_gives_the_same_gradient(
    models: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rlvr_train.trainer import enable_gradient_checkpointing

    policy, ref = models
    batch = fake_batch(policy.config.vocab_size)
    cfg = TrainConfig(micro_batch_size=3, logprob_chunk_size=4, **COMMON)
    plain, _ = update_grads(policy.train(), ref, batch, cfg)
    recomputing = copy.deepcopy(policy).train()
    enable_gradient_checkpointing(recomputing)
    mlp_class = type(recomputing.model.layers[0].mlp)
    mlp_forward = mlp_class.forward
    calls: list[bool] = []  # MLP forwards with grad: 2 layers x 3 micro-batches, twice if recomputed

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(torch.is_grad_enabled())
        return mlp_forward(self, *args, **kwargs)

    monkeypatch.setattr(mlp_class, "forward", counted)
    grads, _ = update_grads(recomputing, ref, batch, cfg)
    assert sum(calls) == 2 * 2 * 3  # checkpointing is on: backward ran every layer's forward again
    for name, grad in plain.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-5, atol=1e-7, msg=name)
