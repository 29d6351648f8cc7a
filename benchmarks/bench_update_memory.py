"""Peak memory of one GRPO update on a long response over Qwen's 151,936-token vocabulary (CPU).

    python benchmarks/bench_update_memory.py        # 2048-token response: chunk 512 vs whole logits
    python benchmarks/bench_update_memory.py --response-tokens 3072 --chunks 0 256 1024 --json out.json

One ``rlvr_train.update.policy_update`` (the trainer's update: policy forward + backward, frozen reference
forward for the k3 KL, entropy bonus, AdamW step) on one response, with a tiny Qwen2 model that has the
paper model's vocabulary (151,936) and a small body (hidden 128, 2 layers): the LM head's logits are then
what dominates memory, as they do for Qwen2.5-Math-1.5B at 3072 tokens. Each setting runs in a fresh
spawned process; the peak is the process's high-water resident set (VmHWM) during the update, reset just
before it (``/proc/self/clear_refs``), minus the resident set before it: the update's own extra memory.
``--chunks 0`` is the whole-logits path (what rlvr-train did before chunking).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

VOCAB = 151_936  # Qwen2.5-Math-1.5B's vocabulary


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def one_update(chunk: int, response_tokens: int, prompt_tokens: int, seed: int) -> dict[str, Any]:
    """Build the model and batch, then measure one update in this (fresh) process."""
    import contextlib

    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from rlvr_train.config import TrainConfig
    from rlvr_train.rollout import Rollouts, pack
    from rlvr_train.update import policy_update

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=128, num_attention_heads=2, num_key_value_heads=1,
                         num_hidden_layers=2, intermediate_size=256, tie_word_embeddings=True,
                         max_position_embeddings=prompt_tokens + response_tokens)
    policy = Qwen2ForCausalLM(config).float().train()
    ref = Qwen2ForCausalLM(config).float().eval().requires_grad_(False)
    ref.load_state_dict(policy.state_dict())
    gen = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, VOCAB, (prompt_tokens,), generator=gen).tolist()
    response = torch.randint(0, VOCAB, (response_tokens,), generator=gen).tolist()
    batch = pack(Rollouts([prompt], [response], [""], ["length"]), pad_id=0)  # [1, P + R]
    cfg = TrainConfig(micro_batch_size=1, logprob_chunk_size=chunk, max_response_tokens=response_tokens)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-6)
    advantages = torch.tensor([1.0])
    # warm-up on a short response: AdamW's state, allocator pools and lazy imports are not the update's
    short = pack(Rollouts([prompt], [response[:8]], [""], ["stop"]), pad_id=0)
    policy_update(policy, ref, optimizer, short, advantages, cfg, torch.device("cpu"), contextlib.nullcontext)
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident set
    start = time.perf_counter()
    stats = policy_update(policy, ref, optimizer, batch, advantages, cfg, torch.device("cpu"),
                          contextlib.nullcontext)
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM")
    return {"chunk": chunk, "rss_before_mib": before / 1024, "peak_mib": peak / 1024,
            "update_extra_mib": (peak - before) / 1024, "seconds": seconds, "loss": stats["loss"],
            "grad_norm": stats["grad_norm"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--response-tokens", type=int, default=2048)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--chunks", type=int, nargs="+", default=[0, 512],
                        help="logprob_chunk_size values to measure (0: whole logits)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    logits_gib = args.response_tokens * VOCAB * 4 / 2**30
    print(f"one response of {args.response_tokens} tokens (prompt {args.prompt_tokens}), vocabulary {VOCAB}: "
          f"its fp32 logits alone are {logits_gib:.2f} GiB")
    rows = []
    for chunk in args.chunks:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            rows.append(pool.submit(one_update, chunk, args.response_tokens, args.prompt_tokens,
                                    args.seed).result())
    print("| logprob_chunk_size | update peak extra MiB | process peak MiB | update s | loss | grad norm |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        name = "0 (whole logits)" if r["chunk"] == 0 else str(r["chunk"])
        print(f"| {name} | {r['update_extra_mib']:.0f} | {r['peak_mib']:.0f} | {r['seconds']:.1f} | "
              f"{r['loss']:.6f} | {r['grad_norm']:.6f} |")
    whole = next((r for r in rows if r["chunk"] == 0), None)
    for r in rows:
        if whole is not None and r is not whole:
            print(f"chunk {r['chunk']}: {whole['update_extra_mib'] / r['update_extra_mib']:.1f}x less update "
                  f"memory than whole logits")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
