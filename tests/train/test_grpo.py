"""Hand-worked checks of rlvr_train.grpo: every expected value is derived in the comment beside it."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr_train.grpo import (
    group_advantages,
    grpo_loss,
    kl_k3,
    masked_aggregate,
    policy_loss,
    token_log_probs_and_entropy,
)


def close(
    actual: torch.Tensor | None, expected: torch.Tensor, rtol: float = 1e-6, atol: float = 1e-7
) -> None:
    """Tight comparison: hand-worked values should match to float32 rounding."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)


def t(*rows: object) -> torch.Tensor:
    return torch.tensor(rows if len(rows) > 1 else rows[0], dtype=torch.float32)


# --- group_advantages ---------------------------------------------------------------------------------


def test_group_advantages_one_correct_of_four() -> None:
    # r = [1,0,0,0]: mean 0.25, deviations [0.75,-0.25,-0.25,-0.25];
    # unbiased var = (0.5625 + 3*0.0625) / 3 = 0.25 -> std 0.5; adv = dev / (0.5 + 1e-6).
    adv = group_advantages(t([1.0, 0.0, 0.0, 0.0]), 4)
    expected = t([0.75, -0.25, -0.25, -0.25]) / (0.5 + 1e-6)
    close(adv, expected)


def test_group_advantages_pair_uses_unbiased_std() -> None:
    # r = [1,0]: dev +-0.5; unbiased var = (0.25 + 0.25) / (2 - 1) = 0.5 -> std sqrt(0.5) = 0.7071068;
    # adv = +-0.5 / 0.7071068 = +-0.7071068 (a biased std of 0.5 would give +-1).
    adv = group_advantages(t([1.0, 0.0]), 2, eps=0.0)
    close(adv, t([math.sqrt(0.5), -math.sqrt(0.5)]))


def test_group_advantages_groups_are_independent_and_equal_group_is_zero() -> None:
    # Group 1 as above; group 2 all correct -> no signal -> exactly 0.
    adv = group_advantages(t([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]), 4)
    close(adv[:4], t([0.75, -0.25, -0.25, -0.25]) / (0.5 + 1e-6))
    assert torch.equal(adv[4:], torch.zeros(4))


def test_group_advantages_equal_non_representable_rewards_are_exactly_zero() -> None:
    # In float64, mean([0.7] * 3) != 0.7 (residue 1.1e-16); the function must still return exactly 0.
    adv = group_advantages(torch.full((6,), 0.7, dtype=torch.float64), 3)
    assert torch.equal(adv, torch.zeros(6, dtype=torch.float64))
    assert torch.equal(group_advantages(torch.full((8,), 0.1), 8), torch.zeros(8))


def test_group_advantages_near_equal_rewards_stay_balanced() -> None:
    # Rewards one float32 ulp apart: a float32 mean rounds onto one of them, giving deviations [0, 4.8e-7]
    # and advantages [0, 0.36] that no longer sum to zero. The exact (float64) mean keeps them at
    # +-2.4e-7 / (3.4e-7 + 1e-6) = +-0.178, i.e. summing to 0.
    ulp_above = torch.nextafter(torch.tensor(5.0), torch.tensor(6.0)).item()
    adv = group_advantages(torch.tensor([5.0, 5.0, ulp_above]), 3)
    assert abs(adv.sum().item()) < 1e-6
    assert adv[2].item() == pytest.approx(-2 * adv[0].item(), rel=1e-5)


def test_group_advantages_dr_grpo_skips_std() -> None:
    # Dr. GRPO: r - mean only -> [0.75, -0.25, -0.25, -0.25] and [0.5, -0.5].
    adv = group_advantages(t([1.0, 0.0, 0.0, 0.0]), 4, normalize_std=False)
    close(adv, t([0.75, -0.25, -0.25, -0.25]))
    adv = group_advantages(t([3.0, 2.0]), 2, normalize_std=False)
    close(adv, t([0.5, -0.5]))


def test_group_advantages_group_size_one_is_zero() -> None:
    # A lone response has no group to compare with (unbiased std would be nan).
    adv = group_advantages(t([1.0, 0.0, 1.0]), 1)
    assert torch.equal(adv, torch.zeros(3))


def test_group_advantages_keeps_float64() -> None:
    adv = group_advantages(torch.tensor([1.0, 0.0], dtype=torch.float64), 2)
    assert adv.dtype == torch.float64


