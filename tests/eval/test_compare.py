"""``compare`` on hand-built runs whose per-item verdicts are known: deltas and transition counts worked
out by hand, refusals for every setting that makes numbers incomparable, ``--force``, and labels."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from rlvr_eval.cli import main
from rlvr_eval.config import EvalConfig
from rlvr_eval.generation import Completion, SamplingParams
from rlvr_eval.runner import VerifyRequest, score
from rlvr_eval.scoring.compare import AVG, compare_runs, load_comparison, render_compare_markdown
from rlvr_eval.scoring.report_md import distinct, unique_names
from rlvr_eval.scoring.results import RunResults, TaskMetrics
from rlvr_eval.verifier.schema import ContentStatus, FormatStatus, Verdict

ROWS = [{"problem": f"What is {i} + {i}?", "answer": str(2 * i), "unique_id": f"t/{i}"} for i in range(6)]

# One verdict per item (items 0..5): S = strict right (boxed and equal), L = lenient only (the right
# answer outside the requested format), W = wrong, P = wrong final answer but the reference stated on the
# way (answer present; S and L are present too, W is not).
BASE = "SLLWSW"
TRAINED = "SSWSWW"
# Transitions worked out from the two lines above, item by item:
#   0 S->S kept right, 1 L->S format only, 2 L->W kept wrong, 3 W->S content, 4 S->W broken, 5 W->W kept wrong
# strict: base 2/6, trained 3/6 -> +16.7; lenient (S or L): base 4/6, trained 3/6 -> -16.7;
# format part = strict - lenient deltas = +33.3.


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data" / "math500"
    root.mkdir(parents=True)
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return root.parent


class ScriptedBackend:
    """Returns, for item i, the verdict codes ``script[i]`` as completion texts (one per sample index)."""

    name = "scripted"

    def __init__(self, script: Sequence[str]) -> None:
        self.script = script

    def generate(self, prompts: list[str], params: SamplingParams, *, progress=None):
        out = []
        for prompt in prompts:
            item = int(re.search(r"What is (\d+)", prompt).group(1))
            codes = self.script[item]
            out.append([Completion(text=codes[params.sample_index(i) % len(codes)], finish_reason="stop",
                                   num_tokens=1) for i in range(params.n)])
        return out

    def close(self) -> None:
        pass


def code_verifier(requests: Sequence[VerifyRequest]) -> list[Verdict]:
    """The verdict each completion's code names (see BASE); answer_present only if the run asks for it."""
    verdicts = []
    for r in requests:
        fmt = FormatStatus.NO_ANSWER if r.completion == "L" else FormatStatus.OK
        content = ContentStatus.DIFFERENT if r.completion in "WP" else ContentStatus.EQUAL
        correct = r.completion == "S"
        present = r.completion != "W" if r.check_answer_present else None
        verdicts.append(Verdict(correct=correct, format=fmt, format_ok=fmt is FormatStatus.OK, extracted="x",
                                content=content, reward=float(correct), answer_present=present))
    return verdicts


def make_run(data_dir: Path, out: Path, script: Sequence[str], **settings) -> Path:
    config = EvalConfig(model="m", tasks=["math500"], data_dir=str(data_dir), output_dir=str(out), **settings)
    score(config, backend=ScriptedBackend(script), verifier=code_verifier, show_progress=False)
    return out


