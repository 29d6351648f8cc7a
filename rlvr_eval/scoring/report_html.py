"""A self-contained HTML report: inline CSS, inline SVG charts, a filterable list of failures.

No external assets (fonts, scripts, images), so the file opens offline, attaches to an issue and
archives with the run. Every piece of model output is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from rlvr_eval.scoring.metrics import is_repetition_loop
from rlvr_eval.scoring.records import SampleRecord
from rlvr_eval.scoring.report_md import PRESENT_NOTE, label, pct, row_average, task_columns
from rlvr_eval.scoring.results import RunResults

MAX_FAILURES = 2000  # failures listed in the page; more would make it slow to open
HEAD_CHARS, TAIL_CHARS = 1500, 3000  # shown parts of a long completion (the answer is at the end)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;
color:#1d2327;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.meta{color:#555}table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #d0d7de;padding:4px 9px;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f5f7}.chart{margin:8px 0}.legend span{margin-right:14px}
.sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:middle}
.filters{display:flex;gap:10px;align-items:center;margin:8px 0;flex-wrap:wrap}
.failure{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:8px 10px}
.failure .head{font-weight:600}.tag{font-size:12px;border-radius:9px;padding:1px 7px;margin-left:6px;
background:#eef1f4}.tag.format{background:#ffe2c2}.tag.content{background:#f8d0d0}
.tag.loop{background:#e4d7fb}.tag.present{background:#d3ecd9}pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;
padding:8px;border-radius:4px;max-height:420px;overflow:auto;margin:4px 0}
.kv{display:grid;grid-template-columns:90px 1fr;gap:2px 8px}.kv b{color:#555;font-weight:500}
.hidden{display:none}
"""

_JS = """
function applyFilters(){
  var task=document.getElementById('f-task').value, kind=document.getElementById('f-kind').value;
  var text=document.getElementById('f-text').value.toLowerCase(), shown=0;
  document.querySelectorAll('.failure').forEach(function(el){
    var ok=(!task||el.dataset.task===task)&&(!kind||el.dataset.kinds.split(' ').indexOf(kind)>=0)
      &&(!text||el.textContent.toLowerCase().indexOf(text)>=0);
    el.classList.toggle('hidden',!ok); if(ok){shown++;}
  });
  document.getElementById('f-count').textContent=shown+' shown';
}
document.querySelectorAll('.filters select,.filters input').forEach(function(el){
  el.addEventListener('input',applyFilters);
});
applyFilters();
"""

