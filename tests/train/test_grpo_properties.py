"""Hypothesis properties of rlvr_train.grpo: the invariants GRPO relies on, over random tiny tensors."""

from __future__ import annotations

import math
from typing import get_args

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_train.grpo import (
    AggregationMode,
    group_advantages,
    grpo_loss,
    kl_k3,
    masked_aggregate,
    policy_loss,
    token_log_probs_and_entropy,
)

MODES: tuple[AggregationMode, ...] = get_args(AggregationMode)
PROPS = settings(max_examples=60, deadline=None)

finite32 = st.floats(-5.0, 5.0, width=32, allow_subnormal=False)
binary = st.sampled_from([0.0, 1.0])


@st.composite
def grouped_rewards(draw: st.DrawFn, values: st.SearchStrategy[float] = finite32) -> tuple[torch.Tensor, int]:
    """``[B*G]`` rewards and G, from either real-valued or 0/1 rewards."""
    group_size = draw(st.integers(1, 8))
    num_groups = draw(st.integers(1, 4))
    rewards = draw(st.lists(values, min_size=group_size * num_groups, max_size=group_size * num_groups))
    return torch.tensor(rewards, dtype=torch.float32), group_size


@st.composite
def values_and_mask(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """``[N, L]`` values and a 0/1 mask of the same shape."""
    n, length = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    values = draw(st.lists(finite32, min_size=n * length, max_size=n * length))
    mask = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n * length, max_size=n * length))
    return torch.tensor(values).view(n, length), torch.tensor(mask).view(n, length)


# --- advantages ---------------------------------------------------------------------------------------


@PROPS
@given(grouped_rewards(st.one_of(finite32, binary)), st.booleans())
def test_advantages_sum_to_zero_per_group(case: tuple[torch.Tensor, int], normalize_std: bool) -> None:
    rewards, group_size = case
    adv = group_advantages(rewards, group_size, normalize_std=normalize_std)
    assert adv.shape == rewards.shape
    sums = adv.view(-1, group_size).sum(dim=1)
    assert torch.all(sums.abs() <= 1e-5), sums


@PROPS
@given(grouped_rewards(binary))
def test_advantages_have_unit_unbiased_std_in_mixed_groups(case: tuple[torch.Tensor, int]) -> None:
    # For 0/1 rewards the group std is >= ~0.35, so eps = 1e-6 changes the std by < 1e-5.
    rewards, group_size = case
    adv = group_advantages(rewards, group_size).view(-1, group_size)
    grouped = rewards.view(-1, group_size)
    mixed = grouped.amax(dim=1) > grouped.amin(dim=1)
    if group_size > 1 and mixed.any():
        torch.testing.assert_close(adv[mixed].std(dim=1), torch.ones(int(mixed.sum())), rtol=1e-5, atol=0)


@PROPS
@given(grouped_rewards(binary), st.floats(-3.0, 3.0), st.booleans())
def test_advantages_ignore_a_reward_offset(case: tuple[torch.Tensor, int], shift: float, norm: bool) -> None:
    rewards, group_size = case
    base = group_advantages(rewards, group_size, normalize_std=norm)
    shifted = group_advantages(rewards + shift, group_size, normalize_std=norm)
    torch.testing.assert_close(shifted, base, rtol=1e-5, atol=1e-5)


