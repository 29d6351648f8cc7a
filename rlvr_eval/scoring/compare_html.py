"""compare.html: the comparison as a standalone page, with per-item transitions drawn as diverging bars.

Each benchmark gets one bar around a zero line: samples lost (right -> wrong) to the left, samples
gained to the right, split into "format only" (the content was already right), "already stated" (the
baseline stated the reference somewhere but not as its final answer) and "newly found". The part of a
gain that delivers answers the baseline already had is then visible at a glance.
"""

from __future__ import annotations

from rlvr_eval.scoring.compare import (
    AVG,
    TRANSITION_COLUMNS,
    TRANSITIONS_NOTE,
    Comparison,
    Pairing,
    signed,
    transition_cell,
    transition_notes,
)
from rlvr_eval.scoring.report_html import _e, html_page
from rlvr_eval.scoring.report_md import label, pct, row_average, task_columns
from rlvr_eval.scoring.transitions import Transitions

# (field, colour, side): losses to the left of zero, gains to the right: nearest zero the gains from
# answers the baseline already had (format only, then already stated), then the newly found ones.
_BARS = (
    ("broken", "#d9534f", -1), ("format_fixed", "#f0a04b", 1), ("content_fixed_stated", "#8fd19e", 1),
    ("content_fixed_new", "#2e9e5b", 1), ("content_fixed_unchecked", "#7aa6c2", 1),
)
_TITLES = {
    **dict(TRANSITION_COLUMNS),
    "content_fixed_stated": "wrong→right: content, already stated",
    "content_fixed_new": "wrong→right: content, newly found",
    "content_fixed_unchecked": "wrong→right: content (baseline not checked for answer present)",
}


def _score_table(comparison: Comparison) -> str:
    columns = task_columns(comparison.runs)
    head = "".join(f"<th>{_e(label(t))}</th>" for t in columns)
    rows = []
    for run in comparison.runs:
        avg, _ = row_average(run, columns)
        cells = "".join(f"<td>{pct(run.tasks[t].score) if t in run.tasks else '–'}</td>" for t in columns)
        rows.append(f"<tr><td>{_e(run.run_name)}</td>{cells}<td>{pct(avg)}</td></tr>")
    return f'<table id="scores"><tr><th>Run</th>{head}<th>Avg</th></tr>{"".join(rows)}</table>'


def _delta_table(comparison: Comparison, pairing: Pairing) -> str:
    base, other = comparison.baseline.run_name, pairing.other.run_name
    names = ("Benchmark", base, other, "Δ score", "Δ strict", "Δ format", "Δ beyond format",
             "Δ answer present")
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    rows = []
    for d in pairing.deltas:
        values = (pct(d.baseline_score), pct(d.score), signed(d.score_delta), signed(d.strict_delta),
                  signed(d.format_delta), signed(d.content_delta), signed(d.present_delta))
        name = "Avg" if d.task == AVG else label(d.task)
        rows.append(f"<tr><td>{_e(name)}</td>" + "".join(f"<td>{v}</td>" for v in values) + "</tr>")
    return f'<table class="deltas"><tr>{head}</tr>{"".join(rows)}</table>'


def _transition_table(transitions: list[Transitions]) -> str:
    head = "".join(f"<th>{_e(title)}</th>" for _, title in TRANSITION_COLUMNS)
    rows = []
    for t in transitions:
        counts = "".join(f"<td>{transition_cell(t, name)}</td>" for name, _ in TRANSITION_COLUMNS)
        rows.append(f"<tr><td>{_e(label(t.task))}</td><td>{t.pairs}</td>{counts}<td>{t.net:+d}</td></tr>")
    notes = "".join(f"<p>{_e(note)}</p>" for note in transition_notes(transitions))
    return (f'<table class="transitions"><tr><th>Benchmark</th><th>Samples</th>{head}<th>Net</th></tr>'
            f'{"".join(rows)}</table>{notes}')


