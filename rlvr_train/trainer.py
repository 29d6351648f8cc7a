"""The GRPO loop of 1-shot RLVR (Wang et al. 2025, arXiv 2504.20571), read top to bottom in ``train``.

Each step: draw the step's prompts (one example repeated to fill the batch), sample ``rollouts``
responses per prompt from the current policy, grade them with ``rlvr_eval.verify_batch`` (the same
verifier evaluation uses), turn rewards into group advantages, and take one AdamW step on the clipped
surrogate + k3 KL to the frozen initial policy - entropy bonus (``rlvr_train.grpo``).

Departures from the paper's verl run, all deliberate:

1. Rollouts come from ``transformers.generate`` on the training weights by default, so no inference
   engine's numerics differ from the trainer's (slower than verl's vLLM). ``backend: vllm`` runs an
   in-process vLLM engine that gets the policy's weights before every step, as verl's hybrid engine.
2. With gradient accumulation, each micro-batch's loss is weighted by its share of the batch's tokens
   (or responses, for the sequence-mean modes), so the accumulated gradient equals the gradient of the
   whole batch's token mean. verl divides each micro-batch's own mean by the number of micro-batches,
   which weights tokens of short-response micro-batches more.
3. The ratio is computed against the detached current log-probs (one optimizer step per rollout step
   makes the sampler and the learner the same policy); verl recomputes old log-probs in a separate
   forward pass, which equals this up to numerical noise.
4. The reference log-probs are computed inside the same micro-batch loop instead of a separate pass.
5. Reward modes ``format`` (1 for any non-empty ``\\boxed{}``, truncated or not) and ``entropy``
   (no reward: only the entropy term trains) give the paper's format-only and entropy-only
   baselines as options of the same loop.
6. A non-finite loss or gradient norm skips the optimizer step (logged as ``skipped``), where verl
   would apply it.
7. Sampling is seeded per step (``seed``, step), so a resumed run draws the rollouts an uninterrupted
   run would have drawn from the same weights.
8. Data parallelism (the paper ran verl on 8 GPUs) is ``torchrun`` + FSDP2 (``rlvr_train.distributed``):
   each rank samples and trains on whole groups, with the loss normalised by the global token count,
   so the gradient equals the one-process gradient of the same batch, as for any micro-batch size.
   Under torchrun the HF backend generates from weights gathered once per step on every rank.
9. Evaluation during training runs the ``rlvr_eval`` harness greedily on the in-memory policy
   (``rlvr_train.evaluation``); the paper's verl fork validated with its own scoring code.

Metrics go to ``<output_dir>/metrics.jsonl`` (one JSON object per step or evaluation), a tqdm bar, and
TensorBoard when installed.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from rlvr_train import checkpoint as ckpt
from rlvr_train import distributed as dist
from rlvr_train.config import TrainConfig
from rlvr_train.data import Example, batch_indices, load_examples
from rlvr_train.grpo import group_advantages, grpo_loss, token_log_probs_and_entropy
from rlvr_train.metrics_io import METRICS_FILE
from rlvr_train.rollout import (
    HFRollout,
    Packed,
    RolloutBackend,
    Rollouts,
    VLLMRollout,
    pack,
    pad_id_of,
    response_logits,
)

VerifyFn = Callable[..., Sequence[Any]]
StepHook = Callable[[int, dict[str, Any]], None]


class TrainError(RuntimeError):
    """A run cannot start or continue; the message is one line that says why."""


def train(
    cfg: TrainConfig,
    *,
    examples: list[Example] | None = None,
    verify_fn: VerifyFn | None = None,
    on_step: StepHook | None = None,
    progress: bool = True,
) -> Path:
    """Run GRPO as configured; return the output dir. ``on_step(step, metrics)`` runs after each step."""
    from tqdm.auto import tqdm

    started_group = dist.init()  # under torchrun (WORLD_SIZE > 1): one process per device, FSDP2
    main = dist.is_main()  # only rank 0 writes metrics, checkpoints and the progress bar
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    examples = examples if examples is not None else load_examples(cfg)
    verify_fn = verify_fn or _default_verify()
    device = dist.device()
    if cfg.batch_size % dist.world_size():  # equal shares: every rank runs the same collectives
        raise TrainError(f"batch_size {cfg.batch_size} must be a multiple of the {dist.world_size()} ranks")
    if cfg.backend == "vllm" and dist.is_distributed():
        raise TrainError("backend 'vllm' runs in a single process only; use backend 'hf' under torchrun")
    autocast = _autocast(cfg, device)

    # 1. Tokenizer and prompts first (template errors surface before weights load), then the policy
    #    (from the newest checkpoint when resuming), the frozen reference and the optimizer.
    resume_from = ckpt.latest_checkpoint(out) if cfg.resume else None
    if resume_from is None and not cfg.resume and ckpt.list_checkpoints(out):
        raise TrainError(f"{out} already holds checkpoints; pass --resume or choose another --output-dir")
    source = str(resume_from or cfg.model)
    tokenizer = load_tokenizer(source)
    prompt_ids = [encode_prompt(ex.question, cfg, tokenizer) for ex in examples]  # one-shot: one prompt
    torch.manual_seed(cfg.seed)
    policy = load_model(source, device)
    if cfg.gradient_checkpointing:
        policy.gradient_checkpointing_enable()
    disable_dropout(policy)  # log-probs must be those of the policy that sampled (Qwen ships with 0)
    dist.shard_policy(policy)  # FSDP2 under torchrun; the optimizer below then holds only this shard
    policy.train()
    ref = None
    if cfg.kl_coef > 0:  # the paper's reference is the initial policy, frozen
        ref = load_model(cfg.model, device, dtype=torch.bfloat16 if device.type == "cuda" else None)
        ref.eval().requires_grad_(False)
        dist.shard_policy(ref)
    optimizer = torch.optim.AdamW(
        policy.parameters(), lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay
    )
    start_step = 0
    if resume_from is not None:
        state = ckpt.load_trainer_state(resume_from)
        optimizer.load_state_dict(dist.shard_optimizer_state(optimizer, state["optimizer"]))
        ckpt.set_rng_state(state["rng"])
        start_step = int(state["step"])
    metrics_path = out / METRICS_FILE
    if main:
        truncate_metrics(metrics_path, start_step)  # drop steps logged after the checkpoint: no repeats
        (out / "config.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    dist.barrier()  # other ranks read metrics.jsonl below only after rank 0 has rewritten it

    # 2. Rollout engine and logging.
    backend: RolloutBackend
    if cfg.backend == "vllm":  # weights are pushed from the policy into the engine before each step
        backend = VLLMRollout(
            source, policy, tokenizer, max_model_len=cfg.max_prompt_tokens + cfg.max_response_tokens,
            gpu_memory_utilization=cfg.vllm_gpu_memory_utilization, seed=cfg.seed,
        )
    else:
        backend = HFRollout(
            policy, tokenizer, prompts_per_call=cfg.rollout_prompts_per_call, autocast=autocast
        )
    pad_id = pad_id_of(tokenizer)
    writer = _tensorboard(out) if cfg.tensorboard and main else None
    G = cfg.rollouts

    # Baseline evaluation before training; on resume, redo the checkpoint step's evaluation if the
    # previous run was killed before it was logged.
    eval_due = bool(cfg.eval_every and cfg.eval_tasks) and start_step % max(cfg.eval_every, 1) == 0
    if eval_due and start_step not in logged_eval_steps(metrics_path):
        _log_eval(metrics_path, writer, cfg, policy, tokenizer, autocast, start_step, progress)

    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (progress and main), desc="grpo",
               dynamic_ncols=True)
    for step in range(start_step, cfg.steps):
        t0 = time.perf_counter()
        done = step + 1  # optimizer steps completed after this iteration; used in logs and checkpoints
        for group in optimizer.param_groups:  # constant lr after an optional linear warmup (paper: none)
            group["lr"] = cfg.lr * min(1.0, (step + 1) / (cfg.warmup_steps + 1))

        # 3. Rollouts: B prompts x G samples, each group contiguous.
        #    Under torchrun rank r takes prompts r, r+W, ... (whole groups) and samples with its own seed.
        idx = dist.my_share(batch_indices(len(examples), cfg.batch_size, step, cfg.seed))  # [B / W]
        with dist.full_weights(policy):  # ranks generate different lengths: no per-token collectives
            rollouts = backend.generate(
                [prompt_ids[i] for i in idx], n=G, temperature=cfg.temperature, top_p=cfg.top_p,
                max_tokens=cfg.max_response_tokens, seed=dist.rank_seed(cfg.seed * 1_000_003 + step),
            )
        owner = [idx[j // G] for j in range(len(rollouts))]  # [N] example of each response
        t_gen = time.perf_counter() - t0

        # 4. Rewards from the verifier, then group advantages.
        verdicts = verify_fn(
            rollouts.texts, [examples[o].answer for o in owner], workers=cfg.verify_workers,
            timeout=cfg.verify_timeout, finish_reasons=rollouts.finish_reasons,
            answer_format=cfg.answer_format, strict=cfg.strict, lenient_fallback=cfg.lenient_fallback,
        )
        rewards = torch.tensor([reward_of(v, cfg.reward) for v in verdicts], dtype=torch.float32)  # [N]
        advantages = group_advantages(rewards, G, normalize_std=cfg.normalize_std)  # [N]

        # 5. One optimizer step over all N responses in micro-batches.
        batch = pack(rollouts, pad_id)  # [N, P + R]
        update = policy_update(policy, ref, optimizer, batch, advantages, cfg, device, autocast)

        # 6. Metrics (over all ranks' responses), checkpoint, evaluation.
        if dist.is_distributed():
            rollouts, verdicts, rewards, advantages, owner = dist.gather_step(
                rollouts, verdicts, rewards, advantages, owner
            )
        elapsed = time.perf_counter() - t0
        row = step_metrics(done, rollouts, verdicts, rewards, advantages, owner, examples, G)
        row.update(update)
        n_tokens = sum(len(r) for r in rollouts.response_ids)
        row.update(lr=optimizer.param_groups[0]["lr"], step_time=elapsed, gen_time=t_gen,
                   tokens_per_s=n_tokens / max(elapsed, 1e-9))
        if main:
            log_metrics(metrics_path, writer, row)
        bar.update(1)
        bar.set_postfix(reward=f"{row['reward_mean']:.3f}", acc=f"{row['accuracy']:.3f}",
                        kl=f"{row['kl']:.4f}", len=f"{row['response_length']:.0f}")
        if (cfg.save_every and done % cfg.save_every == 0) or done == cfg.steps:
            if not dist.is_distributed():
                ckpt.save_checkpoint(out, done, policy, tokenizer, optimizer, cfg.model_dump(mode="json"),
                                     cfg.keep_last)
            else:
                _save_sharded(out, done, policy, tokenizer, optimizer, cfg)
        if cfg.eval_every and cfg.eval_tasks and (done % cfg.eval_every == 0 or done == cfg.steps):
            _log_eval(metrics_path, writer, cfg, policy, tokenizer, autocast, done, progress)
        if on_step is not None:
            on_step(done, row)
    bar.close()
    if isinstance(backend, VLLMRollout):
        backend.close()  # frees the engine's KV cache for whatever runs next in this process
    if writer is not None:
        writer.close()
    if started_group:
        dist.teardown()
    return out


def _save_sharded(
    out: Path, step: int, policy: Any, tokenizer: Any, optimizer: torch.optim.Optimizer, cfg: TrainConfig
) -> None:
    """Under torchrun: gather full weights and optimizer state (collectives), rank 0 writes them."""
    weights = dist.full_state_dict(policy)
    optimizer_state = dist.full_optimizer_state(optimizer)
    if dist.is_main():
        ckpt.save_checkpoint(out, step, policy, tokenizer, optimizer, cfg.model_dump(mode="json"),
                             cfg.keep_last, model_state=weights, optimizer_state=optimizer_state)
    dist.barrier()  # no rank runs ahead (or exits) while the checkpoint is being written


def _log_eval(
    path: Path, writer: Any, cfg: TrainConfig, policy: Any, tokenizer: Any, autocast: Callable[[], Any],
    step: int, progress: bool = False,
) -> None:
    """Evaluate and log (rank 0). Under torchrun every rank evaluates the gathered weights (duplicate
    work, but no rank waits idle at a collective for the whole evaluation)."""
    with dist.full_weights(policy):
        row = run_eval(cfg, policy, tokenizer, autocast, step=step, show_progress=progress and dist.is_main())
    if dist.is_main():
        log_metrics(path, writer, row)


def policy_update(
    policy: Any, ref: Any, optimizer: torch.optim.Optimizer, batch: Packed, advantages: torch.Tensor,
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
    optimizer.zero_grad(set_to_none=True)
    sums: dict[str, float] = {}
    finite = True
    for start in range(0, n_local, cfg.micro_batch_size):
        mb = batch.slice(start, start + cfg.micro_batch_size).to(device)
        mask = mb.response_mask  # [m, R]
        # Departure 2: weight = this micro-batch's share of the batch's tokens (or responses).
        share = float(mask.sum()) / total_tokens if cfg.aggregation == "token_mean" else mask.shape[0] / n
        with autocast():
            logits = response_logits(policy, mb)  # [m, R, V]
        logp, entropy = token_log_probs_and_entropy(logits, mb.response_ids, cfg.temperature)  # [m, R] each
        ref_logp = None
        if ref is not None:
            with torch.no_grad(), autocast():
                ref_logits = response_logits(ref, mb)  # [m, R, V]
            ref_logp = token_log_probs_and_entropy(ref_logits, mb.response_ids, cfg.temperature)[0]
        loss, stats = grpo_loss(
            logp, advantages[start : start + cfg.micro_batch_size].to(device), mask,
            old_logp=None, ref_logp=ref_logp, entropy=entropy, clip_low=cfg.clip_low,
            clip_high=cfg.clip_high, kl_coef=cfg.kl_coef if ref is not None else 0.0,
            entropy_coef=cfg.entropy_coef, aggregation=cfg.aggregation,
            norm_length=cfg.max_response_tokens,
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
    }


def reward_of(verdict: Any, mode: str) -> float:
    """The scalar reward of one verdict under the configured reward mode."""
    if mode == "verifier":
        return float(verdict.reward)
    if mode == "format":  # the paper's format-only baseline: any non-empty boxed answer earns 1
        return 1.0 if has_requested_answer(verdict) else 0.0
    if mode == "entropy":  # entropy-only ablation: no outcome signal at all
        return 0.0
    raise ValueError(f"unknown reward mode {mode!r}")


def has_requested_answer(verdict: Any) -> bool:
    """An answer was found in the requested format (a non-empty box), whatever else went wrong.

    ``format_ok`` is not used: it is False for truncated responses even when they hold a box, and
    with ``strict=False`` it is True for unboxed fallbacks.
    """
    return bool(verdict.answered_in_format)


def step_metrics(
    step: int, rollouts: Rollouts, verdicts: Sequence[Any], rewards: torch.Tensor,
    advantages: torch.Tensor, owner: list[int], examples: list[Example], group_size: int,
) -> dict[str, Any]:
    """Outcome statistics of one step, including per-example accuracy (for ``rlvr-train rank``)."""
    n = len(verdicts)
    correct = [bool(v.correct) for v in verdicts]
    lengths = [len(r) for r in rollouts.response_ids]
    per_example: dict[str, list[bool]] = {}
    for j, ok in enumerate(correct):
        per_example.setdefault(examples[owner[j]].index, []).append(ok)
    groups = rewards.view(-1, group_size)  # [B, G]
    return {
        "kind": "train",
        "step": step,
        "reward_mean": float(rewards.mean()),
        "reward_std": float(rewards.std()) if n > 1 else 0.0,
        "accuracy": sum(correct) / n,
        "format_rate": sum(has_requested_answer(v) for v in verdicts) / n,
        "lenient_accuracy": sum(getattr(v, "lenient_correct", False) for v in verdicts) / n,
        "adv_mean": float(advantages.mean()),
        "adv_std": float(advantages.std()) if n > 1 else 0.0,
        "adv_abs_max": float(advantages.abs().max()),
        # groups whose rewards are all equal (all right or all wrong) get zero advantage: no signal
        "zero_std_groups": float((groups.amax(dim=1) == groups.amin(dim=1)).float().mean()),
        "response_length": sum(lengths) / n,
        "response_length_max": max(lengths),
        "truncation_rate": sum(r == "length" for r in rollouts.finish_reasons) / n,
        "example_accuracy": {k: sum(v) / len(v) for k, v in per_example.items()},
    }


def run_eval(
    cfg: TrainConfig, policy: Any, tokenizer: Any, autocast: Callable[[], Any], *, step: int,
    show_progress: bool = False,
) -> dict[str, Any]:
    """One evaluation row; the model is put back in train mode afterwards."""
    from rlvr_train.evaluation import evaluate

    metrics = evaluate(cfg, policy, tokenizer, step=step, autocast=autocast, show_progress=show_progress)
    row = {"kind": "eval", "step": step, **metrics}
    policy.train()
    return row


def _check_model_path(name: str) -> None:
    looks_local = name.startswith((".", "/", "~")) or Path(name).exists()
    if looks_local and not Path(name).expanduser().is_dir():
        raise TrainError(f"model path not found: {name}")


def load_tokenizer(name: str) -> Any:
    """The tokenizer of a model directory or Hub id, with one-line errors."""
    from transformers import AutoTokenizer

    _check_model_path(name)
    try:
        return AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot load the tokenizer of {name!r}: {str(exc).splitlines()[0]}") from None


def load_model(name: str, device: torch.device, dtype: torch.dtype | None = None) -> Any:
    """A causal LM from a directory or Hub id (float32 unless ``dtype``), with one-line errors."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    _check_model_path(name)
    hf_logging.disable_progress_bar()  # the per-shard "Loading weights" bar would bury our own output
    try:
        loaded = AutoModelForCausalLM.from_pretrained(name, dtype=dtype or torch.float32)
    except OSError as exc:
        raise TrainError(f"cannot load model {name!r}: {str(exc).splitlines()[0]}") from None
    model: Any = loaded  # transformers' decorated from_pretrained confuses type checkers
    return model.to(device)