@PROPS
@given(
    st.lists(finite32, min_size=1, max_size=4),
    st.integers(1, 8),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_equal_rewards_give_zero_advantage_loss_and_gradient(
    group_values: list[float], group_size: int, length: int, norm: bool, seed: int
) -> None:
    rewards = torch.tensor(group_values).repeat_interleave(group_size)  # [B*G], constant per group
    adv = group_advantages(rewards, group_size, normalize_std=norm)
    assert torch.equal(adv, torch.zeros_like(adv))
    gen = torch.Generator().manual_seed(seed)
    n = rewards.numel()
    logp = (-torch.rand(n, length, generator=gen) * 5).requires_grad_(True)
    old = -torch.rand(n, length, generator=gen) * 5  # off-policy ratios, some clipped
    mask = (torch.rand(n, length, generator=gen) > 0.3).float()
    loss, _ = grpo_loss(logp, adv, mask, old_logp=old, kl_coef=0.0, entropy_coef=0.0)
    loss.backward()
    assert loss.item() == 0.0
    assert logp.grad is not None and torch.all(logp.grad == 0)


# --- policy loss --------------------------------------------------------------------------------------


@PROPS
@given(values_and_mask(), st.sampled_from(MODES))
def test_ratio_one_and_zero_advantage_give_zero_loss(
    case: tuple[torch.Tensor, torch.Tensor], mode: AggregationMode
) -> None:
    logp, mask = case
    logp = (-logp.abs()).requires_grad_(True)
    loss, stats = policy_loss(logp, logp.detach(), torch.zeros(logp.shape[0]), mask, aggregation=mode)
    loss.backward()
    assert loss.item() == 0.0 and stats["clip_frac"] == 0.0
    assert logp.grad is not None and torch.all(logp.grad == 0)


@PROPS
@given(values_and_mask(), st.lists(finite32, min_size=4, max_size=4))
def test_ratio_one_gives_the_vanilla_policy_gradient(
    case: tuple[torch.Tensor, torch.Tensor], adv_values: list[float]
) -> None:
    # On-policy, the surrogate's gradient is the REINFORCE gradient: d loss / d logp = -A * mask / tokens.
    logp, mask = case
    adv = torch.tensor(adv_values[: logp.shape[0]])
    logp = logp.requires_grad_(True)
    loss, stats = policy_loss(logp, logp.detach(), adv, mask)
    loss.backward()
    tokens = max(mask.sum().item(), 1.0)
    torch.testing.assert_close(loss, -(adv[:, None] * mask).sum() / tokens, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logp.grad, -adv[:, None] * mask / tokens, rtol=1e-5, atol=1e-7)
    if mask.any():
        assert stats["ratio_mean"] == pytest.approx(1.0)


@PROPS
@given(
    st.floats(-3.0, 3.0),  # log-ratio
    st.floats(0.01, 5.0) | st.floats(-5.0, -0.01),  # advantage, never 0
    st.floats(0.0, 0.5),  # clip_low
    st.floats(0.0, 0.5),  # clip_high
)
def test_clipping_bounds_the_objective(log_ratio: float, advantage: float, low: float, high: float) -> None:
    """PPO (Schulman et al. 2017, sec. 3): objective o = min(r A, clip(r, 1 - low, 1 + high) A), so
    A > 0: o = min(r, 1 + high) A <= (1 + high) A, and no gradient once r > 1 + high;
    A < 0: o = max(r, 1 - low) A <= (1 - low) A, and no gradient once r < 1 - low;
    always o <= r A (the clipped objective is a pessimistic bound of the unclipped one)."""
    logp = torch.tensor([[log_ratio]], requires_grad=True)
    loss, stats = policy_loss(logp, torch.zeros(1, 1), torch.tensor([advantage]), torch.ones(1, 1),
                              clip_low=low, clip_high=high)
    loss.backward()
    objective = -loss.item()
    ratio = torch.tensor(log_ratio, dtype=torch.float32).exp().item()
    tol = 1e-6 * max(1.0, abs(advantage) * ratio)
    assert objective <= ratio * advantage + tol
    if advantage > 0:
        assert objective <= (1 + high) * advantage + tol
        assert objective == pytest.approx(min(ratio, 1 + high) * advantage, rel=1e-6, abs=1e-7)
        clipped = ratio > (1 + high) * (1 + 1e-5)
    else:
        assert objective <= (1 - low) * advantage + tol
        assert objective == pytest.approx(max(ratio, 1 - low) * advantage, rel=1e-6, abs=1e-7)
        clipped = ratio < (1 - low) * (1 - 1e-5)
    assert logp.grad is not None
    if clipped:
        assert logp.grad.item() == 0.0 and stats["clip_frac"] == 1.0
    elif abs(ratio - (1 + high)) > 1e-5 and abs(ratio - (1 - low)) > 1e-5:
        assert logp.grad.item() == pytest.approx(-ratio * advantage, rel=1e-5)


# --- masking ------------------------------------------------------------------------------------------


junk = st.floats(allow_nan=True, allow_infinity=True, width=32)


@PROPS
@given(values_and_mask(), st.sampled_from(MODES), st.data())
def test_masked_aggregation_ignores_padding(
    case: tuple[torch.Tensor, torch.Tensor], mode: AggregationMode, data: st.DataObject
) -> None:
    values, mask = case
    other = values.clone()
    padded = mask == 0
    count = int(padded.sum())
    other[padded] = torch.tensor(data.draw(st.lists(junk, min_size=count, max_size=count)))
    assert torch.equal(masked_aggregate(values, mask, mode), masked_aggregate(other, mask, mode))


@PROPS
@given(values_and_mask(), st.sampled_from(MODES), st.integers(0, 2**31 - 1))
def test_loss_and_gradient_ignore_padding(
    case: tuple[torch.Tensor, torch.Tensor], mode: AggregationMode, seed: int
) -> None:
    old, mask = case
    old = -old.abs()
    gen = torch.Generator().manual_seed(seed)
    adv = torch.randn(old.shape[0], generator=gen)
    base = (old + 0.3 * torch.randn(old.shape, generator=gen)).clamp(max=0.0)
    noisy = torch.where(mask.bool(), base, -50 * torch.rand(old.shape, generator=gen))  # garbage in padding
    losses, grads = [], []
    for logp_values in (base, noisy):
        logp = logp_values.clone().requires_grad_(True)
        loss, _ = grpo_loss(logp, adv, mask, old_logp=old, ref_logp=old, entropy=torch.ones_like(old),
                            aggregation=mode)
        loss.backward()
        assert logp.grad is not None and torch.all(logp.grad[mask == 0] == 0)
        losses.append(loss)
        grads.append(logp.grad)
    assert torch.equal(losses[0], losses[1])
    assert torch.equal(grads[0], grads[1])


# --- KL and entropy -----------------------------------------------------------------------------------

log_prob = st.floats(-60.0, 0.0, width=32)


@PROPS
@given(st.lists(st.tuples(log_prob, log_prob), min_size=1, max_size=16))
def test_k3_is_non_negative_bounded_and_zero_on_the_reference(pairs: list[tuple[float, float]]) -> None:
    logp = torch.tensor([[p for p, _ in pairs]])
    ref = torch.tensor([[r for _, r in pairs]])
    kl = kl_k3(logp, ref)
    assert torch.all(kl >= 0) and torch.all(kl <= 10.0)
    assert torch.equal(kl_k3(logp, logp), torch.zeros_like(logp))
    assert torch.equal(kl_k3(ref, ref), torch.zeros_like(ref))


@PROPS
@given(st.integers(2, 50), st.floats(0.1, 2.0), st.integers(0, 2**31 - 1))
def test_entropy_and_log_prob_ranges(vocab: int, temperature: float, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 3, vocab, generator=gen) * 10
    tokens = torch.randint(0, vocab, (2, 3), generator=gen)
    logp, ent = token_log_probs_and_entropy(logits, tokens, temperature)
    assert torch.all(logp <= 0)
    assert torch.all(ent >= -1e-6) and torch.all(ent <= math.log(vocab) + 1e-5)
