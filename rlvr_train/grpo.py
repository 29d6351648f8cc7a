"""GRPO math as pure tensor functions: advantages, token log-probs, PPO surrogate, k3 KL, aggregation.

No I/O, no model, no config: every function takes tensors and returns tensors, so each can be checked by
hand (``tests/train/test_grpo.py``) and by property (``tests/train/test_grpo_properties.py``).

Defaults follow the 1-shot RLVR paper's run (Wang et al. 2025, arXiv 2504.20571, a verl fork): unbiased
group std with eps 1e-6, PPO clip 0.2 on both sides, token-level mean, k3 KL with coefficient 0.001 in
the loss clamped to [-10, 10], entropy bonus 0.001, log-probs and entropy on ``logits / temperature``.
Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training", arXiv 2503.20783) is two named options:
``group_advantages(normalize_std=False)`` and ``aggregation="seq_mean_token_sum_norm"``.

Shapes: ``N = B*G`` responses (B prompts x G rollouts, each group contiguous), ``L`` response tokens,
``V`` vocabulary. ``mask`` is 1 on real response tokens and 0 on padding.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

__all__ = [
    "AggregationMode",
    "group_advantages",
    "grpo_loss",
    "kl_k3",
    "masked_aggregate",
    "policy_loss",
    "token_log_probs_and_entropy",
]

AggregationMode = Literal[
    "token_mean", "seq_mean_token_mean", "seq_mean_token_sum", "seq_mean_token_sum_norm"
]
_AGGREGATION_MODES: tuple[str, ...] = get_args(AggregationMode)

# exp() of a log-ratio beyond +-20 overflows float16/bfloat16 and gives useless float32 ratios; verl clamps
# the log-ratio to this range before exponentiating, for the same reason.
_LOG_RATIO_CLAMP = 20.0


def _f32(x: Tensor) -> Tensor:
    """Upcast to at least float32 (bf16 log-prob differences lose the digits the ratio depends on)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _check_same_shape(**tensors: Tensor) -> None:
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"shape mismatch: {shapes}")


def group_advantages(
    rewards: Tensor, group_size: int, *, normalize_std: bool = True, eps: float = 1e-6
) -> Tensor:
    """Outcome advantage of each response relative to its group (GRPO, Shao et al. 2024, arXiv 2402.03300).

    ``(r - group mean) / (group std + eps)`` with the unbiased std, as the paper's verl fork computes it.
    Groups whose rewards are all equal carry no learning signal and get exactly zero (not a rounding
    residue), as does every response when ``group_size == 1``. Responses of a group must be contiguous.

    Args:
        rewards: ``[B*G]`` scalar reward per response.
        group_size: ``G``, rollouts per prompt.
        normalize_std: False drops the division by the std (Dr. GRPO, Liu et al. 2025).
        eps: added to the std so a near-constant group does not explode.

    Returns:
        ``[B*G]`` advantages, float32 (or float64 if the rewards are).
    """
    if rewards.dim() != 1:
        raise ValueError(f"rewards must be 1-D [B*G], got shape {tuple(rewards.shape)}")
    if group_size < 1 or rewards.numel() % group_size != 0:
        raise ValueError(f"{rewards.numel()} rewards cannot be split into groups of {group_size}")
    # float64 for these B*G scalars: a float32 mean of nearly equal rewards can round to one of them,
    # leaving lopsided deviations that the std division then blows up (advantages no longer sum to 0).
    grouped = rewards.to(torch.float64).view(-1, group_size)  # [B, G]
    centered = grouped - grouped.mean(dim=1, keepdim=True)  # [B, G]
    if normalize_std and group_size > 1:
        centered = centered / (grouped.std(dim=1, keepdim=True, unbiased=True) + eps)  # [B, G]
    # Dr. GRPO Modification 2: with normalize_std=False the std division above is skipped, so groups with
    # a small spread (too easy / too hard questions) are not up-weighted.
    all_equal = grouped.amax(dim=1, keepdim=True) == grouped.amin(dim=1, keepdim=True)  # [B, 1]
    advantages = torch.where(all_equal, torch.zeros_like(centered), centered).view(-1)  # [B*G]
    return advantages.to(torch.promote_types(rewards.dtype, torch.float32))