def encode_prompt(question: str, cfg: TrainConfig, tokenizer: Any) -> list[int]:
    """Render with the training template and tokenize; prompts over the limit are an error, not cut."""
    from rlvr_eval.templates import TemplateError, render_prompt

    try:
        text = render_prompt(question, cfg.template, tokenizer)
    except TemplateError as exc:
        raise TrainError(str(exc)) from None
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) > cfg.max_prompt_tokens:
        raise TrainError(f"prompt has {len(ids)} tokens, over max_prompt_tokens={cfg.max_prompt_tokens}")
    return list(ids)


def disable_dropout(model: Any) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if isinstance(getattr(module, "attention_dropout", None), float):
            module.attention_dropout = 0.0


def logged_eval_steps(path: Path) -> set[int]:
    if not path.exists():
        return set()
    steps = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError, KeyError, TypeError, ValueError):
            row = json.loads(line)
            if row.get("kind") == "eval":
                steps.add(int(row["step"]))
    return steps


def truncate_metrics(path: Path, step: int) -> None:
    """Keep only rows with ``step <= step`` (all rows are dropped for a fresh run)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill mid-write
            continue
        if int(row.get("step", 0)) <= step and step > 0:
            kept.append(line)
    path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def log_metrics(path: Path, writer: Any, row: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    if writer is not None:
        prefix = row.get("kind", "train")
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step":
                writer.add_scalar(f"{prefix}/{key}", value, row["step"])


def _tensorboard(out: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard not installed: metrics.jsonl is the record
        return None
    return SummaryWriter(log_dir=str(out / "tensorboard"))


def _autocast(cfg: TrainConfig, device: torch.device) -> Callable[[], Any]:
    if cfg.bf16 and device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext


def _default_verify() -> VerifyFn:
    from rlvr_eval import verify_batch

    return verify_batch
