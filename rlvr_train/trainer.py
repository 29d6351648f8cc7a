"""The GRPO loop of 1-shot RLVR (Wang et al. 2025, arXiv 2504.20571), read top to bottom in ``train``.

Each step: draw the step's prompts (one example repeated to fill the batch), sample ``rollouts``
responses per prompt from the current policy, grade them with ``rlvr_eval.verify_batch`` (the same
verifier evaluation uses), turn rewards into group advantages, and take one AdamW step on the clipped
surrogate + k3 KL to the frozen initial policy - entropy bonus (``rlvr_train.grpo``).

Departures from the paper's verl run, all deliberate:

1. Rollouts and in-training evaluation share ONE ``rlvr_eval.generation`` engine (``rlvr_train.engine``).
   ``backend: hf`` (default) samples with ``transformers.generate`` on the training weights themselves,
   so no engine's numerics differ from the trainer's (slower than verl's vLLM). ``backend: vllm`` runs a
   colocated vLLM engine on every rank (vLLM's ``external_launcher`` under torchrun, as verl's hybrid
   engine and TRL's colocate mode), sent the policy's weights one tensor at a time after each update
   and asleep (KV cache freed, where vLLM supports it) during the update. Either way the trainer
   recomputes the log-probs of the sampled tokens itself.
2. With gradient accumulation (micro-batches of at most ``micro_batch_size`` responses and
   ``max_tokens_per_micro_batch`` padded tokens, longest responses first, like verl's dynamic batch
   size; ``rlvr_train.update``), each micro-batch's loss is weighted by its share of the batch's tokens
   (or responses, for the sequence-mean modes), so the accumulated gradient equals the gradient of the
   whole batch's token mean. verl divides each micro-batch's own mean by the number of micro-batches,
   which weights tokens of short-response micro-batches more.
3. The ratio is computed against the detached current log-probs (one optimizer step per rollout step
   makes the sampler and the learner the same policy); verl recomputes old log-probs in a separate
   forward pass, which equals this up to numerical noise.
4. The reference log-probs are computed inside the same micro-batch loop instead of a separate pass.
5. The reward is the paper's: the last requested-format answer (``\\boxed{}``) against the label,
   whether or not the response ran into ``max_response_tokens`` (verdicts still say ``truncated``;
   ``truncation_rate`` and ``truncated_rewarded`` are logged). ``truncated_reward: zero`` is an option
   the paper did not use: 0 for a cut response (an overlong penalty). Reward modes ``format`` (1 for any
   non-empty ``\\boxed{}``) and ``entropy`` (no reward: only the entropy term trains) give the paper's
   format-only and entropy-only baselines as options of the same loop.
6. A non-finite loss or gradient norm skips the optimizer step (logged as ``skipped``), where verl
   would apply it.
7. Each sample is seeded from (``seed``, step, prompt, occurrence of the prompt in the whole step, sample
   index), so a resumed run draws the rollouts an uninterrupted run would have drawn from the same
   weights, and the split over ranks does not change which samples are drawn (engine numerics aside);
   verl seeds its vLLM engine once per run.
8. Data parallelism (the paper ran verl on 8 GPUs) is ``torchrun`` + FSDP2 (``rlvr_train.distributed``):
   each rank samples and trains on whole groups, with the loss normalised by the global token count,
   so the gradient equals the one-process gradient of the same batch, as for any micro-batch size.
   Under torchrun the hf engine generates from weights gathered once per generation on every rank;
   vLLM engines hold their own copy (ranks of one ``vllm_tensor_parallel_size`` group share one).
9. Evaluation during training runs the ``rlvr_eval`` harness greedily on the rollout engine
   (``rlvr_train.evaluation``), each benchmark split over every rank's engine and written by rank 0
   (``rlvr_train.eval_shards``); the paper's verl fork validated with its own scoring code.
10. Token log-probs and entropy come from the final hidden states and the LM head a chunk of
    ``logprob_chunk_size`` positions at a time (``rlvr_train.chunked_logprobs``, with its own backward),
    never as whole ``[micro_batch, response, vocab]`` logits: the same values and gradients (tested),
    summed in another order. verl materialises each micro-batch's logits.
11. Checkpoints hold the bf16 model every ``save_every`` steps and the fp32 weights + AdamW state only
    in the newest ``keep_trainer_state`` (``rlvr_train.checkpoint``); verl saves every rank's FSDP
    shards with the optimizer state every time. ``--resume`` continues from the fp32 copy, exactly as
    an uninterrupted run, and refuses a changed training-defining setting (``rlvr_train.resume``).

Metrics go to ``<output_dir>/metrics.jsonl`` (one JSON object per step or evaluation), a tqdm bar, and
TensorBoard when installed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from rlvr_eval.generation import BackendError
from rlvr_train import checkpoint as ckpt
from rlvr_train import distributed as dist
from rlvr_train import resume
from rlvr_train.config import TrainConfig
from rlvr_train.data import Example, batch_indices, load_examples
from rlvr_train.durable import write_atomic
from rlvr_train.engine import (
    EngineFactory,
    PolicyEngine,
    build_engine,
    check_layout,
    engine_size,
    sample_rollouts,
)
from rlvr_train.grpo import group_advantages
from rlvr_train.metrics_io import (
    METRICS_FILE,
    log_metrics,
    logged_eval_steps,
    open_tensorboard,
    truncate_metrics,
)
from rlvr_train.resume import examples_digest
from rlvr_train.rewards import grade_responses, step_metrics, step_rewards
from rlvr_train.rollout import pack, pad_id_of
from rlvr_train.update import policy_update

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
    make_engine: EngineFactory | None = None,
) -> Path:
    """Run GRPO as configured; return the output dir. ``on_step(step, metrics)`` runs after each step;
    ``make_engine(policy, tokenizer)`` replaces the configured generation engine (tests, custom engines)."""
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
    layout_error = check_layout(cfg)
    if layout_error is not None:
        raise TrainError(layout_error)
    autocast = _autocast(cfg, device)

    # 1. Resume point (newest checkpoint that loads; refuses a changed training-defining setting), then
    #    tokenizer and prompts (template errors surface before weights load), the policy (the checkpoint's
    #    fp32 weights when resuming), the frozen reference and the optimizer.
    digest = examples_digest(examples)
    point = _resume_point(out, cfg, digest) if cfg.resume else None
    if point is None and not cfg.resume and ckpt.list_checkpoints(out):
        raise TrainError(f"{out} already holds checkpoints; pass --resume or choose another --output-dir")
    source = str(point.path if point else cfg.model)
    tokenizer = load_tokenizer(source)
    prompt_ids = [encode_prompt(ex.question, cfg, tokenizer) for ex in examples]  # one-shot: one prompt
    torch.manual_seed(cfg.seed)
    policy = load_model(source, device)
    if point is not None:  # the optimizer's fp32 master weights, not the checkpoint's bf16 copy
        ckpt.load_weights(policy, point.state["model"])
    if use_gradient_checkpointing(cfg, device):
        enable_gradient_checkpointing(policy)
    disable_dropout(policy)  # log-probs must be those of the policy that sampled (Qwen ships with 0)
    mixed_precision = cfg.bf16 and device.type == "cuda"  # bf16 compute, fp32 masters and reduction
    dist.shard_policy(policy, mixed_precision=mixed_precision)  # FSDP2 under torchrun; optimizer: own shard
    policy.train()
    ref = None
    if cfg.kl_coef > 0:  # the paper's reference: the initial policy, frozen; on resume the run's recorded one
        initial = str(point.config["model"]) if point is not None else cfg.model
        ref = load_model(initial, device, dtype=torch.bfloat16 if device.type == "cuda" else None)
        ref.eval().requires_grad_(False)
        dist.shard_policy(ref, mixed_precision=mixed_precision)
    optimizer = torch.optim.AdamW(
        policy.parameters(), lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay
    )
    start_step = 0
    if point is not None:
        optimizer.load_state_dict(dist.shard_optimizer_state(optimizer, point.state["optimizer"]))
        ckpt.set_rng_state(point.state["rng"])
        start_step = point.step
    metrics_path = out / METRICS_FILE
    dist.barrier()  # every rank has read the checkpoints before rank 0 renames a broken one
    if main:
        if point is not None:
            resume.set_aside(point)
            resume.log_resume(out, start_step, point.path, resume.config_changes(point.config, cfg))
        truncate_metrics(metrics_path, start_step)  # drop steps logged after the checkpoint: no repeats
        write_atomic(out / "config.yaml", cfg.to_yaml())
    dist.barrier()  # other ranks read metrics.jsonl below only after rank 0 has rewritten it

    # 2. One generation engine for rollouts and evaluation (rlvr_train.engine), and logging.
    try:
        backend = (make_engine or (lambda p, t: build_engine(cfg, p, t, source, autocast)))(policy, tokenizer)
    except BackendError as exc:  # e.g. backend vllm without vLLM installed: one line, with the fix
        raise TrainError(str(exc)) from None
    engine = PolicyEngine(backend, policy)
    pad_id = pad_id_of(tokenizer)
    writer = open_tensorboard(out) if cfg.tensorboard and main else None
    G = cfg.rollouts

    # Baseline evaluation before training; on resume, redo the checkpoint step's evaluation if the
    # previous run was killed before it was logged.
    eval_due = bool(cfg.eval_every and cfg.eval_tasks) and start_step % max(cfg.eval_every, 1) == 0
    if eval_due and start_step not in logged_eval_steps(metrics_path):
        _log_eval(metrics_path, writer, cfg, engine, start_step, progress)

    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (progress and main), desc="grpo",
               dynamic_ncols=True)
    for step in range(start_step, cfg.steps):
        t0 = time.perf_counter()
        done = step + 1  # optimizer steps completed after this iteration; used in logs and checkpoints
        for group in optimizer.param_groups:  # constant lr after an optional linear warmup (paper: none)
            group["lr"] = cfg.lr * min(1.0, (step + 1) / (cfg.warmup_steps + 1))

        # 3. Rollouts: B prompts x G samples, each group contiguous. Under torchrun rank r takes the
        #    step's prompts r, r+W, ... (whole groups); seeds depend on the whole step, not the split.
        step_idx = batch_indices(len(examples), cfg.batch_size, step, cfg.seed)  # [B]
        with engine.generating() as backend:
            rollouts, positions = sample_rollouts(backend, [prompt_ids[i] for i in step_idx], cfg, step)
        engine.sleep()  # frees the KV cache for the update (vLLM on GPU)
        owner = [step_idx[p] for p in positions for _ in range(G)]  # [N] example of each response
        t_gen = time.perf_counter() - t0

        # 4. Rewards from the verifier, then group advantages.
        graded = [examples[o] for o in owner]
        verdicts = grade_responses(verify_fn, rollouts.texts, graded, rollouts.finish_reasons, cfg)
        rewards = step_rewards(verdicts, rollouts.finish_reasons, cfg)  # [N]
        advantages = group_advantages(rewards, G, normalize_std=cfg.normalize_std)  # [N]

        # 5. One optimizer step over all N responses in micro-batches.
        t_update = time.perf_counter()
        batch = pack(rollouts, pad_id)  # [N, P + R]
        update = policy_update(policy, ref, optimizer, batch, advantages, cfg, device, autocast)
        engine.updated()
        t_update = time.perf_counter() - t_update

        # 6. Metrics (over all ranks' responses), checkpoint, evaluation.
        if dist.is_distributed():
            rollouts, verdicts, rewards, advantages, owner = dist.gather_step(
                rollouts, verdicts, rewards, advantages, owner
            )
        elapsed = time.perf_counter() - t0
        row = step_metrics(done, rollouts, verdicts, rewards, advantages, owner, examples, G, cfg.strict)
        row.update(update)
        n_tokens = sum(len(r) for r in rollouts.response_ids)
        row.update(lr=optimizer.param_groups[0]["lr"], step_time=elapsed, gen_time=t_gen,
                   update_time=t_update, tokens_per_s=n_tokens / max(elapsed, 1e-9))
        if main:
            log_metrics(metrics_path, writer, row)
        bar.update(1)
        bar.set_postfix(reward=f"{row['reward_mean']:.3f}", acc=f"{row['accuracy']:.3f}",
                        kl=f"{row['kl']:.4f}", len=f"{row['response_length']:.0f}")
        if (cfg.save_every and done % cfg.save_every == 0) or done == cfg.steps:
            _save(out, done, policy, tokenizer, optimizer, cfg, row, digest)
        if cfg.eval_every and cfg.eval_tasks and (done % cfg.eval_every == 0 or done == cfg.steps):
            _log_eval(metrics_path, writer, cfg, engine, done, progress)
        if on_step is not None:
            on_step(done, row)
    bar.close()
    if writer is not None:
        writer.close()
    dist.barrier()  # closing a vLLM engine under torchrun also ends the process group: nobody may lag
    engine.close()  # frees a vLLM engine's memory for whatever runs next in this process
    if started_group:
        dist.teardown()
    return out


def _resume_point(out: Path, cfg: TrainConfig, digest: str) -> resume.ResumePoint | None:
    """Where ``--resume`` continues from, after checking that it continues the same run."""
    try:
        point = resume.find_resume_point(out)
        if point is not None:
            resume.config_changes(point.config, cfg)  # raises on a changed training-defining setting
            resume.check_examples(point.state, digest)
    except resume.ResumeError as exc:
        raise TrainError(str(exc)) from None
    return point


def _save(
    out: Path, step: int, policy: Any, tokenizer: Any, optimizer: torch.optim.Optimizer, cfg: TrainConfig,
    metrics: dict[str, Any], digest: str,
) -> None:
    """Gather full weights and optimizer state (collectives under torchrun); rank 0 writes them."""
    weights = dist.full_state_dict(policy)
    optimizer_state = dist.full_optimizer_state(optimizer)
    if dist.is_main():
        ckpt.save_checkpoint(
            out, step, model=policy, tokenizer=tokenizer, weights=weights, optimizer_state=optimizer_state,
            config=cfg.model_dump(mode="json"), metrics=metrics, examples_digest=digest,
            keep_last=cfg.keep_last, keep_trainer_state=cfg.keep_trainer_state,
        )
    dist.barrier()  # no rank runs ahead (or exits) while the checkpoint is being written


def _log_eval(
    path: Path, writer: Any, cfg: TrainConfig, engine: PolicyEngine, step: int, progress: bool = False
) -> None:
    """Evaluate on the rollout engine and log (rank 0). Under torchrun every rank's engine takes a share."""
    from rlvr_train.evaluation import evaluate

    with engine.generating(rows_per_call=cfg.eval_batch_size) as backend:
        show = progress and dist.is_main()
        row = evaluate(cfg, backend, step=step, tp=engine_size(cfg), show_progress=show)
    if row is not None:
        log_metrics(path, writer, {"kind": "eval", "step": step, **row})


def use_gradient_checkpointing(cfg: TrainConfig, device: torch.device) -> bool:
    """The configured choice, or by default on for GPUs (memory-bound) and off for CPUs (compute-bound)."""
    return cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else device.type == "cuda"


def enable_gradient_checkpointing(model: Any) -> None:
    """Recompute each decoder layer's activations in backward (non-reentrant: works with FSDP2 and with
    inputs that need no grad). transformers 5.24 renamed the method; older versions have the old name."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


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


def _autocast(cfg: TrainConfig, device: torch.device) -> Callable[[], Any]:
    if cfg.bf16 and device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext


def _default_verify() -> VerifyFn:
    from rlvr_eval import verify_batch

    return verify_batch
