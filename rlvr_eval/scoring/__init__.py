"""Scoring: per-sample records, metrics, the results.json schema, reports and run comparison."""

from rlvr_eval.scoring.metrics import (
    avg_at_k,
    bootstrap_ci,
    format_content_split,
    has_repeated_tail,
    majority_correct,
    mean_pass_at_k,
    pass_at_k,
    summarize_task,
)
from rlvr_eval.scoring.records import SampleRecord, append_records, load_records
from rlvr_eval.scoring.results import RunResults, TaskMetrics, load_results, save_results

__all__ = [
    "RunResults",
    "SampleRecord",
    "TaskMetrics",
    "append_records",
    "avg_at_k",
    "bootstrap_ci",
    "format_content_split",
    "has_repeated_tail",
    "load_records",
    "load_results",
    "majority_correct",
    "mean_pass_at_k",
    "pass_at_k",
    "save_results",
    "summarize_task",
]