# Shares of samples in the format-vs-content stacked bars, bottom to top.
_SEGMENTS = (
    ("correct", "#2e9e5b", "right answer, right format"),
    ("format_only", "#f0a04b", "right answer, wrong format"),
    ("content", "#d9534f", "right format, wrong answer"),
    ("neither", "#b5bcc4", "no usable answer in the format, wrong"),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_page(title: str, body: str, extra_css: str = "") -> str:
    """A standalone page in the reports' style: inline CSS, no scripts or external assets."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}{extra_css}</style></head><body>{body}</body></html>\n"
    )


def _clip(text: str) -> str:
    """Long completions keep their head and tail (the final answer sits at the end)."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS + 100:
        return text
    skipped = len(text) - HEAD_CHARS - TAIL_CHARS
    return f"{text[:HEAD_CHARS]}\n\n[... {skipped} characters omitted ...]\n\n{text[-TAIL_CHARS:]}"


def score_table(results: RunResults) -> str:
    columns = task_columns([results])
    avg, _ = row_average(results, columns)
    head = "".join(f"<th>{_e(label(t))}</th>" for t in columns)
    cells = "".join(f"<td>{pct(results.tasks[t].score)}</td>" for t in columns)
    return (
        f'<table id="scores"><tr><th>Run</th>{head}<th>Avg</th></tr>'
        f"<tr><td>{_e(results.run_name)}</td>{cells}<td>{pct(avg)}</td></tr></table>"
    )


def format_table(results: RunResults) -> str:
    rows = []
    for t in task_columns([results]):
        m = results.tasks[t]
        values = (
            m.strict_accuracy, m.lenient_accuracy, m.answer_present_rate, m.format_rate,
            m.content_accuracy_formatted, m.truncation_rate, m.repetition_rate,
        )
        rows.append(f"<tr><td>{_e(label(t))}</td>" + "".join(f"<td>{pct(v)}</td>" for v in values) + "</tr>")
    names = ("Benchmark", "Strict", "Lenient", "Answer present", "Format ok", "Strict among formatted",
             "Truncated", "Looping")
    head = "".join(f"<th>{h}</th>" for h in names)
    return f'<table id="format"><tr>{head}</tr>{"".join(rows)}</table>'


def accuracy_chart(results: RunResults) -> str:
    """Horizontal bars of each benchmark's score with its 95% bootstrap CI as a whisker."""
    columns = task_columns([results])
    left, width, bar_h, gap = 130, 560, 18, 10
    height = len(columns) * (bar_h + gap) + 30
    parts = [f'<svg class="chart" width="{left + width + 80}" height="{height}" role="img" '
             f'aria-label="accuracy per benchmark">']
    for tick in range(0, 101, 20):
        x = left + width * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#e3e6e9"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">{tick}</text>')
    for i, t in enumerate(columns):
        m = results.tasks[t]
        y = i * (bar_h + gap) + 4
        w = width * m.score
        lo, hi = left + width * m.ci_low, left + width * m.ci_high
        mid = y + bar_h / 2
        parts += [
            f'<text x="{left - 8}" y="{mid + 4:.1f}" font-size="12" text-anchor="end">{_e(label(t))}</text>',
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#3b7dd8">'
            f"<title>{_e(label(t))}: {pct(m.score)}</title></rect>",
            f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" stroke="#1d2327"/>',
            f'<text x="{left + max(w, hi - left) + 6:.1f}" y="{mid + 4:.1f}" font-size="12">'
            f"{pct(m.score)}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def _segments(records: Sequence[SampleRecord]) -> dict[str, float]:
    counts = dict.fromkeys((s[0] for s in _SEGMENTS), 0)
    for r in records:
        fmt, right = r.verdict.format_ok, r.is_correct("lenient")
        key = "correct" if fmt and right else "format_only" if right else "content" if fmt else "neither"
        counts[key] += 1
    total = max(len(records), 1)
    return {k: v / total for k, v in counts.items()}


def format_chart(results: RunResults, records_by_task: dict[str, list[SampleRecord]]) -> str:
    """One stacked bar per benchmark: right+formatted / right, unformatted / formatted, wrong / neither."""
    columns = [t for t in task_columns([results]) if records_by_task.get(t)]
    left, width, bar_h, gap = 130, 560, 18, 10
    height = len(columns) * (bar_h + gap) + 8
    parts = [f'<svg class="chart" width="{left + width + 20}" height="{height}" role="img" '
             f'aria-label="format versus content">']
    for i, t in enumerate(columns):
        y = i * (bar_h + gap) + 4
        x = float(left)
        parts.append(f'<text x="{left - 8}" y="{y + bar_h / 2 + 4:.1f}" font-size="12" '
                     f'text-anchor="end">{_e(label(t))}</text>')
        shares = _segments(records_by_task[t])
        for key, color, meaning in _SEGMENTS:
            share = shares[key]
            w = width * share
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                         f"<title>{_e(label(t))}: {_e(meaning)} {pct(share)}%</title></rect>")
            x += w
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="sw" style="background:{color}"></i>{_e(meaning)}</span>'
        for _, color, meaning in _SEGMENTS
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _kinds(r: SampleRecord) -> list[str]:
    kinds = ["format" if not r.verdict.format_ok else "content"]
    if r.verdict.answer_present and not r.is_correct("lenient"):
        kinds.append("present")  # the reference is stated somewhere, just not as the final answer
    if r.truncated:
        kinds.append("truncated")
    if is_repetition_loop(r):
        kinds.append("loop")
    return kinds


def failure_list(records_by_task: dict[str, list[SampleRecord]], max_failures: int = MAX_FAILURES) -> str:
    """Every strict failure (up to ``max_failures``) with question, completion, extracted and reference."""
    failures = [r for recs in records_by_task.values() for r in recs if not r.is_correct("strict")]
    total = len(failures)
    failures = failures[:max_failures]
    blocks = []
    for r in failures:
        kinds = _kinds(r)
        tags = "".join(f'<span class="tag {k}">{_e(k)}</span>' for k in kinds)
        reference = r.reference if isinstance(r.reference, str) else " | ".join(r.reference)
        question = r.question if r.question is not None else r.prompt
        extracted = r.extracted if r.extracted is not None else "(none)"
        where = f"{_e(label(r.task))} · item {_e(r.item_id)} · sample {r.sample_index}"
        finish = f"{len(r.completion)} chars, finish: {_e(r.finish_reason)}"
        blocks.append(
            f'<div class="failure" data-task="{_e(r.task)}" data-kinds="{_e(" ".join(kinds))}">'
            f'<div class="head">{where}{tags}</div>'
            f'<div class="kv"><b>reference</b><span class="ref">{_e(reference)}</span>'
            f'<b>extracted</b><span class="ext">{_e(extracted)}</span>'
            f"<b>verdict</b><span>format {_e(r.verdict.format.value)}, content {_e(r.verdict.content.value)}"
            f"{'; ' + _e(r.verdict.reason) if r.verdict.reason else ''}</span></div>"
            f"<details><summary>question</summary><pre>{_e(question)}</pre></details>"
            f"<details><summary>completion ({finish})</summary>"
            f"<pre>{_e(_clip(r.completion))}</pre></details></div>"
        )
    tasks = "".join(f'<option value="{_e(t)}">{_e(label(t))}</option>' for t in records_by_task)
    kind_options = "".join(
        f'<option value="{k}">{k}</option>' for k in ("format", "content", "present", "truncated", "loop")
    )
    note = f" (first {max_failures} of {total} shown)" if total > max_failures else ""
    return (
        f'<div class="filters"><label>benchmark <select id="f-task"><option value="">all</option>{tasks}'
        f'</select></label><label>kind <select id="f-kind"><option value="">all</option>{kind_options}'
        f'</select></label><label>text <input id="f-text" type="search" placeholder="search"></label>'
        f'<span id="f-count"></span><span>{total} failures{_e(note)}</span></div>'
        f'<div id="failures">{"".join(blocks)}</div>'
    )


def render_html(
    results: RunResults, records_by_task: dict[str, list[SampleRecord]], *, extra_sections: str = ""
) -> str:
    """The whole report.html of one run as a string; ``extra_sections`` (HTML) go before the failures."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>rlvr-eval: {_e(results.run_name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(results.run_name)}</h1>"
        f'<p class="meta">model <code>{_e(results.model)}</code> · backend {_e(results.backend)} · '
        f"headline score: {_e(results.score_mode)} · {_e(results.created_at)}</p>"
        f"<h2>Scores (%)</h2>{score_table(results)}{accuracy_chart(results)}"
        "<h2>Format vs content (% of samples)</h2>"
        "<p>Strict needs the requested format and the right content; lenient credits the right content "
        "whatever the format. The gap between them is what format correction alone can recover. "
        f"{_e(PRESENT_NOTE)} Failures tagged <i>present</i> are those.</p>"
        f"{format_table(results)}{format_chart(results, records_by_task)}{extra_sections}"
        f"<h2>Failures</h2>{failure_list(records_by_task)}"
        f"<script>{_JS}</script></body></html>\n"
    )