def edit_results(run: Path, change) -> None:
    path = run / "results.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_deltas_and_transitions_match_the_hand_count(data_dir: Path, tmp_path: Path) -> None:
    base = make_run(data_dir, tmp_path / "base", BASE)
    trained = make_run(data_dir, tmp_path / "trained", TRAINED)
    comparison = load_comparison([base, trained])
    (pairing,) = comparison.pairings
    math = {d.task: d for d in pairing.deltas}["math500"]
    assert math.strict_delta == pytest.approx(1 / 6)
    assert math.content_delta == pytest.approx(-1 / 6)
    assert math.format_delta == pytest.approx(2 / 6)
    assert math.score_delta == pytest.approx(-1 / 6)  # the headline is lenient by default
    (t,) = pairing.transitions
    assert (t.format_fixed, t.content_fixed, t.broken, t.kept_right, t.kept_wrong) == (1, 1, 1, 1, 2)
    assert (t.pairs, t.net, t.unpaired) == (6, 1, 0)

    # item 3 W -> S was never stated by the baseline: newly found
    assert (t.content_fixed_stated, t.content_fixed_new, t.already_present) == (0, 1, 1)

    text = render_compare_markdown(comparison)
    # answer present: base S, L, L, S = 4/6; trained S, S, S = 3/6
    assert "| MATH500 | 66.7 | 50.0 | -16.7 | +16.7 | +33.3 | -16.7 | -16.7 |" in text
    assert "| MATH500 | 6 | 1 | 1 | 0 | 1 | 1 | 1 | 2 | +1 | +16.7 |" in text
    assert "MATH500: 1 of 2 gains came from answers the baseline already had (1 newly found)." in text
    assert "several samples per item" not in text  # greedy: one sample per item, nothing to pair


def test_transitions_split_content_gains_by_answer_present(data_dir: Path, tmp_path: Path) -> None:
    # 0 P->S: stated before, delivered now; 1 W->S newly found; 2 L->S format only; 3, 5 W->W; 4 S->S
    base = make_run(data_dir, tmp_path / "base", "PWLWSW")
    trained = make_run(data_dir, tmp_path / "trained", "SSSWSW")
    pairing = load_comparison([base, trained]).pairings[0]
    (t,) = pairing.transitions
    assert (t.format_fixed, t.content_fixed, t.content_fixed_stated, t.content_fixed_new) == (1, 2, 1, 1)
    assert (t.content_fixed_unchecked, t.already_present, t.net) == (0, 2, 3)
    d = pairing.deltas[0]
    assert d.present_delta == pytest.approx(4 / 6 - 3 / 6)  # base P, L, S present; trained S x 4
    assert d.content_delta == pytest.approx(4 / 6 - 2 / 6)  # lenient: base L, S; trained S x 4

    # a baseline scored without the check: the content gains cannot be split, and the table says so
    old = make_run(data_dir, tmp_path / "old", "PWLWSW", answer_present=False)
    assert json.loads((old / "results.json").read_text())["tasks"]["math500"]["answer_present_rate"] is None
    comparison = load_comparison([old, trained])
    (t,) = comparison.pairings[0].transitions
    assert (t.content_fixed, t.content_fixed_unchecked, t.content_fixed_stated) == (2, 2, 0)
    assert comparison.pairings[0].deltas[0].present_delta is None
    text = render_compare_markdown(comparison)
    assert "| MATH500 | 6 | 1 | 2 | – | – | 0 | 1 | 2 | +3 | +50.0 |" in text
    assert "rescore the baseline to split them): MATH500 2." in text


def test_transitions_pair_samples_by_index(data_dir: Path, tmp_path: Path) -> None:
    # two samples per item: item 0 goes (S, L) -> (W, S): sample 0 broken, sample 1 format only;
    # item 1 goes (W, W) -> (L, S): sample 0 stays wrong, sample 1 fixed by content; the rest stay wrong.
    rest = ["WW"] * 4
    base = make_run(data_dir, tmp_path / "base", ["SL", "WW", *rest], n=2, temperature=0.6)
    trained = make_run(data_dir, tmp_path / "trained", ["WS", "LS", *rest], n=2, temperature=0.6)
    comparison = load_comparison([base, trained])
    (t,) = comparison.pairings[0].transitions
    assert (t.format_fixed, t.content_fixed, t.broken, t.kept_right, t.kept_wrong) == (1, 1, 1, 0, 9)
    assert t.pairs == 12
    assert "MATH500: several samples per item, sample i paired with sample i" in render_compare_markdown(
        comparison
    )


def test_pure_format_fix_has_no_gain_beyond_format(data_dir: Path, tmp_path: Path) -> None:
    base = make_run(data_dir, tmp_path / "base", "LLWWSW")
    boxed = make_run(data_dir, tmp_path / "boxed", "SSWWSW")
    pairing = load_comparison([base, boxed]).pairings[0]
    (d, _avg) = pairing.deltas
    assert d.content_delta == pytest.approx(0.0)
    assert d.format_delta == pytest.approx(2 / 6)
    assert pairing.transitions[0].format_fixed == 2 and pairing.transitions[0].content_fixed == 0


