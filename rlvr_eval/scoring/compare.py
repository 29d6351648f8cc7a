"""Compare runs benchmark by benchmark, splitting each change into format and non-format parts.

For two runs A (baseline) and B, per benchmark:

- ``strict_delta = strict(B) - strict(A)``: the change of the score that needs the requested format;
- ``content_delta = lenient(B) - lenient(A)``: the change in right answers whatever their format,
  i.e. the gain *beyond format correction*;
- ``format_delta = strict_delta - content_delta``: the part explained by formatting alone
  (the gap between strict and lenient closing or opening).

So ``strict_delta = format_delta + content_delta`` exactly. The 1-shot RLVR paper (arXiv 2504.20571)
also measures "gain beyond format correction" as outcome-reward run minus format-reward-only run:
``rlvr-eval compare FORMAT_RUN OUTCOME_RUN`` prints exactly that difference in its score column.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from rlvr_eval.scoring.report_md import label, render_score_table, task_columns
from rlvr_eval.scoring.results import RunResults

AVG = "avg"


class TaskDelta(BaseModel):
    """How one benchmark (or the average, task ``"avg"``) moved from the baseline to another run."""

    task: str
    baseline_score: float
    score: float
    score_delta: float
    strict_delta: float
    format_delta: float
    content_delta: float


def compare_runs(baseline: RunResults, other: RunResults) -> list[TaskDelta]:
    """Deltas for the benchmarks both runs have, in report order, then their average (task ``avg``)."""
    common = [t for t in task_columns([baseline, other]) if t in baseline.tasks and t in other.tasks]
    deltas = []
    for task in common:
        a, b = baseline.tasks[task], other.tasks[task]
        strict = b.strict_accuracy - a.strict_accuracy
        content = b.lenient_accuracy - a.lenient_accuracy
        deltas.append(
            TaskDelta(
                task=task,
                baseline_score=a.score,
                score=b.score,
                score_delta=b.score - a.score,
                strict_delta=strict,
                format_delta=strict - content,
                content_delta=content,
            )
        )
    if deltas:
        fields = [f for f in TaskDelta.model_fields if f != "task"]
        means = {f: sum(getattr(d, f) for d in deltas) / len(deltas) for f in fields}
        deltas.append(TaskDelta(task=AVG, **means))
    return deltas


def _signed(x: float) -> str:
    return f"{100 * x:+.1f}"


def render_compare_markdown(runs: Sequence[RunResults]) -> str:
    """One table per run after the first, each against the first run (the baseline)."""
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs (the first is the baseline)")
    baseline = runs[0]
    out = [
        f"# Comparison against {baseline.run_name}",
        "",
        render_score_table(runs),
        "",
        "Points (percentage). Δ strict = Δ format + Δ beyond format; Δ beyond format is the change in "
        "right answers whatever their format (lenient score), Δ format the part explained by formatting.",
    ]
    for other in runs[1:]:
        deltas = compare_runs(baseline, other)
        out += ["", f"## {other.run_name} vs {baseline.run_name}", ""]
        if not deltas:
            out.append("No benchmark in common.")
            continue
        out.append(
            f"| Benchmark | {baseline.run_name} | {other.run_name} | Δ score | Δ strict | Δ format "
            "| Δ beyond format |"
        )
        out.append("|:---|---:|---:|---:|---:|---:|---:|")
        for d in deltas:
            name = "Avg" if d.task == AVG else label(d.task)
            out.append(
                f"| {name} | {100 * d.baseline_score:.1f} | {100 * d.score:.1f} | {_signed(d.score_delta)} "
                f"| {_signed(d.strict_delta)} | {_signed(d.format_delta)} | {_signed(d.content_delta)} |"
            )
        only = sorted(set(baseline.tasks) ^ set(other.tasks))
        if only:
            out += ["", "Not in both runs (left out): " + ", ".join(label(t) for t in only) + "."]
    return "\n".join(out) + "\n"
