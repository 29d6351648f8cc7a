"""sweep.html: the sweep table and its curves as inline SVG line charts (no scripts, nothing fetched).

x is the training step when every row has one (else the row order), y is percent; the selected
checkpoint is marked by a dashed vertical line. Every point carries a ``<title>`` tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence

from rlvr_eval.scoring.report_html import _e, html_page
from rlvr_eval.scoring.report_md import DASH, label, pct
from rlvr_eval.scoring.sweep_report import BEST_MARK, SweepResults, cell, selection_summary

PALETTE = ("#3b7dd8", "#e07b39", "#2e9e5b", "#9b59b6", "#d9534f", "#17a2b8", "#8c6d31", "#e377c2")
AVG_COLOUR = "#1d2327"
Series = tuple[str, str, list[float | None], float]
"""(name, colour, one value per row or None, stroke width)."""


def _positions(sweep: SweepResults) -> tuple[list[float], list[str]]:
    steps = [r.point.step for r in sweep.rows]
    if steps and all(s is not None for s in steps):
        return [float(s) for s in steps if s is not None], [str(s) for s in steps]
    return [float(i) for i in range(len(sweep.rows))], [r.point.name for r in sweep.rows]


def line_chart(
    sweep: SweepResults, series: Sequence[Series], title: str, x_title: str = "step"
) -> str:
    """Lines of percentages over the sweep's rows, with the selected row marked."""
    xs, x_labels = _positions(sweep)
    left, top, width, height = 44, 10, 600, 220
    lo, hi = min(xs, default=0.0), max(xs, default=1.0)
    span = (hi - lo) or 1.0

    def px(x: float) -> float:
        return left + width * (x - lo) / span if len(xs) > 1 else left + width / 2

    def py(value: float) -> float:
        return top + height * (1 - value)

    parts = [f'<svg class="chart" width="{left + width + 20}" height="{top + height + 44}" role="img" '
             f'aria-label="{_e(title)}">']
    for tick in range(0, 101, 25):
        y = py(tick / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#e3e6e9"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick}</text>')
    shown = range(0, len(xs), max(1, len(xs) // 12))  # at most ~12 x labels
    for i in shown:
        parts.append(f'<text x="{px(xs[i]):.1f}" y="{top + height + 16}" font-size="11" '
                     f'text-anchor="middle">{_e(x_labels[i])}</text>')
    parts.append(f'<text x="{left + width / 2}" y="{top + height + 36}" font-size="11" '
                 f'text-anchor="middle">{_e(x_title)}</text>')
    if sweep.best is not None:
        x = px(xs[[r.point.name for r in sweep.rows].index(sweep.best)])
        parts.append(f'<line class="best" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + height}" '
                     f'stroke="#1d2327" stroke-dasharray="4 3">'
                     f"<title>selected: {_e(sweep.best)}</title></line>")
    for name, colour, values, stroke in series:
        points = [(px(x), py(v), i) for i, (x, v) in enumerate(zip(xs, values, strict=True)) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{stroke}"/>')
        for x, y, i in points:
            value = values[i]
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{stroke + 1.5}" fill="{colour}">'
                         f"<title>{_e(name)}, {_e(sweep.rows[i].point.name)}: {pct(value)}</title></circle>")
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="sw" style="background:{c}"></i>{_e(n)}</span>' for n, c, _, _ in series
    )
    return f"<h3>{_e(title)}</h3>" + "".join(parts) + f'<div class="legend">{legend}</div>'


def _per_task(sweep: SweepResults, field: str, average: str) -> list[Series]:
    series: list[Series] = [
        (label(t), PALETTE[i % len(PALETTE)],
         [getattr(r.tasks[t], field) if t in r.tasks else None for r in sweep.rows], 1.5)
        for i, t in enumerate(sweep.tasks)
    ]
    if len(sweep.tasks) > 1:
        series.append(("Avg (selection)", AVG_COLOUR, [getattr(r, average) for r in sweep.rows], 3.0))
    return series


def sweep_table(sweep: SweepResults) -> str:
    head = "".join(
        f"<th>{_e(label(t))}<br><small>strict / lenient / present / format</small></th>" for t in sweep.tasks
    )
    rows = []
    for r in sweep.rows:
        cells = "".join(f"<td>{cell(r.tasks.get(t))}</td>" for t in sweep.tasks)
        best = r.point.name == sweep.best
        name = _e(r.point.name) + (f" {BEST_MARK}" if best else "")
        link = f'<a href="{_e(r.run_dir)}/report.html">{name}</a>'
        step = DASH if r.point.step is None else r.point.step
        rows.append(f'<tr{" class=best" if best else ""}><td>{step}</td><td>{link}</td>{cells}'
                    f"<td>{pct(r.average)}</td></tr>")
    return (f'<table id="sweep"><tr><th>Step</th><th>Model</th>{head}<th>Avg</th></tr>'
            f'{"".join(rows)}</table>')


def render_sweep_html(sweep: SweepResults) -> str:
    """The whole sweep.html."""
    averages: list[Series] = [
        ("strict", PALETTE[0], [r.strict_average for r in sweep.rows], 2.0),
        ("lenient", PALETTE[1], [r.lenient_average for r in sweep.rows], 2.0),
        ("format ok", PALETTE[2], [r.format_average for r in sweep.rows], 2.0),
        ("answer present", PALETTE[3], [r.present_average for r in sweep.rows], 2.0),
    ]
    body = (
        f"<h1>Sweep: {_e(sweep.title)}</h1><p><b>{_e(selection_summary(sweep))}</b></p>"
        '<p class="meta">Cells: strict / lenient / answer present / format ok (% of samples). '
        f"Avg: the {_e(sweep.score_mode)} score averaged over the selection benchmarks. "
        "Step 0 is the model before training.</p>"
        f"{sweep_table(sweep)}<h2>Curves (%)</h2>"
        + line_chart(sweep, _per_task(sweep, "score", "average"), f"{sweep.score_mode} score per benchmark")
        + line_chart(sweep, averages, "strict, lenient, answer present and format ok (selection average)")
        + line_chart(sweep, _per_task(sweep, "format_rate", "format_average"), "format ok per benchmark")
    )
    css = "tr.best td{background:#fff4d6;font-weight:600}"
    return html_page(f"rlvr-eval sweep: {sweep.title}", body, css)
