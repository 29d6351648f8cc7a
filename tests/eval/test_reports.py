"""Markdown and HTML reports built from hand-made records."""

from __future__ import annotations

import re

import pytest

from rlvr_eval.runner import build_results
from rlvr_eval.scoring.records import SampleRecord
from rlvr_eval.scoring.report_html import failure_list, render_html
from rlvr_eval.scoring.report_md import render_format_table, render_run_markdown, render_score_table
from rlvr_eval.scoring.results import RunResults
from rlvr_eval.verifier.schema import ContentStatus, FormatStatus, Verdict

EVIL = '<script>alert("x")</script><img src="https://evil.example/x.png"> <a href="http://t.co">'


def rec(task: str, item: str, idx: int, fmt: bool, right: bool, completion="c", present: bool | None = None,
        **meta) -> SampleRecord:
    verdict = Verdict(
        correct=fmt and right, format=FormatStatus.OK if fmt else FormatStatus.NO_ANSWER, format_ok=fmt,
        extracted="7" if right else "8", content=ContentStatus.EQUAL if right else ContentStatus.DIFFERENT,
        reward=float(fmt and right), answer_present=present,
    )
    return SampleRecord(
        task=task, item_id=item, sample_index=idx, question=f"Q{item} <b>bold?</b>", prompt="p",
        completion=completion, finish_reason="stop", reference="7", extracted=verdict.extracted,
        verdict=verdict, metadata=meta,
    )


@pytest.fixture
def records() -> dict[str, list[SampleRecord]]:
    math = [
        rec("math500", "a", 0, True, True, present=True, subject="Algebra", level=1),
        rec("math500", "b", 0, False, True, present=True, subject="Algebra", level=2),  # right but unboxed
        # wrong final answer, the right one stated on the way (answer present)
        rec("math500", "c", 0, True, False, completion=EVIL, present=True, subject="Geometry", level=2),
        rec("math500", "d", 0, False, False, present=False, subject="Geometry", level=5),
    ]
    aime = [rec("aime24", "x", i, True, i < 2) for i in range(4)]  # 2 of 4 samples right; presence unchecked
    return {"math500": math, "aime24": aime}


def results_for(records: dict[str, list[SampleRecord]], name="base", mode="lenient") -> RunResults:
    return build_results(run_name=name, model=f"models/{name}", backend="fake", score_mode=mode, seed=0,
                         records_by_task=records)


def test_score_table_has_one_row_per_run_and_paper_columns(records):
    strict = results_for(records, "strict-run", mode="strict")
    lenient = results_for(records, "lenient-run")
    table = render_score_table([strict, lenient]).splitlines()
    assert table[0] == "| Run | MATH500 | AIME24 | Avg |"  # paper order, not insertion order
    assert table[2] == "| strict-run | 25.0 | 50.0 | 37.5 |"
    assert table[3] == "| lenient-run | 50.0 | 50.0 | 50.0 |"


def test_score_table_marks_partial_averages(records):
    full = results_for(records, "full")
    partial = results_for({"math500": records["math500"]}, "partial")
    text = render_score_table([full, partial])
    assert "| partial | 50.0 | – | 50.0* |" in text
    assert "average over the benchmarks this run has" in text


def test_format_table_splits_format_and_content(records):
    lines = render_format_table([results_for(records)]).splitlines()
    row = next(line for line in lines if "MATH500" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    # strict, lenient, answer present, format ok, strict among formatted, truncated, looping
    assert cells[2:] == ["25.0", "50.0", "75.0", "50.0", "50.0", "0.0", "0.0"]
    aime = next(line for line in lines if "AIME24" in line)
    assert [c.strip() for c in aime.strip("|").split("|")][4] == "–"  # never checked: not 0


def test_run_markdown_has_details_and_math500_breakdown(records):
    text = render_run_markdown(results_for(records))
    assert "## Format vs content" in text
    assert "### MATH500 by subject" in text and "| Algebra | 2 | 100.0 | 50.0 | 100.0 |" in text
    assert "### MATH500 by level" in text
    assert "pass@4 100.0" in text and "maj@4" in text  # AIME: 4 samples, 2 right
    assert "### AIME24 by" not in text


def test_html_is_self_contained_and_escaped(records):
    page = render_html(results_for(records), records)
    assert page.startswith("<!DOCTYPE html>")
    assert '<table id="scores">' in page and "<th>MATH500</th>" in page and "<td>50.0</td>" in page
    assert '<table id="format">' in page and page.count("<svg") == 2
    # no external assets: every src/href is local, no stylesheets or imports from elsewhere
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    # model output is escaped, never live markup
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>bold?</b>" not in page and "&lt;b&gt;bold?&lt;/b&gt;" in page
    assert page.count("<script>") == 1  # only the page's own filter script


def test_html_lists_every_strict_failure_with_its_evidence(records):
    page = render_html(results_for(records), records)
    failures = re.findall(r'<div class="failure" data-task="([^"]+)" data-kinds="([^"]+)">', page)
    assert sorted(failures) == sorted([
        # b: right but unboxed (present, but that is no news: not tagged); c: wrong, the answer stated
        ("math500", "format"), ("math500", "content present"), ("math500", "format"),
        ("aime24", "content"), ("aime24", "content"),
    ])
    assert '<option value="present">present</option>' in page
    assert '<span class="ref">7</span>' in page and '<span class="ext">8</span>' in page
    assert "5 failures" in page


def test_failure_list_is_capped_and_long_completions_clipped():
    many = {"aime24": [rec("aime24", str(i), 0, True, False, completion="x" * 20_000) for i in range(30)]}
    html = failure_list(many, max_failures=10)
    assert html.count('class="failure"') == 10
    assert "first 10 of 30 shown" in html
    assert "characters omitted" in html and "x" * 15_000 not in html
