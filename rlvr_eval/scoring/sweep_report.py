"""sweep.json and sweep.md: every checkpoint of a run on every benchmark, and the paper's selection.

The 1-shot RLVR paper (arXiv 2504.20571) reports, per training run, the checkpoint with the best
average over its six math benchmarks (MATH500, AIME24, AMC23, Minerva, OlympiadBench, AIME25).
``select_tasks`` applies that rule to whatever a sweep ran: the paper's benchmarks it has (and says so
when that is fewer than six), or all of its benchmarks when it ran none of them. The baseline (the
model before training, step 0) is shown but never selected: it is not a checkpoint of the run.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from rlvr_eval.scoring.records import ScoreMode
from rlvr_eval.scoring.report_md import DASH, label, pct, task_columns
from rlvr_eval.scoring.results import RunResults, TaskSettings
from rlvr_eval.tasks import PAPER_MATH_TASKS

SWEEP_SCHEMA_VERSION = 1
SWEEP_JSON_FILE, SWEEP_MD_FILE, SWEEP_HTML_FILE = "sweep.json", "sweep.md", "sweep.html"
BEST_MARK = "★"


class SweepPoint(BaseModel):
    """One model of a sweep: a checkpoint, the baseline, or a model directory given by hand."""

    name: str = Field(description="Row label and the name of its score run directory.")
    step: int | None = Field(description="Training step (0 for the baseline); None if unknown.")
    model: str = Field(description="Model directory or hub id.")
    baseline: bool = Field(False, description="The model before training: shown, never selected.")


class PointScores(BaseModel):
    """One benchmark of one point; fractions in [0, 1]."""

    score: float = Field(description="Headline score (the run's score mode).")
    strict: float
    lenient: float
    format_rate: float
    answer_present: float | None = Field(None, description="Answer-present rate; None if not checked.")


class SweepRow(BaseModel):
    """A point's scores, and its averages over the selection benchmarks (None if it lacks one)."""

    point: SweepPoint
    run_dir: str = Field(description="Its score run directory, relative to the sweep directory.")
    tasks: dict[str, PointScores]
    average: float | None = Field(description="Mean headline score over the selection benchmarks.")
    strict_average: float | None
    lenient_average: float | None
    format_average: float | None
    present_average: float | None = None


class SweepResults(BaseModel):
    """Contents of sweep.json."""

    schema_version: int = SWEEP_SCHEMA_VERSION
    title: str
    score_mode: ScoreMode
    tasks: list[str] = Field(description="Benchmarks scored, in report order.")
    selection_tasks: list[str] = Field(description="Benchmarks whose average selects the best checkpoint.")
    selection_note: str
    best: str | None = Field(description="Name of the selected point; None until a checkpoint is scored.")
    rows: list[SweepRow]
    task_settings: dict[str, TaskSettings] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat())

    def row(self, name: str) -> SweepRow:
        return next(r for r in self.rows if r.point.name == name)


def select_tasks(tasks: Sequence[str]) -> tuple[list[str], str]:
    """The benchmarks the selection averages, and a sentence saying how that relates to the paper."""
    paper = [t for t in PAPER_MATH_TASKS if t in tasks]
    others = [label(t) for t in tasks if t not in paper]
    if len(paper) == len(PAPER_MATH_TASKS):
        note = "the paper's rule: the best average over its six math benchmarks"
    elif paper:
        names = ", ".join(label(t) for t in paper)
        note = (f"the best average over the {len(paper)} of the paper's six benchmarks this sweep ran "
                f"({names}); the paper averages all six")
    else:
        paper = list(tasks)
        note = ("none of the paper's six benchmarks ran: the best average over "
                + ", ".join(label(t) for t in tasks))
        others = []
    if others:
        note += f" ({', '.join(others)} shown, not averaged)"
    return paper, note


