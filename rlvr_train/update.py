"""One GRPO optimizer step over a rollout step's responses, in bounded memory.

``policy_update`` splits the step's responses into micro-batches (longest first, so each micro-batch
pads to similar lengths; at most ``micro_batch_size`` responses and, if set,
``max_tokens_per_micro_batch`` padded tokens each), computes token log-probs and entropy from the final
hidden states a chunk of positions at a time (``rlvr_train.chunked_logprobs``: never the whole
``[m, R, V]`` logits), accumulates the loss gradients weighted so that their sum is exactly the gradient
of the whole batch's loss, clips the global gradient norm and takes one optimizer step.

Shapes: ``N`` responses of this rank, ``m`` in a micro-batch, ``P`` prompt and ``R`` response columns,
``H`` hidden size, ``V`` vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from rlvr_train import distributed as dist
from rlvr_train.chunked_logprobs import head_log_probs_and_entropy
from rlvr_train.config import TrainConfig
from rlvr_train.grpo import grpo_loss, token_log_probs_and_entropy
from rlvr_train.rollout import Packed, response_logits


def plan_micro_batches(
    response_lengths: Sequence[int], prompt_lengths: Sequence[int], *, max_responses: int,
    max_tokens: int | None = None, count: int | None = None,
) -> list[list[int]]:
    """Rows of each micro-batch: longest responses first, filled greedily within both caps.

    A micro-batch holds at most ``max_responses`` rows and at most ``max_tokens`` padded tokens
    (rows x (longest prompt + longest response) in it); a single response over ``max_tokens`` goes alone.
    ``count``: split further (largest micro-batches first) until there are exactly this many, so that
    every rank runs the same number of forward/backward passes (FSDP collectives), as verl does when it
    balances dynamic micro-batches. Every row appears in exactly one micro-batch.
    """
    order = sorted(range(len(response_lengths)), key=lambda i: (-response_lengths[i], -prompt_lengths[i], i))
    plan: list[list[int]] = []
    width = 0  # padded length of the micro-batch being filled
    for i in order:
        row_width = response_lengths[i] + prompt_lengths[i]
        if plan:
            new_width = max(width, row_width)
            fits = len(plan[-1]) < max_responses and (
                max_tokens is None or (len(plan[-1]) + 1) * new_width <= max_tokens
            )
            if fits:
                plan[-1].append(i)
                width = new_width
                continue
        plan.append([i])
        width = row_width
    if count is not None:
        if count > len(response_lengths) or count < len(plan):
            n_rows = len(response_lengths)
            raise ValueError(f"cannot make {count} micro-batches of {n_rows} rows (at least {len(plan)})")
        while len(plan) < count:  # halve the micro-batch with the most rows
            big = max(range(len(plan)), key=lambda k: len(plan[k]))
            halves = plan.pop(big)
            plan[big:big] = [halves[: len(halves) // 2], halves[len(halves) // 2 :]]
    return plan


def select_rows(batch: Packed, rows: Sequence[int]) -> Packed:
    """The given rows of a packed batch, with the padding columns none of them uses cut away.

    Prompts are left-padded (real tokens end at column P) and responses right-padded (start at P), so
    dropping leading prompt columns and trailing response columns leaves every real token's position
    (position ids count real tokens) and therefore the model's output unchanged.
    """
    index = torch.as_tensor(list(rows), dtype=torch.long)
    prompt_mask = batch.attention_mask[index, : batch.prompt_len]  # [m, P]
    prompt_len = max(1, int(prompt_mask.sum(dim=1).max()))
    width = max(1, int(batch.response_mask[index].sum(dim=1).max()))
    cols = slice(batch.prompt_len - prompt_len, batch.prompt_len + width)  # [P' + R']
    return Packed(
        batch.input_ids[index, cols], batch.attention_mask[index, cols], batch.position_ids[index, cols],
        batch.response_ids[index, :width], batch.response_mask[index, :width], prompt_len,
    )


def _linear_head(model: Any) -> torch.nn.Linear | None:
    """The LM head if logits are exactly ``hidden @ W^T + b`` (Qwen, Llama); None for scaled/capped heads."""
    head = model.get_output_embeddings()
    config = getattr(model, "config", None)
    scaling = ("final_logit_softcapping", "logit_scale")  # Gemma 2, Cohere: logits are not the matmul
    capped = any(getattr(config, key, None) not in (None, 1.0) for key in scaling)
    return head if isinstance(head, torch.nn.Linear) and not capped else None


def response_hidden_states(model: Any, batch: Packed) -> Tensor:
    """Final (normed) hidden states at the positions that predict each response token: ``[m, R, H]``.

    Runs the model's own forward (so FSDP's hooks gather and reshard as usual) with ``logits_to_keep=1``
    (a ``[m, 1, V]`` leftover instead of ``[m, R, V]``) and catches the decoder's output on the way.
    """
    captured: list[Tensor] = []

    def keep_output(module: Any, args: Any, output: Any) -> None:
        captured.append(output[0] if isinstance(output, tuple) else output.last_hidden_state)

    handle = model.get_decoder().register_forward_hook(keep_output)
    try:
        model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids,
              use_cache=False, logits_to_keep=1)
    finally:
        handle.remove()
    width = batch.response_ids.shape[1]
    return captured[0][:, batch.prompt_len - 1 : batch.prompt_len - 1 + width]  # [m, R, H]


def response_token_stats(
    model: Any, batch: Packed, temperature: float, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """``(logp, entropy)`` ``[m, R]`` of the response tokens at ``temperature``; 0 on padding if chunked.

    ``chunk_size`` 0 (or a head that is not a plain linear layer) takes the whole-logits path.
    """
    head = _linear_head(model) if chunk_size > 0 else None
    if head is None:
        logits = response_logits(model, batch)  # [m, R, V]
        return token_log_probs_and_entropy(logits, batch.response_ids, temperature)
    hidden = response_hidden_states(model, batch)  # [m, R, H]
    device_type = hidden.device.type
    # under autocast (one GPU, fp32 weights) the head matmul runs in the autocast dtype, as nn.Linear would
    compute = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else None
    return head_log_probs_and_entropy(
        hidden, head.weight, batch.response_ids, temperature, bias=head.bias, mask=batch.response_mask,
        chunk_size=chunk_size, compute_dtype=compute,
    )


def policy_update(
    policy: Any, ref: Any, optimizer: torch.optim.Optimizer, batch: Packed, advantages: Tensor,
    cfg: TrainConfig, device: torch.device, autocast: Callable[[], Any],
) -> dict[str, Any]:
    """Accumulate the GRPO loss over micro-batches, clip the gradient norm, step (or skip if non-finite)."""
    n_local = batch.response_ids.shape[0]
    # Under torchrun each rank holds only its groups, but the normalisers are the WHOLE step's counts
    # (summed over ranks): rank r's gradient is then sum_{its tokens} g_t / T_global, and the FSDP
    # reduce-scatter, set to a plain sum (distributed.shard_policy), adds these into exactly the
    # single-process gradient sum_{all tokens} g_t / T_global. Dividing by a local count instead would
    # weight each rank's tokens by 1 / T_rank, which differs whenever ranks' response lengths differ.
    n = int(dist.all_sum(n_local))
    total_tokens = int(max(dist.all_sum(int(batch.response_mask.sum())), 1))
    response_lengths = batch.response_mask.sum(dim=1).tolist()  # [N]
    prompt_lengths = batch.attention_mask[:, : batch.prompt_len].sum(dim=1).tolist()  # [N]
    plan = plan_micro_batches(response_lengths, prompt_lengths, max_responses=cfg.micro_batch_size,
                              max_tokens=cfg.max_tokens_per_micro_batch)
    if dist.is_distributed():  # every rank must run as many forward/backward passes (FSDP collectives)
        plan = plan_micro_batches(response_lengths, prompt_lengths, max_responses=cfg.micro_batch_size,
                                  max_tokens=cfg.max_tokens_per_micro_batch,
                                  count=int(dist.all_max(len(plan))))
    optimizer.zero_grad(set_to_none=True)
    sums: dict[str, float] = {}
    finite = True
    for rows in plan:
        mb = select_rows(batch, rows).to(device)
        mask = mb.response_mask  # [m, R]
        # Departure 2: weight = this micro-batch's share of the batch's tokens (or responses), so the
        # sum over micro-batches (and ranks) of share x (micro-batch mean) is the whole batch's mean.
        share = float(mask.sum()) / total_tokens if cfg.aggregation == "token_mean" else len(rows) / n
        with autocast():
            logp, entropy = response_token_stats(policy, mb, cfg.temperature, cfg.logprob_chunk_size)
        ref_logp = None
        if ref is not None:
            with torch.no_grad(), autocast():
                ref_logp = response_token_stats(ref, mb, cfg.temperature, cfg.logprob_chunk_size)[0]
        loss, stats = grpo_loss(
            logp, advantages[rows].to(device), mask,  # [m, R] each; advantages [m]
            old_logp=None, ref_logp=ref_logp, entropy=entropy, clip_low=cfg.clip_low,
            clip_high=cfg.clip_high, kl_coef=cfg.kl_coef if ref is not None else 0.0,
            entropy_coef=cfg.entropy_coef, aggregation=cfg.aggregation,
            norm_length=cfg.max_response_tokens,  # Dr. GRPO's constant, not the trimmed width
        )
        if not torch.isfinite(loss):
            finite = False
            if not dist.is_distributed():
                break
            # other ranks still run this micro-batch's gradient reduce-scatter: take part in it too
            # (the non-finite gradient is never applied, the step is skipped on every rank below)
        (loss * share).backward()
        if finite:
            for key, value in stats.items():
                sums[key] = sums.get(key, 0.0) + value * share
    sums = dist.sum_dicts(sums)  # each rank's sums are already weighted by global shares
    finite = dist.all_true(finite)
    grad_norm = dist.to_float(torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip))
    skipped = not finite or not math.isfinite(grad_norm)
    if skipped:  # Departure 6: never apply a NaN/inf update
        optimizer.zero_grad(set_to_none=True)
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return {
        "loss": sums.get("loss", math.nan), "policy_loss": sums.get("pg_loss", math.nan),
        "kl": sums.get("kl", 0.0), "entropy": sums.get("entropy", math.nan),
        "clip_frac": sums.get("clip_frac", 0.0), "ratio_mean": sums.get("ratio_mean", 1.0),
        "grad_norm": grad_norm if math.isfinite(grad_norm) else None, "skipped": skipped,
        "micro_batches": len(plan),
    }
