"""Markdown reports: the paper-style score table (one row per run, one column per benchmark, Avg)
and the format-vs-content table that shows how much of a score is formatting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rlvr_eval.scoring.results import RunResults, TaskMetrics

BENCHMARK_LABELS = {
    "math500": "MATH500",
    "aime24": "AIME24",
    "amc23": "AMC23",
    "minerva_math": "Minerva",
    "olympiadbench": "OlympiadBench",
    "aime25": "AIME25",
    "gsm8k": "GSM8K",
    "arc_easy": "ARC-E",
    "arc_challenge": "ARC-C",
}
"""Column headers as the paper prints them; other tasks keep their registry name."""

DASH = "–"


def label(task: str) -> str:
    return BENCHMARK_LABELS.get(task, task)


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage string; a dash for a missing value."""
    return DASH if value is None else f"{100 * value:.{digits}f}"


def distinct(labels: Sequence[str]) -> list[str]:
    """The labels with repeats told apart: the second "run" becomes "run (2)", and so on."""
    seen: dict[str, int] = {}
    out = []
    taken = set(labels)
    for text in labels:
        seen[text] = seen.get(text, 0) + 1
        candidate, count = text, seen[text]
        while count > 1 and (candidate := f"{text} ({count})") in taken:
            count += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def unique_names(paths: Sequence[Path]) -> list[str]:
    """Short, distinct row labels for directories: the last path component, with as many parent
    components as it takes to tell two apart (``a/eval``, ``b/eval``); the same path twice gets " (2)"."""
    parts = [p.expanduser().resolve().parts for p in paths]
    depth = [1] * len(parts)
    while True:
        names = ["/".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        # Same label for different paths; the same path given twice is left to distinct().
        pairs = list(zip(names, parts, strict=True))
        clashing = [
            i for i, (name, path) in enumerate(pairs)
            if depth[i] < len(path) and any(n == name and q != path for n, q in pairs)
        ]
        if not clashing:
            return distinct(names)
        for i in clashing:
            depth[i] += 1


def task_columns(runs: Sequence[RunResults]) -> list[str]:
    """Benchmarks present in any run, in paper order first, then in order of appearance."""
    seen: list[str] = []
    for run in runs:
        seen.extend(t for t in run.tasks if t not in seen)
    paper = [t for t in BENCHMARK_LABELS if t in seen]
    return paper + [t for t in seen if t not in paper]


def row_average(run: RunResults, columns: Sequence[str]) -> tuple[float | None, bool]:
    """Mean of the run's scores over ``columns``; the flag says whether some column was missing."""
    scores = [run.tasks[t].score for t in columns if t in run.tasks]
    if not scores:
        return None, True
    return sum(scores) / len(scores), len(scores) < len(columns)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align_first_left: int = 1) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(":---" if i < align_first_left else "---:" for i in range(len(header))) + "|")
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Keep a cell on one line and stop a '|' in a run name from breaking the table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render_score_table(runs: Sequence[RunResults]) -> str:
    """Paper-style table of headline scores (percent): one row per run, one column per benchmark, Avg."""
    columns = task_columns(runs)
    rows = []
    incomplete = False
    for run in runs:
        avg, partial = row_average(run, columns)
        incomplete |= partial and avg is not None
        cells = [pct(run.tasks[t].score) if t in run.tasks else DASH for t in columns]
        rows.append([run.run_name, *cells, pct(avg) + ("*" if partial and avg is not None else "")])
    text = _table(["Run", *(label(t) for t in columns), "Avg"], rows)
    if incomplete:
        text += "\n\n\\* average over the benchmarks this run has."
    return text


def render_format_table(runs: Sequence[RunResults]) -> str:
    """Format vs content per run and benchmark (percent of samples)."""
    header = ["Run", "Benchmark", "Strict", "Lenient", "Answer present", "Format ok"]
    header += ["Strict among formatted", "Truncated", "Looping"]
    rows = []
    for run in runs:
        for task in task_columns([run]):
            m = run.tasks[task]
            rows.append([
                run.run_name, label(task), pct(m.strict_accuracy), pct(m.lenient_accuracy),
                pct(m.answer_present_rate), pct(m.format_rate), pct(m.content_accuracy_formatted),
                pct(m.truncation_rate), pct(m.repetition_rate),
            ])
    return _table(header, rows, align_first_left=2)


PRESENT_NOTE = (
    "Answer present: the reference is stated somewhere in the completion (any box, math span, answer "
    "phrase or stated value), whatever its final answer; answer present minus lenient is the share that "
    "found the answer but did not give it as the final one."
)


def _detail_rows(metrics: TaskMetrics) -> list[str]:
    pass_at = ", ".join(f"pass@{k} {pct(v)}" for k, v in sorted(metrics.pass_at_k.items()))
    parts = [
        f"{metrics.score_mode} avg@{metrics.n_samples} {pct(metrics.score)} "
        f"(95% CI {pct(metrics.ci_low)}–{pct(metrics.ci_high)})",
        pass_at,
    ]
    if metrics.maj_at_k is not None:
        parts.append(f"maj@{metrics.n_samples} {pct(metrics.maj_at_k)}")
    if metrics.mean_tokens is not None:
        parts.append(f"mean tokens {metrics.mean_tokens:.0f}")
    return parts


def render_run_markdown(results: RunResults) -> str:
    """The full report.md of one run: scores, format vs content, per-benchmark details, breakdowns."""
    out = [
        f"# {results.run_name}",
        "",
        f"Model `{results.model}`, backend `{results.backend}`, headline score: **{results.score_mode}** "
        "(strict: the requested format and the content must be right; lenient: the content, whatever "
        "the format). Scores are percentages.",
        "",
        "## Scores",
        "",
        render_score_table([results]),
        "",
        "## Format vs content",
        "",
        render_format_table([results]),
        "",
        PRESENT_NOTE,
        "",
        "## Details",
        "",
    ]
    for task in task_columns([results]):
        m = results.tasks[task]
        settings = results.task_settings.get(task)
        how = (
            f"; n={settings.n}, temperature {settings.temperature}, max_tokens {settings.max_tokens}, "
            f"template `{settings.template}`" if settings else ""
        )
        out.append(f"- **{label(task)}** ({m.n_items} items{how}): " + "; ".join(_detail_rows(m)))
    for task in task_columns([results]):
        for field, groups in results.tasks[task].breakdown.items():
            out += ["", f"### {label(task)} by {field}", ""]
            rows = [
                [value, str(g.n_items), pct(g.accuracy), pct(g.strict_accuracy), pct(g.lenient_accuracy)]
                for value, g in groups.items()
            ]
            out.append(_table([field.capitalize(), "Items", "Score", "Strict", "Lenient"], rows))
    versions = ", ".join(f"{k} {v}" for k, v in results.versions.items())
    out += ["", f"<sub>results schema v{results.schema_version}; {versions}; {results.created_at}</sub>", ""]
    return "\n".join(out)