@pytest.mark.parametrize(
    ("rewards", "group_size", "message"),
    [
        (torch.zeros(5), 4, "groups of 4"),
        (torch.zeros(4), 0, "groups of 0"),
        (torch.zeros(2, 4), 4, "1-D"),
    ],
)
def test_group_advantages_bad_input(rewards: torch.Tensor, group_size: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        group_advantages(rewards, group_size)


# --- token_log_probs_and_entropy ----------------------------------------------------------------------


def test_log_probs_and_entropy_at_temperature_one() -> None:
    # logits [0, ln 3] -> probs [1/4, 3/4]; token 1: ln(3/4) = -0.2876821;
    # entropy = -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.3465736 + 0.2157616 = 0.5623351.
    logits = torch.tensor([[[0.0, math.log(3.0)]]])
    logp, ent = token_log_probs_and_entropy(logits, torch.tensor([[1]]), temperature=1.0)
    close(logp, torch.tensor([[math.log(0.75)]]))
    close(ent, torch.tensor([[0.5623351446]]))


def test_log_probs_and_entropy_use_tempered_logits() -> None:
    # T = 0.5: logits / T = [0, 2 ln 3] = [0, ln 9] -> probs [0.1, 0.9]; token 0: ln 0.1 = -2.3025851;
    # entropy = -(0.1 ln 0.1 + 0.9 ln 0.9) = 0.2302585 + 0.0948245 = 0.3250830.
    logits = torch.tensor([[[0.0, math.log(3.0)]]])
    logp, ent = token_log_probs_and_entropy(logits, torch.tensor([[0]]), temperature=0.5)
    close(logp, torch.tensor([[math.log(0.1)]]))
    close(ent, torch.tensor([[0.3250829734]]))


def test_log_probs_and_entropy_match_categorical_and_keep_grad() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 11, generator=gen, dtype=torch.float64).to(torch.bfloat16)
    logits.requires_grad_(True)
    tokens = torch.randint(0, 11, (3, 5), generator=gen)
    logp, ent = token_log_probs_and_entropy(logits, tokens, temperature=0.6)
    assert logp.dtype == ent.dtype == torch.float32  # upcast before the softmax
    dist = torch.distributions.Categorical(logits=logits.detach().float() / 0.6)
    close(logp, dist.log_prob(tokens))
    close(ent, dist.entropy(), rtol=1e-6, atol=1e-6)
    (logp.sum() + ent.sum()).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_log_probs_bad_input() -> None:
    with pytest.raises(ValueError, match="temperature"):
        token_log_probs_and_entropy(torch.zeros(1, 1, 2), torch.zeros(1, 1, dtype=torch.long), 0.0)
    with pytest.raises(ValueError, match="do not match"):
        token_log_probs_and_entropy(torch.zeros(1, 2, 2), torch.zeros(1, 3, dtype=torch.long), 1.0)


# --- masked_aggregate ---------------------------------------------------------------------------------