def _set_task_field(field: str, value) -> object:
    return lambda data: data["task_settings"]["math500"].update({field: value})


REFUSALS = {
    # name: (settings of the second run, edit of its results.json, the expected message fragment)
    "max_tokens": ({"max_tokens": 1024}, None, "differ in max_tokens (3072 vs 1024) for MATH500"),
    "temperature": ({"temperature": 0.6}, None, "differ in temperature (0.0 vs 0.6) for MATH500"),
    "n": ({"n": 2}, None, "differ in n (1 vs 2) for MATH500"),
    "top_p": ({"top_p": 0.9}, None, "differ in top_p (1.0 vs 0.9) for MATH500"),
    "template": ({"template": "qwen-boxed"}, None, "differ in template (qwen25-math-cot vs qwen-boxed)"),
    "items": ({"limit": 4}, None, "differ in items (6 items "),
    "score_mode": ({"score_mode": "strict"}, None, "differ in score_mode (lenient vs strict)"),
    "answer_format": ({}, _set_task_field("answer_format", "final_answer"),
                      "differ in answer_format (boxed vs final_answer) for MATH500"),
    "verifier": ({}, lambda data: data.update(verifier_fingerprint="0123456789ab"),
                 "differ in verifier (rlvr "),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refuses_runs_whose_settings_differ(
    case: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, edit, needle = REFUSALS[case]
    base = make_run(data_dir, tmp_path / "base", BASE)
    other = make_run(data_dir, tmp_path / "other", TRAINED, **settings)
    if edit is not None:
        edit_results(other, edit)
    assert main(["compare", str(base), str(other)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("rlvr-eval: error: runs base and other ") and "\n" not in err
    assert needle in err and err.endswith("; --force to compare anyway")
    assert captured.out == ""

    assert main(["compare", str(base), str(other), "--force"]) == 0
    out = capsys.readouterr().out
    head, table = out.split("| Run |", 1)
    assert "Settings differ" in head and needle.split("differ in ")[1] in head  # above the table
    assert "| other |" in table


def test_identical_settings_compare_without_notes(data_dir: Path, tmp_path: Path, capsys) -> None:
    base = make_run(data_dir, tmp_path / "base", BASE)
    other = make_run(data_dir, tmp_path / "other", TRAINED, seed=3)  # a different seed is comparable
    assert main(["compare", str(base), str(other)]) == 0
    captured = capsys.readouterr()
    assert "Settings differ" not in captured.out and captured.err == ""


def test_old_results_without_digests_compare_with_a_warning(data_dir: Path, tmp_path: Path, capsys) -> None:
    base = make_run(data_dir, tmp_path / "base", BASE)
    other = make_run(data_dir, tmp_path / "other", TRAINED)

    def make_old(data: dict) -> None:
        data.pop("verifier_fingerprint")
        for metrics in data["tasks"].values():
            metrics.pop("items_digest")

    for run in (base, other):
        edit_results(run, make_old)
    assert main(["compare", str(base), str(other)]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "no item digest for MATH500" in err and "verifier fingerprint" in err

    edit_results(other, lambda data: data["tasks"]["math500"].update(n_items=5))  # still caught by count
    assert main(["compare", str(base), str(other)]) == 2
    assert "differ in items (6 items vs 5 items) for MATH500" in capsys.readouterr().err


def test_labels_are_directory_names_made_distinct(data_dir: Path, tmp_path: Path, capsys) -> None:
    a = make_run(data_dir, tmp_path / "a" / "eval", BASE)
    b = make_run(data_dir, tmp_path / "b" / "eval", TRAINED)
    assert [r.run_name for r in load_comparison([a, b]).runs] == ["a/eval", "b/eval"]
    assert [r.run_name for r in load_comparison([a, a / "results.json"]).runs] == ["eval", "eval (2)"]
    assert [r.run_name for r in load_comparison([a, b], ["x", "x"]).runs] == ["x", "x (2)"]

    assert main(["compare", str(a), str(b), "--run-name", "base", "pi1"]) == 0
    out = capsys.readouterr().out
    assert "## pi1 vs base" in out and "| base | 66.7 | 66.7 |" in out
    assert main(["compare", str(a), str(b), "--run-name", "base"]) == 2
    assert "--run-name needs one name per run (2 runs, 1 names)" in capsys.readouterr().err


def test_distinct_and_unique_names() -> None:
    assert distinct(["a", "a", "a (2)", "b"]) == ["a", "a (3)", "a (2)", "b"]
    assert unique_names([Path("/r/x/eval"), Path("/r/y/eval"), Path("/r/pi1")]) == ["x/eval", "y/eval", "pi1"]
    assert unique_names([Path("/p/a/b"), Path("/q/a/b")]) == ["p/a/b", "q/a/b"]


def test_output_dir_writes_markdown_and_html_with_a_transition_chart(data_dir: Path, tmp_path: Path) -> None:
    base = make_run(data_dir, tmp_path / "base", BASE)
    trained = make_run(data_dir, tmp_path / "trained", TRAINED)
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(trained), "--output-dir", str(out)]) == 0
    md = (out / "compare.md").read_text()
    assert "| MATH500 | 6 | 1 | 1 | 0 | 1 | 1 | 1 | 2 | +1 | +16.7 |" in md
    page = (out / "compare.html").read_text()
    assert "<script" not in page and "http" not in page  # standalone, nothing fetched
    chart = page[page.index('aria-label="per-item transitions"'):]
    titles = re.findall(r"<title>([^<]*)</title>", chart)
    assert titles == [
        "MATH500: right→wrong 1 (16.7%)",
        "MATH500: wrong→right: format only 1 (16.7%)",
        "MATH500: wrong→right: content, already stated 0 (0.0%)",
        "MATH500: wrong→right: content, newly found 1 (16.7%)",
        "MATH500: wrong→right: content (baseline not checked for answer present) 0 (0.0%)",
    ]
    assert "net +1" in chart


def test_bare_results_files_compare_without_transitions(data_dir: Path, tmp_path: Path) -> None:
    base = make_run(data_dir, tmp_path / "base", BASE)
    trained = make_run(data_dir, tmp_path / "trained", TRAINED)
    (trained / "samples.jsonl").unlink()
    comparison = load_comparison([base, trained])
    assert comparison.pairings[0].transitions is None
    assert any("samples.jsonl" in w for w in comparison.warnings)
    assert "Per-item transitions" not in render_compare_markdown(comparison)


def metrics(task: str, strict: float, lenient: float) -> TaskMetrics:
    return TaskMetrics(
        task=task, n_items=10, n_samples=1, score_mode="lenient", score=lenient, ci_low=0.0, ci_high=1.0,
        strict_accuracy=strict, lenient_accuracy=lenient, format_rate=0.5,
        content_accuracy_formatted=None, truncation_rate=0.0, repetition_rate=0.0,
    )


def test_only_common_benchmarks_are_compared_and_averaged() -> None:
    base = RunResults(run_name="base", model="m", backend="b", tasks={
        "math500": metrics("math500", 0.2, 0.3), "aime24": metrics("aime24", 0.1, 0.1),
        "gsm8k": metrics("gsm8k", 0.5, 0.5)})
    other = RunResults(run_name="other", model="m", backend="b", tasks={
        "math500": metrics("math500", 0.4, 0.4), "aime24": metrics("aime24", 0.5, 0.6),
        "aime25": metrics("aime25", 0.1, 0.3)})
    deltas = compare_runs(base, other)
    assert [d.task for d in deltas] == ["math500", "aime24", AVG]
    assert deltas[-1].strict_delta == pytest.approx((0.2 + 0.4) / 2)  # over common benchmarks only
    assert deltas[-1].content_delta == pytest.approx((0.1 + 0.5) / 2)
    assert "Not in both runs (left out): AIME25, GSM8K." in render_compare_markdown([base, other])