def transition_chart(transitions: list[Transitions]) -> str:
    """Diverging bars, one per benchmark, in percent of its paired samples."""
    shown = [t for t in transitions if t.pairs]
    left, half, bar_h, gap = 130, 260, 18, 10
    reach = max((max(t.broken, t.format_fixed + t.content_fixed) / t.pairs for t in shown), default=0.0)
    scale = half / max(reach, 0.05)  # pixels per unit share; at least a +-5% axis
    zero = left + half
    height = len(shown) * (bar_h + gap) + 30
    parts = [f'<svg class="chart" width="{zero + half + 90}" height="{height}" role="img" '
             f'aria-label="per-item transitions">']
    parts.append(f'<line x1="{zero}" y1="0" x2="{zero}" y2="{height - 20}" stroke="#1d2327"/>')
    for tick in (-reach, -reach / 2, reach / 2, reach):
        x = zero + tick * scale
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">'
                     f"{100 * abs(tick):.0f}%</text>")
    for i, t in enumerate(shown):
        y = i * (bar_h + gap) + 4
        parts.append(f'<text x="{left - 8}" y="{y + bar_h / 2 + 4:.1f}" font-size="12" '
                     f'text-anchor="end">{_e(label(t.task))}</text>')
        offset = {-1: 0.0, 1: 0.0}
        for field, colour, side in _BARS:
            share = getattr(t, field) / t.pairs
            w = share * scale
            x = zero + offset[side] if side > 0 else zero - offset[side] - w
            offset[side] += w
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                         f"<title>{_e(label(t.task))}: {_e(_TITLES[field])} {getattr(t, field)} "
                         f"({pct(share)}%)</title></rect>")
        parts.append(f'<text x="{zero + offset[1] + 6:.1f}" y="{y + bar_h / 2 + 4:.1f}" font-size="12">'
                     f"net {t.net:+d}</text>")
    parts.append("</svg>")
    legend = "".join(f'<span><i class="sw" style="background:{c}"></i>{_e(_TITLES[f])}</span>'
                     for f, c, _ in _BARS)
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def render_compare_html(comparison: Comparison) -> str:
    """The whole compare.html."""
    base = comparison.baseline.run_name
    body = [f"<h1>Comparison against {_e(base)}</h1>"]
    differences = [(p.other.run_name, d) for p in comparison.pairings for d in p.differences]
    if differences:
        items = "".join(f"<li>{_e(name)}: {_e(d.describe())}</li>" for name, d in differences)
        body.append(f'<div class="warn"><b>Settings differ</b> (compared anyway with --force; the deltas '
                    f"mix these changes with the model's):<ul>{items}</ul></div>")
    if comparison.warnings:
        notes = "".join(f"<li>{_e(w)}</li>" for w in comparison.warnings)
        body.append(f'<ul class="meta">{notes}</ul>')
    body += ["<h2>Scores (%)</h2>", _score_table(comparison),
             "<p>Δ strict = Δ format + Δ beyond format; Δ beyond format is the change in right answers "
             "whatever their format (lenient), Δ format the part explained by formatting; Δ answer present "
             "the change in completions that state the reference anywhere.</p>"]
    for pairing in comparison.pairings:
        other = pairing.other.run_name
        body.append(f"<h2>{_e(other)} vs {_e(base)}</h2>")
        body.append(_delta_table(comparison, pairing) if pairing.deltas else "<p>No benchmark in common.</p>")
        if pairing.transitions:
            body += [
                f"<h3>Per-item transitions, {_e(base)} → {_e(other)}</h3>",
                "<p>Samples paired by benchmark, item and sample index; right = strict (the requested "
                f"format and the right answer). {_e(TRANSITIONS_NOTE)}</p>",
                _transition_table(pairing.transitions),
                transition_chart(pairing.transitions),
            ]
    css = ".warn{background:#fff4e0;border:1px solid #f0a04b;border-radius:6px;padding:6px 12px}"
    return html_page(f"rlvr-eval compare: {base}", "".join(body), css)
