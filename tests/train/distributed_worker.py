"""One GRPO update on a fixed batch, single-process or under ``torchrun`` (FSDP2): the results are saved.

``python distributed_worker.py MODEL_DIR OUT.pt`` (or under ``torchrun --nproc_per_node 2``) runs
``rlvr_train.trainer.policy_update`` once per aggregation mode on the same hand-made batch (no
generation) and saves, from rank 0, the clipped gradients seen by the optimizer, the updated weights and
the step's metrics, plus one update where a single rank's loss is NaN. ``test_distributed.py``
compares the runs. Under torchrun rank r trains on groups r, r+W, ... only, as the trainer does.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import torch

from rlvr_eval.generation.base import occurrences
from rlvr_train import distributed as dist
from rlvr_train.config import TrainConfig
from rlvr_train.engine import my_rollout_positions
from rlvr_train.grpo import group_advantages
from rlvr_train.rollout import Packed, Rollouts, pack
from rlvr_train.trainer import enable_gradient_checkpointing, load_model, use_gradient_checkpointing
from rlvr_train.update import plan_micro_batches, policy_update

GROUPS, G = 4, 4  # 16 responses; 8 per rank with 2 ranks
# mode -> TrainConfig overrides; "bf16" also shards with FSDP2 mixed precision (a no-op in one process)
MODES: dict[str, dict[str, Any]] = {
    "token_mean": {"aggregation": "token_mean"},
    "seq_mean_token_sum_norm": {"aggregation": "seq_mean_token_sum_norm"},
    # rows are 6..23 tokens wide: ranks' greedy plans differ in length and must be balanced
    "token_budget": {"aggregation": "token_mean", "max_tokens_per_micro_batch": 30},
    "bf16": {"aggregation": "token_mean"},
    "checkpointing": {"aggregation": "token_mean", "gradient_checkpointing": True},
}


def fixed_rollouts(vocab: int) -> tuple[Rollouts, torch.Tensor]:
    """Seeded prompts and responses of varied lengths (1..12 tokens) and rewards with spread."""
    gen = torch.Generator().manual_seed(1234)
    prompts, responses = [], []
    for g in range(GROUPS):
        prompt = torch.randint(3, vocab, (5 + 2 * g,), generator=gen).tolist()  # prompt lengths differ
        for _ in range(G):
            length = int(torch.randint(1, 13, (1,), generator=gen))
            prompts.append(prompt)
            responses.append(torch.randint(3, vocab, (length,), generator=gen).tolist())
    rewards = torch.tensor([float(x) for x in torch.randint(0, 2, (GROUPS * G,), generator=gen)])
    rewards[:G] = torch.tensor([1.0, 0.0, 0.0, 0.0])  # group 0 always has signal
    n = len(responses)
    return Rollouts(prompts, responses, [""] * n, ["stop"] * n), rewards


def rank_rows(n_groups: int) -> list[int]:
    """Response rows of this rank's groups (r, r+W, ...), as the trainer splits a step."""
    return [g * G + k for g in dist.my_share(list(range(n_groups))) for k in range(G)]


def run(model_dir: str, mode: str, *, nan_on_last_rank: bool = False) -> dict[str, Any]:
    """One update; ``nan_on_last_rank`` poisons one advantage on the last rank only (skip test)."""
    cfg = TrainConfig(
        model=model_dir, lr=1e-4, kl_coef=0.01, entropy_coef=0.01, micro_batch_size=3, grad_clip=0.5,
        temperature=0.7, max_response_tokens=12, logprob_chunk_size=5, **MODES[mode],
    )
    device = torch.device("cpu")
    policy = load_model(model_dir, device)
    ref = load_model(model_dir, device).eval().requires_grad_(False)
    if use_gradient_checkpointing(cfg, device):  # as the trainer: before sharding
        enable_gradient_checkpointing(policy)
    dist.shard_policy(policy, mixed_precision=mode == "bf16")
    dist.shard_policy(ref, mixed_precision=mode == "bf16")
    policy.train()
    compute_dtypes: set[torch.dtype] = set()  # dtype of a layer's weight while it computes
    first_layer = policy.model.layers[0].mlp.up_proj
    first_layer.register_forward_pre_hook(lambda module, args: compute_dtypes.add(module.weight.dtype))
    optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    grads: dict[str, torch.Tensor] = {}

    def record(opt: Any, args: Any, kwargs: Any) -> None:  # after clipping, before the step
        for name, p in policy.named_parameters():
            grads[name] = dist.to_full(p.grad).clone()

    optimizer.register_step_pre_hook(record)
    rollouts, rewards = fixed_rollouts(policy.config.vocab_size)
    advantages = group_advantages(rewards, G)  # per group: the same on any split
    rows = rank_rows(GROUPS)
    full = pack(rollouts, pad_id=0)  # one padding for both runs: only the split differs
    index = torch.tensor(rows)
    batch = Packed(full.input_ids[index], full.attention_mask[index], full.position_ids[index],
                   full.response_ids[index], full.response_mask[index], full.prompt_len)
    mine = advantages[rows]
    if nan_on_last_rank and dist.rank() == dist.world_size() - 1:
        mine[0] = float("nan")  # a non-finite loss on one rank must skip the step on every rank
    metrics = policy_update(policy, ref, optimizer, batch, mine, cfg, device,
                            contextlib.nullcontext)
    weights = dist.full_state_dict(policy)
    local = sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel() for p in policy.parameters())
    lengths = batch.response_mask.sum(dim=1).tolist()
    prompts = batch.attention_mask[:, : batch.prompt_len].sum(dim=1).tolist()
    greedy = len(plan_micro_batches(lengths, prompts, max_responses=cfg.micro_batch_size,
                                    max_tokens=cfg.max_tokens_per_micro_batch))
    return {
        "grads": grads, "weights": weights, "metrics": metrics, "local_numel": local,
        "greedy_plans": dist.all_gather_list([greedy]), "compute_dtypes": compute_dtypes,
        "param_dtypes": {p.dtype for p in policy.parameters()},
        "grad_dtypes": {g.dtype for g in grads.values()},
    }


def main(model_dir: str, out: str) -> None:
    torch.set_num_threads(1)
    started = dist.init()
    results: dict[str, Any] = {mode: run(model_dir, mode) for mode in MODES}
    results["nan"] = run(model_dir, "token_mean", nan_on_last_rank=True)
    # how the trainer splits a one-shot step (the same prompt 8 times) and which occurrence of the prompt
    # each rank's samples are seeded with (rlvr_train.engine.sample_rollouts)
    positions, own = my_rollout_positions(8, 1)
    occurrence = occurrences([[5, 6, 7]] * 8)
    results["split"] = dist.all_gather_list(
        [(dist.rank(), dist.my_share(list(range(8))), positions[own], [occurrence[p] for p in positions])]
    )
    if dist.is_main():
        torch.save(results, Path(out))
    if started:
        dist.teardown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
