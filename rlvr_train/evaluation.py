"""Periodic evaluation during training, through the evaluation harness itself (``rlvr_eval.runner``).

The paper validates greedy on MATH500 every 20 steps. Here every evaluation is a full ``rlvr-eval``
run of the in-memory policy: same tasks, templates, verifier and metrics as ``rlvr-eval score``,
written to ``<output_dir>/eval/step-<k>/`` (samples.jsonl, results.json, reports), so a training
curve point can be opened and inspected like any evaluation. Generation uses the training weights
directly (``PolicyBackend``), so no checkpoint has to be written and reloaded.

All tasks are decoded greedily during training (n=1), as the paper's in-training validation does;
the headline score is the harness's lenient one (boxed, else answer phrase, else last number, as the
Qwen2.5-Math harness grades), with the strict score and the boxed rate logged beside it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlvr_train.config import TrainConfig
from rlvr_train.rollout import HFRollout


class PolicyBackend:
    """The ``rlvr_eval.generation.Backend`` contract over the policy being trained.

    Generation stops at the tokenizer's end tokens and the Qwen end markers (the harness's default
    stop strings); other stop strings in ``params.stop`` are not applied.
    """

    name = "hf-policy"

    def __init__(
        self, policy: Any, tokenizer: Any, *, batch_size: int = 16,
        autocast: Callable[[], Any] = contextlib.nullcontext,
    ) -> None:
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.rollout = HFRollout(policy, tokenizer, prompts_per_call=batch_size, autocast=autocast)

    def generate(self, prompts: list[str], params: Any, *, progress: Any = None) -> list[list[Any]]:
        from rlvr_eval.generation.base import Completion

        flat: list[Completion] = []
        for start in range(0, len(prompts), self.batch_size):  # one batch at a time: progress moves
            chunk = prompts[start : start + self.batch_size]
            ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in chunk]
            out = self.rollout.generate(
                ids, n=params.n, temperature=params.temperature, top_p=params.top_p,
                max_tokens=params.max_tokens, seed=params.seed,
            )
            flat += [
                Completion(text=text, finish_reason=reason, num_tokens=len(tokens))
                for text, reason, tokens in zip(out.texts, out.finish_reasons, out.response_ids, strict=True)
            ]
            if progress is not None:
                progress(len(chunk))
        return [flat[i * params.n : (i + 1) * params.n] for i in range(len(prompts))]

    def close(self) -> None:  # the policy belongs to the trainer
        return None


def eval_data_dir(cfg: TrainConfig) -> str | None:
    """Benchmarks directory: ``eval_data_dir``, else the training ``data_dir`` (one ``--data-dir`` holds
    ``train/`` and the benchmarks in the shared layout), else ``$RLVR_DATA_DIR`` / the local default."""
    from rlvr_train.data import default_data_dir

    if cfg.eval_data_dir is not None:
        return cfg.eval_data_dir
    if cfg.data_dir is not None:
        return cfg.data_dir
    found = default_data_dir()
    return str(found) if found is not None else None


def evaluate(
    cfg: TrainConfig, policy: Any, tokenizer: Any, *, step: int,
    autocast: Callable[[], Any] = contextlib.nullcontext, show_progress: bool = False,
) -> dict[str, Any]:
    """Score the policy on ``cfg.eval_tasks``; returns the metrics row fields (``eval/<task>/...``)."""
    from rlvr_eval.config import EvalConfig
    from rlvr_eval.runner import score
    from rlvr_train.distributed import env_rank

    out = Path(cfg.output_dir) / "eval" / f"step-{step}"
    if env_rank() != 0:  # under torchrun every rank evaluates; each needs its own (locked) run directory
        out = out.with_name(f"{out.name}.rank{env_rank()}")
    if out.exists():  # left by a run killed mid-evaluation: those samples came from other weights
        shutil.rmtree(out)
    eval_cfg = EvalConfig(
        model=f"{cfg.model}@step-{step}", run_name=f"step-{step}", tasks=list(cfg.eval_tasks), backend="hf",
        n=1, temperature=0.0, max_tokens=cfg.eval_max_tokens, seed=cfg.seed, template=cfg.eval_template,
        limit=cfg.eval_limit, output_dir=str(out), data_dir=eval_data_dir(cfg),
        verify_timeout=cfg.verify_timeout,
        verify_workers=max(1, cfg.verify_workers) if cfg.verify_workers is not None else None,
    )
    backend = PolicyBackend(policy, tokenizer, batch_size=cfg.eval_batch_size, autocast=autocast)
    results = score(eval_cfg, backend=backend, show_progress=show_progress)
    if env_rank() != 0:  # only rank 0's evaluation is logged and kept
        shutil.rmtree(out, ignore_errors=True)
    row: dict[str, Any] = {"eval_dir": str(out)}
    for name, metrics in results.tasks.items():
        row[f"eval/{name}/accuracy"] = metrics.score
        row[f"eval/{name}/strict_accuracy"] = metrics.strict_accuracy
        row[f"eval/{name}/format_rate"] = metrics.format_rate
        row[f"eval/{name}/truncation_rate"] = metrics.truncation_rate
    row["eval_accuracy"] = results.average
    return row