def token_log_probs_and_entropy(
    logits: Tensor, tokens: Tensor, temperature: float
) -> tuple[Tensor, Tensor]:
    """Log-probability of each sampled token and the entropy of its distribution, at ``temperature``.

    The sampler drew tokens from ``softmax(logits / T)`` (T = 0.6 in the paper), so the PPO ratio and the
    entropy bonus must use the same tempered distribution (verl divides the logits by T likewise).
    ``logits[:, t]`` must already be the distribution of ``tokens[:, t]`` (the caller shifts by one).
    One ``log_softmax`` serves both outputs; everything is differentiable.

    Args:
        logits: ``[N, L, V]``.
        tokens: ``[N, L]`` sampled token ids.
        temperature: sampling temperature, > 0.

    Returns:
        ``(logp, entropy)``, each ``[N, L]`` float32.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if logits.shape[:-1] != tokens.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not match tokens {tuple(tokens.shape)}")
    log_probs = torch.log_softmax(_f32(logits) / temperature, dim=-1)  # [N, L, V]
    logp = log_probs.gather(-1, tokens.long().unsqueeze(-1)).squeeze(-1)  # [N, L]
    entropy = -(log_probs.exp() * log_probs).sum(dim=-1)  # [N, L]
    return logp, entropy


def masked_aggregate(
    values: Tensor, mask: Tensor, mode: AggregationMode = "token_mean", *, norm_length: int | None = None
) -> Tensor:
    """Reduce per-token ``values`` to a scalar over the tokens where ``mask`` is 1.

    Masked positions never influence the result (they are selected out, so even inf/nan there is
    harmless). Modes, with ``n_i`` the real tokens of response i and ``N`` responses:

    - ``token_mean`` (paper default): sum of all tokens / total real tokens; every token weighs the same.
    - ``seq_mean_token_mean``: mean over responses of each response's token mean (original GRPO).
    - ``seq_mean_token_sum``: mean over responses of each response's token sum.
    - ``seq_mean_token_sum_norm``: mean over responses of token sum / ``norm_length`` (Dr. GRPO
      Modification 1: a constant normaliser, default ``L``, so long responses are not down-weighted).

    A response without real tokens counts as zero in the sequence means; an all-zero mask gives 0.
    """
    _check_same_shape(values=values, mask=mask)
    if mode not in _AGGREGATION_MODES:
        raise ValueError(f"unknown aggregation mode {mode!r}; expected one of {_AGGREGATION_MODES}")
    keep = mask.bool()  # [N, L]
    values = _f32(values)
    masked = torch.where(keep, values, torch.zeros((), dtype=values.dtype))  # [N, L]
    if mode == "token_mean":
        return masked.sum() / keep.sum().clamp(min=1)
    seq_sums = masked.sum(dim=-1)  # [N]
    if mode == "seq_mean_token_mean":
        return (seq_sums / keep.sum(dim=-1).clamp(min=1)).mean()
    if mode == "seq_mean_token_sum":
        return seq_sums.mean()
    # Dr. GRPO Modification 1: masked sum over a constant normaliser instead of the response length.
    length = values.shape[-1] if norm_length is None else norm_length
    if length <= 0:
        raise ValueError(f"norm_length must be > 0, got {length}")
    return (seq_sums / length).mean()


def policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    aggregation: AggregationMode = "token_mean",
    norm_length: int | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """PPO clipped surrogate loss (Schulman et al. 2017, arXiv 1707.06347, eq. 7), negated for descent.

    Per token: ``-min(ratio * A, clip(ratio, 1 - clip_low, 1 + clip_high) * A)`` with
    ``ratio = exp(logp - old_logp)``. Separate low/high bounds allow DAPO-style asymmetric clipping;
    the paper uses 0.2 on both sides.

    Args:
        logp: ``[N, L]`` current policy log-probs (with grad).
        old_logp: ``[N, L]`` log-probs of the policy that sampled the tokens (no grad needed).
        advantages: ``[N]`` per response (broadcast over tokens) or ``[N, L]`` per token.
        mask: ``[N, L]`` 1 on real response tokens.

    Returns:
        ``(loss, stats)``; stats ``clip_frac`` (share of real tokens where the clipped term is the active
        one, i.e. carries no gradient) and ``ratio_mean`` (token mean of the ratio).
    """
    _check_same_shape(logp=logp, old_logp=old_logp, mask=mask)
    adv = _f32(advantages)
    adv = adv.unsqueeze(-1) if adv.dim() == 1 else adv  # [N, 1] or [N, L]
    if adv.shape[0] != logp.shape[0] or adv.shape[-1] not in (1, logp.shape[-1]):
        raise ValueError(f"advantages {tuple(advantages.shape)} do not match logp {tuple(logp.shape)}")
    log_ratio = (_f32(logp) - _f32(old_logp).detach()).clamp(-_LOG_RATIO_CLAMP, _LOG_RATIO_CLAMP)  # [N, L]
    ratio = log_ratio.exp()  # [N, L]
    unclipped = -ratio * adv  # [N, L]
    clipped = -ratio.clamp(1.0 - clip_low, 1.0 + clip_high) * adv  # [N, L]
    per_token = torch.maximum(unclipped, clipped)  # [N, L]  max of negatives = -min of objectives
    loss = masked_aggregate(per_token, mask, aggregation, norm_length=norm_length)
    with torch.no_grad():
        clip_frac = masked_aggregate((clipped > unclipped).float(), mask)
        ratio_mean = masked_aggregate(ratio, mask)
    return loss, {"clip_frac": clip_frac.item(), "ratio_mean": ratio_mean.item()}


def kl_k3(logp: Tensor, ref_logp: Tensor, clamp: float = 10.0) -> Tensor:
    """Per-token k3 estimator of KL(policy || reference) (Schulman 2020, "Approximating KL Divergence").

    ``exp(ref - logp) - (ref - logp) - 1``: unbiased for the sampled tokens, never negative, lower
    variance than ``logp - ref``. Clamped to ``[-clamp, clamp]`` as verl's ``low_var_kl`` does, so one
    extreme token cannot dominate the loss. Written as ``expm1(d) - d``, which keeps the result exactly
    >= 0 in floating point where ``exp(d) - d - 1`` can round below zero.

    Returns:
        ``[N, L]`` float32 (differentiable in ``logp``).
    """
    _check_same_shape(logp=logp, ref_logp=ref_logp)
    diff = (_f32(ref_logp) - _f32(logp)).clamp(-_LOG_RATIO_CLAMP, _LOG_RATIO_CLAMP)  # [N, L]
    return (torch.expm1(diff) - diff).clamp(-clamp, clamp)  # [N, L]


def grpo_loss(
    logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    old_logp: Tensor | None = None,
    ref_logp: Tensor | None = None,
    entropy: Tensor | None = None,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    kl_coef: float = 0.001,
    entropy_coef: float = 0.001,
    aggregation: AggregationMode = "token_mean",
    norm_length: int | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """The paper's actor loss: ``pg_loss + kl_coef * kl - entropy_coef * entropy`` (verl's actor update).

    All three terms use the same ``aggregation``. ``old_logp=None`` means the policy that sampled is the
    current one (the paper takes one optimizer step per rollout step), so the ratio is 1 in value but
    still carries the policy gradient. ``ref_logp=None`` drops the KL term and ``entropy=None`` the
    entropy bonus; asking for a non-zero coefficient without its tensor is an error.

    Args:
        logp: ``[N, L]`` current log-probs (with grad), from ``token_log_probs_and_entropy``.
        advantages: ``[N]`` (or ``[N, L]``) from ``group_advantages``.
        mask: ``[N, L]`` 1 on real response tokens.
        old_logp, ref_logp, entropy: ``[N, L]`` sampler log-probs, frozen reference log-probs, entropy.

    Returns:
        ``(loss, stats)`` with stats ``loss``, ``pg_loss``, ``kl``, ``entropy``, ``clip_frac``,
        ``ratio_mean`` as floats (kl / entropy are 0.0 when the term is absent).
    """
    if ref_logp is None and kl_coef != 0:
        raise ValueError("kl_coef is non-zero but ref_logp was not given")
    if entropy is None and entropy_coef != 0:
        raise ValueError("entropy_coef is non-zero but entropy was not given")
    old = logp.detach() if old_logp is None else old_logp  # [N, L]
    pg_loss, stats = policy_loss(
        logp, old, advantages, mask, clip_low=clip_low, clip_high=clip_high,
        aggregation=aggregation, norm_length=norm_length,
    )
    loss = pg_loss
    kl_value = entropy_value = 0.0
    if ref_logp is not None:
        kl = masked_aggregate(kl_k3(logp, ref_logp), mask, aggregation, norm_length=norm_length)
        loss = loss + kl_coef * kl
        kl_value = kl.item()
    if entropy is not None:
        ent = masked_aggregate(entropy, mask, aggregation, norm_length=norm_length)
        loss = loss - entropy_coef * ent  # a bonus: higher entropy lowers the loss
        entropy_value = ent.item()
    return loss, {
        "loss": loss.item(),
        "pg_loss": pg_loss.item(),
        "kl": kl_value,
        "entropy": entropy_value,
        **stats,
    }