VALUES = t([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
MASK = t([1.0, 1.0, 0.0], [1.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("token_mean", 7.0 / 3.0),  # (1 + 2 + 4) / 3 real tokens
        ("seq_mean_token_mean", 2.75),  # ((1 + 2) / 2 + 4 / 1) / 2 = (1.5 + 4) / 2
        ("seq_mean_token_sum", 3.5),  # (3 + 4) / 2
        ("seq_mean_token_sum_norm", 7.0 / 6.0),  # (3 / 3 + 4 / 3) / 2 with L = 3
    ],
)
def test_masked_aggregate_modes(mode: str, expected: float) -> None:
    close(masked_aggregate(VALUES, MASK, mode), torch.tensor(expected))  # type: ignore[arg-type]


def test_masked_aggregate_dr_grpo_constant_normaliser() -> None:
    # (3 / 10 + 4 / 10) / 2 = 0.35
    out = masked_aggregate(VALUES, MASK, "seq_mean_token_sum_norm", norm_length=10)
    close(out, torch.tensor(0.35))


def test_masked_aggregate_ignores_nan_under_mask() -> None:
    values = VALUES.clone()
    values[0, 2] = float("nan")
    values[1, 1] = float("inf")
    close(masked_aggregate(values, MASK), torch.tensor(7.0 / 3.0))


def test_masked_aggregate_empty_mask_and_empty_row() -> None:
    assert masked_aggregate(VALUES, torch.zeros(2, 3)).item() == 0.0
    # Row 2 has no real token: it counts as 0 in the sequence mean -> (1.5 + 0) / 2.
    mask = t([1.0, 1.0, 0.0], [0.0, 0.0, 0.0])
    close(masked_aggregate(VALUES, mask, "seq_mean_token_mean"), torch.tensor(0.75))


def test_masked_aggregate_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown aggregation mode"):
        masked_aggregate(VALUES, MASK, "sum")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape mismatch"):
        masked_aggregate(VALUES, MASK[:, :2])
    with pytest.raises(ValueError, match="norm_length"):
        masked_aggregate(VALUES, MASK, "seq_mean_token_sum_norm", norm_length=0)


# --- policy_loss --------------------------------------------------------------------------------------


def _ratios(*ratios: float) -> tuple[torch.Tensor, torch.Tensor]:
    """logp (with grad) and old_logp giving exactly these ratios on one response."""
    old = torch.zeros(1, len(ratios))
    logp = torch.log(torch.tensor([ratios])).requires_grad_(True)
    return logp, old


def test_policy_loss_positive_advantage() -> None:
    # A = +1, ratios [1.5, 0.5, 9 (padding)], eps 0.2:
    # token 0: min(1.5, 1.2) = 1.2 (clipped, no grad); token 1: min(0.5, 0.8) = 0.5 (unclipped).
    # loss = -(1.2 + 0.5) / 2 = -0.85; clip_frac 1/2; ratio_mean (1.5 + 0.5) / 2 = 1.
    # d loss / d logp: token 0 -> 0; token 1 -> -ratio * A / 2 = -0.25; padding -> 0.
    logp, old = _ratios(1.5, 0.5, 9.0)
    loss, stats = policy_loss(logp, old, t([1.0]), t([[1.0, 1.0, 0.0]]))
    close(loss, torch.tensor(-0.85))
    assert stats["clip_frac"] == pytest.approx(0.5)
    assert stats["ratio_mean"] == pytest.approx(1.0)
    loss.backward()
    close(logp.grad, t([[0.0, -0.25, 0.0]]))


def test_policy_loss_negative_advantage() -> None:
    # A = -1: token 0: min(-1.5, -1.2) = -1.5 (unclipped); token 1: min(-0.5, -0.8) = -0.8 (clipped).
    # loss = (1.5 + 0.8) / 2 = 1.15; grad token 0 = -ratio * A / 2 = 0.75, token 1 = 0.
    logp, old = _ratios(1.5, 0.5)
    loss, stats = policy_loss(logp, old, t([-1.0]), torch.ones(1, 2))
    close(loss, torch.tensor(1.15))
    assert stats["clip_frac"] == pytest.approx(0.5)
    loss.backward()
    close(logp.grad, t([[0.75, 0.0]]))


def test_policy_loss_asymmetric_clip() -> None:
    # clip_high 0.28: A = +1, ratio 1.5 -> 1.28; clip_low 0.1: A = -1, ratio 0.5 -> max(0.5, 0.9) = 0.9.
    logp, old = _ratios(1.5)
    loss, _ = policy_loss(logp, old, t([1.0]), torch.ones(1, 1), clip_low=0.1, clip_high=0.28)
    close(loss, torch.tensor(-1.28))
    logp, old = _ratios(0.5)
    loss, _ = policy_loss(logp, old, t([-1.0]), torch.ones(1, 1), clip_low=0.1, clip_high=0.28)
    close(loss, torch.tensor(0.9))


def test_policy_loss_per_token_advantages_and_aggregation() -> None:
    # Ratio 1 everywhere, per-token A = [[1, 2], [3, 4]], mask drops (1, 1):
    # token_mean: -(1 + 2 + 3) / 3 = -2; seq_mean_token_sum: -((1 + 2) + 3) / 2 = -3.
    logp = torch.zeros(2, 2)
    adv = t([1.0, 2.0], [3.0, 4.0])
    mask = t([1.0, 1.0], [1.0, 0.0])
    loss, _ = policy_loss(logp, logp, adv, mask)
    close(loss, torch.tensor(-2.0))
    loss, _ = policy_loss(logp, logp, adv, mask, aggregation="seq_mean_token_sum")
    close(loss, torch.tensor(-3.0))


def test_policy_loss_bad_advantage_shape() -> None:
    with pytest.raises(ValueError, match="advantages"):
        policy_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3), torch.ones(2, 3))


# --- kl_k3 --------------------------------------------------------------------------------------------


