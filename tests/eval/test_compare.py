"""Run comparison: deltas split into the format part and the part beyond format."""

from __future__ import annotations

import pytest

from rlvr_eval.scoring.compare import AVG, compare_runs, render_compare_markdown
from rlvr_eval.scoring.results import RunResults, TaskMetrics


def metrics(task: str, strict: float, lenient: float, format_rate: float = 0.5) -> TaskMetrics:
    return TaskMetrics(
        task=task, n_items=10, n_samples=1, score_mode="lenient", score=lenient, ci_low=0.0, ci_high=1.0,
        strict_accuracy=strict, lenient_accuracy=lenient, format_rate=format_rate,
        content_accuracy_formatted=None, truncation_rate=0.0, repetition_rate=0.0,
    )


def run(name: str, **tasks: tuple[float, float]) -> RunResults:
    return RunResults(
        run_name=name, model=name, backend="fake",
        tasks={t: metrics(t, strict, lenient) for t, (strict, lenient) in tasks.items()},
    )


def test_delta_splits_into_format_and_beyond_format():
    base = run("base", math500=(0.20, 0.50), aime24=(0.10, 0.10))
    trained = run("pi1", math500=(0.60, 0.60), aime24=(0.15, 0.20))
    deltas = {d.task: d for d in compare_runs(base, trained)}
    math = deltas["math500"]
    assert math.strict_delta == pytest.approx(0.40)
    assert math.content_delta == pytest.approx(0.10)  # more right answers whatever the format
    assert math.format_delta == pytest.approx(0.30)  # the rest is boxing answers that were right already
    assert math.score_delta == pytest.approx(0.10)  # headline is lenient here
    aime = deltas["aime24"]
    assert aime.format_delta == pytest.approx(-0.05)  # lenient rose more than strict
    avg = deltas[AVG]
    assert avg.strict_delta == pytest.approx((0.40 + 0.05) / 2)
    assert avg.format_delta + avg.content_delta == pytest.approx(avg.strict_delta)
    for d in deltas.values():
        assert d.format_delta + d.content_delta == pytest.approx(d.strict_delta)


def test_pure_format_fix_has_no_gain_beyond_format():
    base = run("base", math500=(0.30, 0.70))
    boxed = run("format-only", math500=(0.70, 0.70))
    (d, _avg) = compare_runs(base, boxed)
    assert d.content_delta == pytest.approx(0.0)
    assert d.format_delta == pytest.approx(0.40)


def test_only_common_benchmarks_are_compared():
    base = run("base", math500=(0.2, 0.3), gsm8k=(0.5, 0.5))
    other = run("other", math500=(0.4, 0.4), aime25=(0.1, 0.1))
    assert [d.task for d in compare_runs(base, other)] == ["math500", AVG]
    assert compare_runs(run("a", gsm8k=(0.1, 0.1)), run("b", aime24=(0.1, 0.1))) == []
    text = render_compare_markdown([base, other])
    assert "Not in both runs (left out): AIME25, GSM8K." in text


def test_markdown_has_a_table_per_run_against_the_baseline():
    base = run("base", math500=(0.20, 0.50))
    fmt = run("format-reward", math500=(0.55, 0.60))
    outcome = run("outcome-reward", math500=(0.70, 0.74))
    text = render_compare_markdown([base, fmt, outcome])
    assert "## format-reward vs base" in text and "## outcome-reward vs base" in text
    assert "| MATH500 | 50.0 | 60.0 | +10.0 | +35.0 | +25.0 | +10.0 |" in text
    assert "| MATH500 | 50.0 | 74.0 | +24.0 | +50.0 | +26.0 | +24.0 |" in text
    assert sum(line.startswith("| Avg |") for line in text.splitlines()) == 2  # one delta row per run
    assert "| Run | MATH500 | Avg |" in text and "| outcome-reward | 74.0 | 74.0 |" in text  # all runs
    with pytest.raises(ValueError, match="at least two"):
        render_compare_markdown([base])
