"""Periodic evaluation during training: greedy answers of the current policy on rlvr_eval tasks.

Mirrors the paper's in-training validation (greedy MATH500 every 20 steps) with the same pieces the
evaluation harness uses: ``rlvr_eval.tasks`` for data, ``rlvr_eval.templates`` for the prompt and
``rlvr_eval.verify_batch`` for grading. Generation runs on the training weights directly, so no
checkpoint has to be written and reloaded. The score is the harness's lenient one (``strict=False``:
boxed, else answer phrase, else last number, as the Qwen2.5-Math harness grades); the share of
responses with a proper ``\\boxed{}`` is logged beside it.
"""

from __future__ import annotations

from typing import Any

from rlvr_train.config import TrainConfig
from rlvr_train.rollout import HFRollout
from rlvr_train.trainer import has_requested_answer


def evaluate(cfg: TrainConfig, policy: Any, tokenizer: Any, verify_fn: Any) -> dict[str, Any]:
    """``{"eval/<task>/accuracy": ..., "eval/<task>/format_rate": ..., "eval_accuracy": mean}``."""
    from rlvr_eval.tasks import get_task
    from rlvr_eval.templates import render_prompt

    backend = HFRollout(policy, tokenizer, prompts_per_call=cfg.eval_batch_size)
    row: dict[str, Any] = {}
    accuracies = []
    for name in cfg.eval_tasks:
        task = get_task(name)
        items = task.load(cfg.eval_data_dir, limit=cfg.eval_limit)
        if not items:
            continue
        prompts = [
            tokenizer(render_prompt(item.question, cfg.eval_template, tokenizer), add_special_tokens=False)[
                "input_ids"
            ]
            for item in items
        ]
        out = backend.generate(
            prompts, n=1, temperature=0.0, top_p=1.0, max_tokens=cfg.eval_max_tokens, seed=cfg.seed
        )
        verdicts = verify_fn(
            out.texts, [item.reference for item in items], workers=cfg.verify_workers,
            timeout=cfg.verify_timeout, finish_reasons=out.finish_reasons,
            answer_format=task.answer_format, strict=False, options=[item.options for item in items],
        )
        accuracy = sum(bool(v.correct) for v in verdicts) / len(verdicts)
        n = len(verdicts)
        row[f"eval/{task.name}/accuracy"] = accuracy
        row[f"eval/{task.name}/format_rate"] = sum(has_requested_answer(v) for v in verdicts) / n
        row[f"eval/{task.name}/truncation_rate"] = sum(r == "length" for r in out.finish_reasons) / n
        accuracies.append(accuracy)
    row["eval_accuracy"] = sum(accuracies) / len(accuracies) if accuracies else None
    return row