def test_kl_k3_values_and_grad() -> None:
    # d = ref - logp. d = ln 2: 2 - ln 2 - 1 = 0.3068528; d = -ln 2: 0.5 + ln 2 - 1 = 0.1931472; d = 0: 0.
    # d k3 / d logp = 1 - e^d: -1 at d = ln 2, +0.5 at d = -ln 2, 0 at d = 0.
    logp = torch.zeros(1, 3, requires_grad=True)
    ref = t([[math.log(2.0), -math.log(2.0), 0.0]])
    kl = kl_k3(logp, ref)
    close(kl, t([[0.3068528194, 0.1931471806, 0.0]]))
    kl.sum().backward()
    close(logp.grad, t([[-1.0, 0.5, 0.0]]))


def test_kl_k3_never_negative_for_tiny_differences() -> None:
    # exp(d) - d - 1 rounds below zero for some |d| < 1e-3 in float32 (e.g. d = 3e-8); expm1(d) - d cannot.
    ref = torch.linspace(-1e-3, 1e-3, 200_001).view(1, -1)
    assert torch.all(kl_k3(torch.zeros_like(ref), ref) >= 0)


def test_kl_k3_clamped_to_ten() -> None:
    # d = 30: e^30 - 31 ~ 1e13 -> 10; d = -30: e^-30 + 29 ~ 29 -> 10; a custom clamp of 5 -> 5.
    logp = torch.zeros(1, 2)
    ref = t([[30.0, -30.0]])
    assert torch.equal(kl_k3(logp, ref), t([[10.0, 10.0]]))
    assert torch.equal(kl_k3(logp, ref, clamp=5.0), t([[5.0, 5.0]]))


# --- grpo_loss ----------------------------------------------------------------------------------------


def test_grpo_loss_combines_terms_as_the_paper() -> None:
    # One response, 2 real tokens, on-policy (ratio 1), A = 0.5:
    # pg = -0.5; kl per token [2 - ln 2 - 1, 0] -> mean 0.1534264; entropy mean (1 + 2) / 2 = 1.5;
    # loss = -0.5 + 0.001 * 0.1534264 - 0.001 * 1.5 = -0.5013465736.
    # grad: pg -A / 2 = -0.25 per token; kl 0.001 * (1 - e^d) / 2 = -0.0005 on token 0 -> [-0.2505, -0.25].
    logp = torch.full((1, 2), -1.0, requires_grad=True)
    ref = logp.detach() + t([[math.log(2.0), 0.0]])
    loss, stats = grpo_loss(logp, t([0.5]), torch.ones(1, 2), ref_logp=ref, entropy=t([[1.0, 2.0]]))
    close(loss, torch.tensor(-0.5013465736))
    assert stats["pg_loss"] == pytest.approx(-0.5)
    assert stats["kl"] == pytest.approx(0.1534264097)
    assert stats["entropy"] == pytest.approx(1.5)
    assert stats["loss"] == pytest.approx(-0.5013465736)
    assert stats["clip_frac"] == 0.0 and stats["ratio_mean"] == pytest.approx(1.0)
    loss.backward()
    close(logp.grad, t([[-0.2505, -0.25]]))


def test_grpo_loss_entropy_gradient_is_a_bonus() -> None:
    # With only the entropy term (A = 0), the loss is -0.001 * mean entropy, so d loss / d entropy = -0.0005.
    entropy = t([[1.0, 2.0]]).requires_grad_(True)
    loss, stats = grpo_loss(torch.zeros(1, 2), t([0.0]), torch.ones(1, 2), entropy=entropy, kl_coef=0.0)
    close(loss, torch.tensor(-0.0015))
    assert stats["kl"] == 0.0
    loss.backward()
    close(entropy.grad, t([[-0.0005, -0.0005]]))


def test_grpo_loss_requires_tensors_for_nonzero_coefficients() -> None:
    logp, adv, mask = torch.zeros(1, 2), torch.zeros(1), torch.ones(1, 2)
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(logp, adv, mask, entropy=torch.zeros(1, 2))
    with pytest.raises(ValueError, match="entropy"):
        grpo_loss(logp, adv, mask, ref_logp=torch.zeros(1, 2))
    loss, stats = grpo_loss(logp, adv, mask, kl_coef=0.0, entropy_coef=0.0)
    assert loss.item() == 0.0 and stats["kl"] == stats["entropy"] == 0.0
