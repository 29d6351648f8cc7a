"""``rlvr-train rank DIR``: the paper's historical variance score of each training example.

1-shot RLVR (arXiv 2504.20571, §2.2) picks its example by training on the whole dataset and ranking
examples by the variance of their training accuracy over the run (π1 ranks first). Each training
step logs ``example_accuracy`` = {example index: share of its rollouts that were correct}; the score
of an example is the population variance of that history. Examples always right or always wrong
score 0: they give GRPO no signal.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from pydantic import BaseModel

from rlvr_train.metrics_io import read_metrics


class ExampleScore(BaseModel):
    index: str
    variance: float
    mean_accuracy: float
    observations: int


def rank_examples(run_dir: str | Path) -> list[ExampleScore]:
    """Examples by descending accuracy variance (ties: higher mean accuracy, then index)."""
    history: dict[str, list[float]] = {}
    for row in read_metrics(run_dir):
        if row.get("kind", "train") != "train":
            continue
        for index, accuracy in (row.get("example_accuracy") or {}).items():
            history.setdefault(str(index), []).append(float(accuracy))
    scores = [
        ExampleScore(index=i, variance=statistics.pvariance(h), mean_accuracy=statistics.fmean(h),
                     observations=len(h))
        for i, h in history.items()
    ]
    return sorted(scores, key=lambda s: (-s.variance, -s.mean_accuracy, s.index))


def format_ranking(scores: list[ExampleScore], top: int | None = None) -> str:
    lines = [f"{'rank':>4}  {'index':>8}  {'variance':>9}  {'mean acc':>8}  {'steps':>5}"]
    for rank, s in enumerate(scores[:top] if top else scores, start=1):
        lines.append(
            f"{rank:>4}  {s.index:>8}  {s.variance:>9.5f}  {s.mean_accuracy:>8.3f}  {s.observations:>5}"
        )
    return "\n".join(lines)
