"""Compare runs benchmark by benchmark, splitting each change into format and non-format parts.

For two runs A (baseline) and B, per benchmark:

- ``strict_delta = strict(B) - strict(A)``: the change of the score that needs the requested format;
- ``content_delta = lenient(B) - lenient(A)``: the change in right answers whatever their format,
  i.e. the gain *beyond format correction*;
- ``format_delta = strict_delta - content_delta``: the part explained by formatting alone
  (the gap between strict and lenient closing or opening);
- ``present_delta``: the change of the answer-present rate (the reference stated anywhere in the
  completion). A content gain with no present gain delivers answers the model already stated.

So ``strict_delta = format_delta + content_delta`` exactly. The 1-shot RLVR paper (arXiv 2504.20571)
also measures "gain beyond format correction" as outcome-reward run minus format-reward-only run:
``rlvr-eval compare FORMAT_RUN OUTCOME_RUN`` prints exactly that difference in its score column.

``load_comparison`` reads the runs, labels them, refuses runs whose numbers are not comparable
(``comparability``) unless forced, and counts per-item transitions (``transitions``) where both runs
have their samples.jsonl; ``render_compare_markdown`` and ``compare_html`` render the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from rlvr_eval.scoring.comparability import SettingDifference, check_comparable
from rlvr_eval.scoring.report_md import DASH, distinct, label, render_score_table, task_columns, unique_names
from rlvr_eval.scoring.results import RunResults, load_results
from rlvr_eval.scoring.transitions import Transitions, run_transitions, scored_records

AVG = "avg"
COMPARE_MD_FILE = "compare.md"
COMPARE_HTML_FILE = "compare.html"


class TaskDelta(BaseModel):
    """How one benchmark (or the average, task ``"avg"``) moved from the baseline to another run."""

    task: str
    baseline_score: float
    score: float
    score_delta: float
    strict_delta: float
    format_delta: float
    content_delta: float
    present_delta: float | None = None  # None: a run was not checked for answer present


def compare_runs(baseline: RunResults, other: RunResults) -> list[TaskDelta]:
    """Deltas for the benchmarks both runs have, in report order, then their average (task ``avg``)."""
    common = [t for t in task_columns([baseline, other]) if t in baseline.tasks and t in other.tasks]
    deltas = []
    for task in common:
        a, b = baseline.tasks[task], other.tasks[task]
        strict = b.strict_accuracy - a.strict_accuracy
        content = b.lenient_accuracy - a.lenient_accuracy
        present = None
        if a.answer_present_rate is not None and b.answer_present_rate is not None:
            present = b.answer_present_rate - a.answer_present_rate
        deltas.append(
            TaskDelta(
                task=task,
                baseline_score=a.score,
                score=b.score,
                score_delta=b.score - a.score,
                strict_delta=strict,
                format_delta=strict - content,
                content_delta=content,
                present_delta=present,
            )
        )
    if deltas:
        fields = [f for f in TaskDelta.model_fields if f != "task"]
        values = {f: [getattr(d, f) for d in deltas] for f in fields}
        means = {f: None if None in v else sum(v) / len(v) for f, v in values.items()}
        deltas.append(TaskDelta(task=AVG, **means))
    return deltas


@dataclass
class Pairing:
    """One run set against the baseline: its deltas, per-item transitions and setting differences."""

    other: RunResults
    deltas: list[TaskDelta]
    transitions: list[Transitions] | None  # None: a run has no samples.jsonl
    differences: list[SettingDifference] = field(default_factory=list)


@dataclass
class Comparison:
    """Everything ``rlvr-eval compare`` reports; runs carry their display labels as ``run_name``."""

    runs: list[RunResults]
    pairings: list[Pairing]
    warnings: list[str] = field(default_factory=list)

    @property
    def baseline(self) -> RunResults:
        return self.runs[0]


def load_comparison(
    paths: Sequence[Path], names: Sequence[str] | None = None, *, force: bool = False
) -> Comparison:
    """Read runs (directories or results.json files), label them, check they are comparable, pair them.

    Labels are ``names`` (one per run) or the run directories' names, made distinct either way.
    Raises ``IncomparableRunsError`` if settings differ and not ``force``.
    """
    if len(paths) < 2:
        raise ValueError("compare needs at least two runs (the first is the baseline)")
    if names is not None and len(names) != len(paths):
        raise ValueError(f"--run-name needs one name per run ({len(paths)} runs, {len(names)} names)")
    run_dirs = [p.parent if p.is_file() else p for p in paths]
    labels = distinct(list(names)) if names is not None else unique_names(run_dirs)
    runs = [load_results(p).model_copy(update={"run_name": n}) for p, n in zip(paths, labels, strict=True)]
    differences, warnings = check_comparable(runs, force=force)
    records = [scored_records(d, r) for d, r in zip(run_dirs, runs, strict=True)]
    pairings = []
    for other, other_records in zip(runs[1:], records[1:], strict=True):
        transitions = None
        if records[0] is not None and other_records is not None:
            transitions = run_transitions(runs[0], other, records[0], other_records)
        pairings.append(Pairing(other, compare_runs(runs[0], other), transitions,
                                differences.get(other.run_name, [])))
    if any(p.transitions is None for p in pairings):
        warnings.append("per-item transitions need each run's samples.jsonl; a run was given without it")
    return Comparison(runs, pairings, warnings)


def signed(x: float | None) -> str:
    """A fraction as signed percentage points; a dash for a missing value."""
    return DASH if x is None else f"{100 * x:+.1f}"


TRANSITION_COLUMNS = (
    ("format_fixed", "wrong→right: format only"),
    ("content_fixed", "wrong→right: content"),
    ("content_fixed_stated", "of which already stated"),
    ("content_fixed_new", "of which newly found"),
    ("broken", "right→wrong"),
    ("kept_right", "still right"),
    ("kept_wrong", "still wrong"),
)
"""Transition counts as the reports print them, in column order."""

_SPLIT_COLUMNS = ("content_fixed_stated", "content_fixed_new")  # need the baseline's answer_present

TRANSITIONS_NOTE = (
    "\"format only\": the baseline's final answer was already right, only not in the format; \"already "
    "stated\": its final answer was wrong or missing but it stated the reference somewhere (answer "
    "present); \"newly found\": it never stated it. Format only + already stated is the gain from "
    "delivering answers the baseline already had."
)


def transition_cell(t: Transitions, name: str) -> str:
    """A count, or a dash where the baseline was never checked for answer present (nothing to split)."""
    if name in _SPLIT_COLUMNS and t.content_fixed_unchecked == t.content_fixed and t.content_fixed:
        return DASH
    return str(getattr(t, name))


def transition_notes(transitions: list[Transitions]) -> list[str]:
    """Sentences under the table: gains from answers already present, unsplit gains, unpaired samples."""
    notes = []
    for t in transitions:
        gained = t.format_fixed + t.content_fixed
        if gained and not t.content_fixed_unchecked:
            notes.append(f"{label(t.task)}: {t.already_present} of {gained} gains came from answers the "
                         f"baseline already had ({t.content_fixed_new} newly found).")
    unchecked = [
        f"{label(t.task)} {t.content_fixed_unchecked}" for t in transitions if t.content_fixed_unchecked
    ]
    if unchecked:
        notes.append("Content gains whose baseline samples were not checked for answer present (samples "
                     "saved before rlvr checked it: rescore the baseline to split them): "
                     + ", ".join(unchecked) + ".")
    unpaired = [f"{label(t.task)} {t.unpaired}" for t in transitions if t.unpaired]
    if unpaired:
        notes.append("Samples in only one run (not paired): " + ", ".join(unpaired) + ".")
    return notes


def _transition_table(transitions: list[Transitions]) -> list[str]:
    head = " | ".join(title for _, title in TRANSITION_COLUMNS)
    out = [f"| Benchmark | Samples | {head} | Net | Δ strict |"]
    out.append("|:---|" + "---:|" * (len(TRANSITION_COLUMNS) + 3))
    for t in transitions:
        counts = " | ".join(transition_cell(t, name) for name, _ in TRANSITION_COLUMNS)
        strict = signed(t.net / t.pairs) if t.pairs else DASH
        out.append(f"| {label(t.task)} | {t.pairs} | {counts} | {t.net:+d} | {strict} |")
    for note in transition_notes(transitions):
        out += ["", note]
    return out


def _difference_lines(comparison: Comparison) -> list[str]:
    lines = []
    for pairing in comparison.pairings:
        for d in pairing.differences:
            lines.append(f"- {pairing.other.run_name}: {d.describe()}")
    if not lines:
        return []
    return [
        f"**Settings differ** (compared anyway with --force; the deltas below mix these changes with the "
        f"model's). Baseline {comparison.baseline.run_name} vs:",
        "",
        *lines,
        "",
    ]


def render_compare_markdown(comparison: Comparison | Sequence[RunResults]) -> str:
    """Score table, then per run against the baseline: deltas and per-item transitions."""
    if not isinstance(comparison, Comparison):
        runs = list(comparison)
        if len(runs) < 2:
            raise ValueError("compare needs at least two runs (the first is the baseline)")
        comparison = Comparison(runs, [Pairing(r, compare_runs(runs[0], r), None) for r in runs[1:]])
    baseline = comparison.baseline
    out = [f"# Comparison against {baseline.run_name}", "", *_difference_lines(comparison)]
    out += [
        render_score_table(comparison.runs),
        "",
        "Points (percentage). Δ strict = Δ format + Δ beyond format; Δ beyond format is the change in "
        "right answers whatever their format (lenient score), Δ format the part explained by formatting. "
        "Δ answer present: the change in completions that state the reference anywhere (final or not).",
    ]
    for pairing in comparison.pairings:
        other, deltas = pairing.other, pairing.deltas
        out += ["", f"## {other.run_name} vs {baseline.run_name}", ""]
        if not deltas:
            out.append("No benchmark in common.")
            continue
        out.append(
            f"| Benchmark | {baseline.run_name} | {other.run_name} | Δ score | Δ strict | Δ format "
            "| Δ beyond format | Δ answer present |"
        )
        out.append("|:---|---:|---:|---:|---:|---:|---:|---:|")
        for d in deltas:
            name = "Avg" if d.task == AVG else label(d.task)
            out.append(
                f"| {name} | {100 * d.baseline_score:.1f} | {100 * d.score:.1f} | {signed(d.score_delta)} "
                f"| {signed(d.strict_delta)} | {signed(d.format_delta)} | {signed(d.content_delta)} "
                f"| {signed(d.present_delta)} |"
            )
        only = sorted(set(baseline.tasks) ^ set(other.tasks))
        if only:
            out += ["", "Not in both runs (left out): " + ", ".join(label(t) for t in only) + "."]
        if pairing.transitions:
            out += [
                "",
                f"Per-item transitions, {baseline.run_name} → {other.run_name} (samples; right = strict: the "
                "requested format and the right answer). " + TRANSITIONS_NOTE,
                "",
                *_transition_table(pairing.transitions),
            ]
            sampled = [label(t.task) for t in pairing.transitions if other.tasks[t.task].n_samples > 1]
            if sampled:
                out += ["", f"{', '.join(sampled)}: several samples per item, sample i paired with sample i; "
                        "the split into gained and lost depends on that pairing, the net does not."]
    return "\n".join(out) + "\n"


def write_compare_reports(comparison: Comparison, out: Path) -> list[Path]:
    """Write compare.md and compare.html into ``out``; returns their paths."""
    from rlvr_eval.scoring.compare_html import render_compare_html

    out.mkdir(parents=True, exist_ok=True)
    md, page = out / COMPARE_MD_FILE, out / COMPARE_HTML_FILE
    md.write_text(render_compare_markdown(comparison), encoding="utf-8")
    page.write_text(render_compare_html(comparison), encoding="utf-8")
    return [md, page]
