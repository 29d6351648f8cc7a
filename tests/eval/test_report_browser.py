"""Render report.html in headless Chromium: it must draw (screenshot) and build its DOM offline.

Slow (a browser start per render). Skipped with a reason when Chromium is not installed
(Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rlvr_eval.runner import build_results
from rlvr_eval.scoring.records import SampleRecord
from rlvr_eval.scoring.report_html import render_html
from rlvr_eval.verifier.schema import ContentStatus, FormatStatus, Verdict

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
     if p and Path(p).exists()),
    None,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install -y chromium)"),
]

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _record(task: str, i: int, fmt: bool, right: bool) -> SampleRecord:
    verdict = Verdict(
        correct=fmt and right, format=FormatStatus.OK if fmt else FormatStatus.NO_ANSWER, format_ok=fmt,
        extracted=str(i), content=ContentStatus.EQUAL if right else ContentStatus.DIFFERENT,
        reward=float(fmt and right),
    )
    return SampleRecord(
        task=task, item_id=str(i), sample_index=0, question=f"What is {i}? <i>&</i>", prompt="p",
        completion=f"Thinking <script>document.title='pwned'</script> \\boxed{{{i}}}", finish_reason="stop",
        reference=str(i), extracted=str(i), verdict=verdict, metadata={"subject": "Algebra", "level": 1},
    )


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_report_renders_in_headless_chromium(tmp_path: Path):
    records = {
        "math500": [_record("math500", i, fmt=i % 3 != 0, right=i % 2 == 0) for i in range(40)],
        "aime24": [_record("aime24", i, fmt=True, right=i < 3) for i in range(10)],
    }
    results = build_results(run_name="browser-run", model="m", backend="fake", score_mode="lenient", seed=0,
                            records_by_task=records)
    page = tmp_path / "report.html"
    page.write_text(render_html(results, records), encoding="utf-8")
    url = page.as_uri()

    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.exists(), proc.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a blank 1280x2000 page compresses to a few KB

    pil = pytest.importorskip("PIL.Image")
    with pil.open(shot) as img:
        rgb = img.convert("RGB")
        colors = rgb.getcolors(maxcolors=1 << 16) or []
    assert len(colors) > 50  # text, tables and charts, not a uniform page
    bar_blue = (0x3B, 0x7D, 0xD8)
    assert any(c == bar_blue for _, c in colors)  # the accuracy chart was drawn

    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert '<table id="scores">' in html and "<th>MATH500</th>" in html
    assert html.count('class="failure') == sum(not r.verdict.correct for rs in records.values() for r in rs)
    assert "shown</span>" in html  # the inline filter script ran and counted the failures
    assert "<title>rlvr-eval: browser-run</title>" in html  # the escaped completion's script never ran
