"""Periodic evaluation during training, through the evaluation harness itself (``rlvr_eval.runner``).

The paper validates greedy on MATH500 every 20 steps. Here every evaluation is a full ``rlvr-eval``
run of the in-memory policy: same tasks, templates, verifier and metrics as ``rlvr-eval score``,
written to ``<output_dir>/eval/step-<k>/`` (samples.jsonl, results.json, reports), so a training
curve point can be opened and inspected like any evaluation. Generation uses the trainer's own engine
(``rlvr_train.engine``: the policy module itself, or the vLLM engine that serves the rollouts), so no
checkpoint has to be written and reloaded. Under torchrun the benchmark is split across every rank's
engine and only rank 0 writes (``rlvr_train.eval_shards``).

All tasks are decoded greedily during training (n=1), as the paper's in-training validation does;
the headline score is the harness's lenient one (boxed, else answer phrase, else last number, as the
Qwen2.5-Math harness grades), with the strict score, the boxed rate and the answer-present rate (the
reference stated anywhere in the completion) logged beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rlvr_eval.generation import Backend
from rlvr_train import distributed as dist
from rlvr_train.config import TrainConfig


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
    cfg: TrainConfig, backend: Backend, *, step: int, tp: int = 1, show_progress: bool = False
) -> dict[str, Any] | None:
    """Score the policy on ``cfg.eval_tasks`` (``eval/<task>/...`` fields of a metrics row).

    Under torchrun every rank must call this; ranks sharing one engine pass its size as ``tp``.
    Rank 0 returns the row; the other ranks serve their shares and return None.
    """
    from rlvr_eval.runner import VerifyFn, batch_verifier, score
    from rlvr_train.eval_shards import lead, serve

    workers = max(1, cfg.verify_workers) if cfg.verify_workers is not None else None
    verify = batch_verifier(timeout=cfg.verify_timeout, workers=workers)
    if dist.is_distributed() and not dist.is_main():
        serve(backend, verify, tp)
        return None
    out = Path(cfg.output_dir) / "eval" / f"step-{step}"
    if out.exists():  # left by a run killed mid-evaluation: those samples came from other weights
        shutil.rmtree(out)
    eval_cfg = eval_config(cfg, step, out, backend.name, workers)

    def run(engine: Backend, grade: VerifyFn) -> Any:
        return score(eval_cfg, backend=engine, verifier=grade, show_progress=show_progress)

    results = lead(run, backend, verify, tp) if dist.is_distributed() else run(backend, verify)
    row: dict[str, Any] = {"eval_dir": str(out)}
    for name, metrics in results.tasks.items():
        row[f"eval/{name}/accuracy"] = metrics.score
        row[f"eval/{name}/strict_accuracy"] = metrics.strict_accuracy
        row[f"eval/{name}/format_rate"] = metrics.format_rate
        row[f"eval/{name}/truncation_rate"] = metrics.truncation_rate
        if metrics.answer_present_rate is not None:  # the reference stated anywhere, final or not
            row[f"eval/{name}/answer_present_rate"] = metrics.answer_present_rate
    row["eval_accuracy"] = results.average
    return row


def eval_config(cfg: TrainConfig, step: int, out: Path, backend: str, workers: int | None) -> Any:
    """The ``rlvr-eval`` settings of one in-training evaluation (greedy, one sample per item)."""
    from rlvr_eval.config import EvalConfig

    return EvalConfig(
        model=f"{cfg.model}@step-{step}", run_name=f"step-{step}", tasks=list(cfg.eval_tasks),
        backend=backend, n=1, temperature=0.0, max_tokens=cfg.eval_max_tokens, seed=cfg.seed,
        template=cfg.eval_template, limit=cfg.eval_limit, output_dir=str(out), data_dir=eval_data_dir(cfg),
        verify_timeout=cfg.verify_timeout, verify_workers=workers,
    )
