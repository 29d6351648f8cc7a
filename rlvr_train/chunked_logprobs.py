"""Token log-probs and entropy straight from the final hidden states and the LM head, a chunk at a time.

``grpo.token_log_probs_and_entropy`` needs the logits ``[m, R, V]``: for one 3072-token response over
Qwen's 151,936-token vocabulary that is 1.9 GB in fp32, and autograd keeps two or three such tensors
(log-softmax, its exp) until the backward pass. Here the logits are never held whole, not even in bf16:
the forward pass computes ``hidden @ W^T`` for ``chunk_size`` positions at a time and keeps only three
numbers per position (log-prob, log-sum-exp, mean tempered logit); the backward pass recomputes each
chunk's logits from the saved hidden states ``[T, H]`` (small: H = 1536 for 1.5B) and the head weight,
and accumulates the gradients of both. Peak extra memory is a few ``[chunk_size, V]`` fp32 tensors.

The math, per position, with ``z = logits / T`` and ``p = softmax(z)``:

- ``logp = z[token] - logsumexp(z)``; ``d logp / dz = onehot(token) - p``
- ``entropy = logsumexp(z) - sum(p * z)``; ``d entropy / dz = -p * (z - sum(p * z))``

so the gradient w.r.t. the logits is ``(g_logp * onehot - p * (g_logp + g_ent * (z - E_p[z]))) / T``,
from which ``g_hidden = g_logits @ W`` and ``g_W = g_logits^T @ hidden`` follow (verl and Liger-Kernel
fuse the same computation; this is the plain-PyTorch version).

Shapes: ``T`` positions (flattened), ``H`` hidden size, ``V`` vocabulary, ``c`` chunk size.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["head_log_probs_and_entropy"]


def _tempered_logits(
    hidden: Tensor, weight: Tensor, bias: Tensor | None, temperature: float
) -> Tensor:
    """``(hidden @ W^T + b) / T`` in fp32 (fp64 for fp64 inputs); the matmul runs in the operands' dtype."""
    logits = F.linear(hidden, weight, bias)  # [c, V]
    return logits.to(_stats_dtype(logits.dtype)) / temperature  # [c, V]


def _stats_dtype(compute_dtype: torch.dtype) -> torch.dtype:
    """Softmax, log-probs and entropy in at least fp32 (bf16 would lose the digits the PPO ratio needs)."""
    return torch.promote_types(compute_dtype, torch.float32)


class _ChunkedHeadStats(torch.autograd.Function):
    """Autograd for (logp, entropy) of ``softmax((hidden @ W^T + b) / T)`` without whole logits."""

    @staticmethod
    def forward(
        ctx: Any, hidden: Tensor, weight: Tensor, bias: Tensor | None, tokens: Tensor, temperature: float,
        chunk_size: int, compute_dtype: torch.dtype,
    ) -> tuple[Tensor, Tensor]:
        n = hidden.shape[0]
        logp = torch.empty(n, dtype=_stats_dtype(compute_dtype), device=hidden.device)  # [T]
        lse = torch.empty_like(logp)  # [T] log-sum-exp of the tempered logits
        mean_z = torch.empty_like(logp)  # [T] E_p[z]: entropy = lse - mean_z
        with torch.autocast(hidden.device.type, enabled=False):  # dtypes are chosen explicitly here
            w, b = weight.to(compute_dtype), None if bias is None else bias.to(compute_dtype)
            for start in range(0, n, chunk_size):
                stop = min(start + chunk_size, n)
                z = _tempered_logits(hidden[start:stop].to(compute_dtype), w, b, temperature)  # [c, V]
                lse[start:stop] = torch.logsumexp(z, dim=-1)
                logp[start:stop] = z.gather(-1, tokens[start:stop, None]).squeeze(-1) - lse[start:stop]
                p = (z - lse[start:stop, None]).exp_()  # [c, V] softmax, in place of a second temporary
                mean_z[start:stop] = torch.linalg.vecdot(p, z)
                del z, p
        ctx.save_for_backward(hidden, weight, bias, tokens, lse, mean_z)
        ctx.temperature, ctx.chunk_size, ctx.compute_dtype = temperature, chunk_size, compute_dtype
        return logp, lse - mean_z

    @staticmethod
    def backward(ctx: Any, g_logp: Tensor | None, g_ent: Tensor | None) -> tuple[Any, ...]:
        hidden, weight, bias, tokens, lse, mean_z = ctx.saved_tensors
        temperature, chunk_size, cdtype = ctx.temperature, ctx.chunk_size, ctx.compute_dtype
        n = hidden.shape[0]
        g_logp = torch.zeros_like(lse) if g_logp is None else g_logp.to(lse.dtype)  # [T]
        g_ent = torch.zeros_like(lse) if g_ent is None else g_ent.to(lse.dtype)  # [T]
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = bias is not None and ctx.needs_input_grad[2]
        g_hidden = torch.zeros_like(hidden) if need_h else None  # [T, H]
        # fp32 accumulators over chunks (bf16 sums of many chunks would lose the small contributions)
        acc = lse.dtype
        g_weight = torch.zeros(weight.shape, dtype=acc, device=weight.device) if need_w else None
        g_bias = torch.zeros(weight.shape[0], dtype=acc, device=weight.device) if need_b else None
        with torch.autocast(hidden.device.type, enabled=False):
            w, b = weight.to(cdtype), None if bias is None else bias.to(cdtype)
            for start in range(0, n, chunk_size):
                stop = min(start + chunk_size, n)
                h = hidden[start:stop].to(cdtype)  # [c, H]
                z = _tempered_logits(h, w, b, temperature)  # [c, V]
                coef = g_logp[start:stop, None] + g_ent[start:stop, None] * (z - mean_z[start:stop, None])
                g_z = (z.sub_(lse[start:stop, None]).exp_()).mul_(coef).neg_()  # [c, V] -p * coef
                del coef
                g_z.scatter_add_(-1, tokens[start:stop, None], g_logp[start:stop, None])  # + g_logp * onehot
                g_z.div_(temperature)  # d z / d logits = 1 / T
                if g_hidden is not None:
                    g_hidden[start:stop] = (g_z.to(cdtype) @ w).to(hidden.dtype)  # [c, H]
                if g_weight is not None:
                    g_weight.addmm_(g_z.t(), h.to(acc))  # [V, H]
                if g_bias is not None:
                    g_bias.add_(g_z.sum(dim=0))  # [V]
                del g_z
        return (
            g_hidden,
            None if g_weight is None else g_weight.to(weight.dtype),
            None if g_bias is None else g_bias.to(bias.dtype),
            None, None, None, None,
        )


