"""Compare ``rlvr-train`` with TRL's ``GRPOTrainer`` on the same toy task, model and settings (CPU).

    python benchmarks/bench_train.py                 # 30 steps each, prints a markdown table
    python benchmarks/bench_train.py --steps 60 --json results.json

Task: "Say 7" on the tiny random Qwen2 model (``rlvr_train.tiny_model``); reward 1 when the last
number of an 8-token sample is 7, graded by ``rlvr_eval.verify_batch(strict=False,
lenient_fallback="last_number")`` in both trainers.
Settings shared by both: 4 prompts x 8 rollouts per step, lr 3e-3 constant (AdamW, weight decay
0.01), grad clip 1.0, clip 0.2, k3 KL 0.001, std-normalized group advantages, token-mean loss over the
batch (TRL ``loss_type="dapo"``), temperature 1.0, one optimizer step per generation, one torch
thread. rlvr-train also applies the paper's entropy bonus (0.001); TRL's ``entropy_coef`` is set to
match when the installed version has it.

Reported: seconds per step (median, after the first step), steps/s and its ratio to TRL, the peak
resident memory of the process that ran each trainer (each runs in a fresh spawned process, so one
does not inherit the other's allocations), and reward of the first and last 5 steps. The two do not
share sampling RNG, so reward curves differ run to run; compare the trend, not digits.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch

PROMPT, ANSWER = "Say 7", "7"
B, G, MAX_TOKENS, LR, KL, ENTROPY, TEMPERATURE = 4, 8, 8, 3e-3, 0.001, 0.001, 1.0


def run_rlvr(model_dir: Path, out: Path, steps: int, seed: int) -> dict[str, Any]:
    from rlvr_train.config import TrainConfig
    from rlvr_train.trainer import train

    cfg = TrainConfig(
        model=str(model_dir), output_dir=str(out), problem=PROMPT, answer=ANSWER, template="plain",
        strict=False, lenient_fallback="last_number",
        batch_size=B, rollouts=G, max_response_tokens=MAX_TOKENS, temperature=TEMPERATURE,
        lr=LR, kl_coef=KL, entropy_coef=ENTROPY, micro_batch_size=B * G, steps=steps, save_every=0,
        eval_every=0, verify_workers=0, tensorboard=False, seed=seed,
    )
    rewards: list[float] = []
    times: list[float] = []
    last = [time.perf_counter()]

    def on_step(step: int, row: dict[str, Any]) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now
        rewards.append(row["reward_mean"])

    start = time.perf_counter()
    train(cfg, progress=False, on_step=on_step)
    return {"rewards": rewards, "step_times": times, "total_s": time.perf_counter() - start}


def run_trl(model_dir: Path, out: Path, steps: int, seed: int) -> dict[str, Any]:
    import dataclasses

    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rlvr_eval import verify_batch

    def reward(completions: list[str], answer: list[str], **kwargs: Any) -> list[float | None]:
        verdicts = verify_batch(completions, answer, workers=0, strict=False, lenient_fallback="last_number")
        return [v.reward for v in verdicts]

    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    extra: dict[str, Any] = {"entropy_coef": ENTROPY} if "entropy_coef" in fields else {}
    args = GRPOConfig(
        output_dir=str(out), per_device_train_batch_size=B * G, num_generations=G,
        max_completion_length=MAX_TOKENS, learning_rate=LR, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.01, max_grad_norm=1.0, beta=KL, epsilon=0.2, loss_type="dapo", temperature=TEMPERATURE,
        max_steps=steps, logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=seed,
        bf16=False, disable_tqdm=True, **extra,
    )
    data = Dataset.from_dict({"prompt": [PROMPT] * (B * steps * 2), "answer": [ANSWER] * (B * steps * 2)})
    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self.t = time.perf_counter()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            times.append(time.perf_counter() - self.t)

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=data,
                          processing_class=tokenizer, callbacks=[Timer()])
    trainer.remove_callback(PrinterCallback)  # it prints every log dict when tqdm is off
    start = time.perf_counter()
    trainer.train()
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    return {"rewards": rewards, "step_times": times, "total_s": time.perf_counter() - start}


def run_in_fresh_process(name: str, model_dir: Path, out: Path, steps: int, seed: int) -> dict[str, Any]:
    """Run one trainer in this (fresh) process and add its peak RSS; the parent spawns one per trainer."""
    torch.set_num_threads(1)  # TRL and rlvr-train both run faster on one thread on this 2-core box
    runner = {"rlvr-train": run_rlvr, "trl GRPOTrainer": run_trl}[name]
    result = runner(model_dir, out, steps, seed)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return result


def summary(name: str, result: dict[str, Any]) -> dict[str, Any]:
    r, t = result["rewards"], result["step_times"]
    s_per_step = statistics.median(t[1:] or t)
    return {
        "trainer": name,
        "steps": len(r),
        "s_per_step": s_per_step,
        "steps_per_s": 1.0 / s_per_step,
        "peak_rss_mib": result["peak_rss_mib"],
        "reward_first5": sum(r[:5]) / max(1, len(r[:5])),
        "reward_last5": sum(r[-5:]) / max(1, len(r[-5:])),
        "total_s": result["total_s"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the full results here")
    args = parser.parse_args(argv)
    import transformers

    from rlvr_train.tiny_model import build_tiny_model

    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    names = ["rlvr-train"]
    try:
        import trl

        versions["trl"] = trl.__version__
        names.append("trl GRPOTrainer")
    except ImportError:
        print("trl is not installed: only rlvr-train was run (pip install trl)", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "model")
        for name in names:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                out = Path(tmp) / name.split()[0]
                results[name] = pool.submit(run_in_fresh_process, name, model_dir, out, args.steps,
                                            args.seed).result()
    rows = [summary(name, res) for name, res in results.items()]
    print(f"versions: {', '.join(f'{k} {v}' for k, v in versions.items())}")
    print("| trainer | steps | s/step (median) | steps/s | peak RSS MiB | reward first 5 | reward last 5 "
          "| total s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['trainer']} | {row['steps']} | {row['s_per_step']:.3f} | {row['steps_per_s']:.2f} | "
              f"{row['peak_rss_mib']:.0f} | {row['reward_first5']:.3f} | {row['reward_last5']:.3f} | "
              f"{row['total_s']:.1f} |")
    if len(rows) == 2:
        ours, peer = rows
        print(f"speed ratio rlvr-train / TRL: {ours['steps_per_s'] / peer['steps_per_s']:.2f}x; "
              f"peak memory ratio: {ours['peak_rss_mib'] / peer['peak_rss_mib']:.2f}x")
    if args.json:
        payload = {"versions": versions, "summary": rows, "runs": results}
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