def _mean(values: list[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None) / len(values)


def make_row(point: SweepPoint, run_dir: str, results: RunResults, selection: Sequence[str]) -> SweepRow:
    tasks = {
        t: PointScores(score=m.score, strict=m.strict_accuracy, lenient=m.lenient_accuracy,
                       format_rate=m.format_rate, answer_present=m.answer_present_rate)
        for t, m in results.tasks.items()
    }

    def average(field: str) -> float | None:
        return _mean([getattr(tasks[t], field) if t in tasks else None for t in selection])

    return SweepRow(
        point=point, run_dir=run_dir, tasks=tasks, average=average("score"),
        strict_average=average("strict"), lenient_average=average("lenient"),
        format_average=average("format_rate"), present_average=average("answer_present"),
    )


def build_sweep(title: str, scored: Sequence[tuple[SweepPoint, str, RunResults]]) -> SweepResults:
    """The sweep of ``(point, run directory, results)`` in row order, with the best checkpoint chosen."""
    runs = [results for _, _, results in scored]
    tasks = task_columns(runs)
    selection, note = select_tasks(tasks)
    rows = [make_row(point, run_dir, results, selection) for point, run_dir, results in scored]
    candidates = [r for r in rows if not r.point.baseline and r.average is not None]
    # max keeps the first of equal averages: the earliest checkpoint wins a tie.
    best = max(candidates, key=lambda r: r.average or 0.0).point.name if candidates else None
    settings: dict[str, TaskSettings] = {}
    for results in runs:
        settings.update({t: s for t, s in results.task_settings.items() if t not in settings})
    return SweepResults(
        title=title, score_mode=runs[0].score_mode if runs else "lenient", tasks=tasks,
        selection_tasks=selection, selection_note=note, best=best, rows=rows, task_settings=settings,
    )


def _row_label(row: SweepRow, best: str | None) -> str:
    return f"{row.point.name} {BEST_MARK}" if row.point.name == best else row.point.name


def cell(scores: PointScores | None) -> str:
    """One sweep cell: strict / lenient / answer present / format ok, in percent."""
    if scores is None:
        return DASH
    s = scores
    return f"{pct(s.strict)} / {pct(s.lenient)} / {pct(s.answer_present)} / {pct(s.format_rate)}"


def render_sweep_table(sweep: SweepResults) -> str:
    """Step x benchmark: strict / lenient / answer present / format ok per cell, then the selection
    average."""
    header = ["Step", "Model", *(label(t) for t in sweep.tasks), "Avg"]
    lines = ["| " + " | ".join(header) + " |", "|---:|:---|" + "---:|" * (len(sweep.tasks) + 1)]
    for row in sweep.rows:
        cells = [cell(row.tasks.get(t)) for t in sweep.tasks]
        step = DASH if row.point.step is None else str(row.point.step)
        name = _row_label(row, sweep.best).replace("|", "\\|")
        lines.append("| " + " | ".join([step, name, *cells, pct(row.average)]) + " |")
    return "\n".join(lines)


def selection_summary(sweep: SweepResults) -> str:
    """One sentence: which checkpoint the rule selects, its average, and the gain over the baseline."""
    if sweep.best is None:
        return "No checkpoint scored yet: nothing selected."
    best = sweep.row(sweep.best)
    step = f" (step {best.point.step})" if best.point.step is not None else ""
    text = f"Selected {BEST_MARK} {sweep.best}{step}: average {pct(best.average)}"
    base = next((r for r in sweep.rows if r.point.baseline), None)
    if base is not None and base.average is not None and best.average is not None:
        text += f", {100 * (best.average - base.average):+.1f} over the baseline ({base.point.name})"
    return f"{text}. Selection: {sweep.selection_note}."


def render_sweep_markdown(sweep: SweepResults) -> str:
    """The whole sweep.md."""
    out = [
        f"# Sweep: {sweep.title}",
        "",
        selection_summary(sweep),
        "",
        f"Cells: strict / lenient / answer present / format ok (% of samples; answer present: the reference "
        f"is stated somewhere in the completion). Avg: the {sweep.score_mode} score averaged "
        "over the selection benchmarks. Step 0 is the model before training (the baseline).",
        "",
        render_sweep_table(sweep),
        "",
        "## Settings",
        "",
    ]
    for task in sweep.tasks:
        s = sweep.task_settings.get(task)
        if s is not None:
            out.append(f"- {label(task)}: n={s.n}, temperature {s.temperature}, top_p {s.top_p}, max_tokens "
                       f"{s.max_tokens}, template `{s.template}`, seed {s.seed}")
    out += ["", "Each row's full report: `<row>/report.html` beside this file ("
            + ", ".join(f"`{r.run_dir}`" for r in sweep.rows) + ").", ""]
    return "\n".join(out)


def write_sweep(sweep: SweepResults, out: Path) -> None:
    """Write sweep.json, sweep.md and sweep.html (each replaced atomically: a reader never sees half)."""
    from rlvr_eval.scoring.sweep_html import render_sweep_html

    out.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (SWEEP_JSON_FILE, sweep.model_dump_json(indent=2) + "\n"),
        (SWEEP_MD_FILE, render_sweep_markdown(sweep)),
        (SWEEP_HTML_FILE, render_sweep_html(sweep)),
    ):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / name)