def head_log_probs_and_entropy(
    hidden: Tensor,
    weight: Tensor,
    tokens: Tensor,
    temperature: float,
    *,
    bias: Tensor | None = None,
    mask: Tensor | None = None,
    chunk_size: int = 512,
    compute_dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    """Log-prob of each token and entropy of ``softmax((hidden @ W^T + b) / temperature)``, differentiable.

    Equals ``grpo.token_log_probs_and_entropy(hidden @ W^T + b, tokens, temperature)`` (values and
    gradients w.r.t. ``hidden``, ``weight`` and ``bias``) while holding at most ``chunk_size`` positions'
    logits at a time.

    Args:
        hidden: ``[..., H]`` final hidden states; position i must predict ``tokens[i]`` (already shifted).
        weight: ``[V, H]`` the LM head (the tied embedding for Qwen2.5-Math).
        tokens: ``[...]`` token ids.
        temperature: sampling temperature, > 0 (the paper's 0.6).
        bias: ``[V]`` head bias, if the model has one.
        mask: ``[...]``; where 0 (padding) nothing is computed and both outputs are 0 with no gradient.
        chunk_size: positions per chunk; memory is about ``3 * chunk_size * V * 4`` bytes.
        compute_dtype: dtype of the head matmul (bf16 under mixed precision); default: the promoted dtype
            of ``hidden`` and ``weight``. Softmax, log-probs and entropy are always fp32.

    Returns:
        ``(logp, entropy)``, each ``[...]`` float32 (float64 if the compute dtype is).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if hidden.shape[:-1] != tokens.shape or hidden.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"hidden {tuple(hidden.shape)}, weight {tuple(weight.shape)} and tokens {tuple(tokens.shape)} "
            "do not fit [..., H], [V, H], [...]"
        )
    if mask is not None and mask.shape != tokens.shape:
        raise ValueError(f"mask {tuple(mask.shape)} does not match tokens {tuple(tokens.shape)}")
    cdtype = compute_dtype or torch.promote_types(hidden.dtype, weight.dtype)
    flat_hidden = hidden.reshape(-1, hidden.shape[-1])  # [T, H]
    flat_tokens = tokens.reshape(-1).long()  # [T]
    keep = None if mask is None else mask.reshape(-1).bool()  # [T]
    if keep is not None:  # only real tokens: padding costs no head matmul at all
        flat_hidden, flat_tokens = flat_hidden[keep], flat_tokens[keep]  # [T', H], [T']
    logp, entropy = _ChunkedHeadStats.apply(
        flat_hidden, weight, bias, flat_tokens, float(temperature), int(chunk_size), cdtype
    )
    if keep is not None:  # back to every position, zeros on padding
        logp = torch.zeros(keep.shape, dtype=logp.dtype, device=logp.device).masked_scatter(keep, logp)
        entropy = torch.zeros(keep.shape, dtype=logp.dtype, device=logp.device).masked_scatter(keep, entropy)
    return logp.view(tokens.shape), entropy.view(tokens.shape)
