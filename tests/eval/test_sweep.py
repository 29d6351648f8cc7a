"""``sweep`` on a hand-made training run whose checkpoints answer a known number of items right.

An injected backend reads each "checkpoint"'s skill from its config.json, so every score, the
selected checkpoint and the resume behaviour are known in advance; the real verifier grades. The real
CLI on a real ``rlvr-train`` run is in test_sweep_cli.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rlvr_eval.cli import main
from rlvr_eval.config import EvalConfig
from rlvr_eval.generation import Completion, SamplingParams
from rlvr_eval.scoring.records import SAMPLES_FILE
from rlvr_eval.scoring.results import RunResults, load_results
from rlvr_eval.scoring.sweep_report import SweepResults, build_sweep, select_tasks, selection_summary
from rlvr_eval.sweep import discover_points, run_sweep

ROWS = [{"problem": f"What is {i} + {i}?", "answer": str(2 * i), "unique_id": f"t/{i}"} for i in range(6)]

# Items answered right (items 0..right-1), whether the answer is boxed (the requested format) and whether
# a wrong answer follows working that states the right value (answer present, not delivered).
SKILLS = {
    "base": (1, False, True), "checkpoint-10": (2, True, False), "checkpoint-20": (4, True, False),
    "checkpoint-30": (3, True, False),
}
# Expected, of 6 items: base strict 0, lenient 1/6 (16.7), answer present 6/6, format 0; checkpoint-20
# is the best (66.7).


def write_model(path: Path, right: int, boxed: bool, stated: bool = False) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"right": right, "boxed": boxed, "stated": stated}))
    return path


@pytest.fixture
def train_run(tmp_path: Path) -> Path:
    """An rlvr-train-like run: config.yaml naming the initial model, three checkpoints, debris."""
    run = tmp_path / "run"
    base = write_model(tmp_path / "initial", *SKILLS["base"])
    for name in ("checkpoint-10", "checkpoint-20", "checkpoint-30"):
        write_model(run / name, *SKILLS[name])
    (run / ".checkpoint-40.tmp").mkdir()  # a save in progress
    (run / "checkpoint-50").mkdir()  # no model inside
    (run / "config.yaml").write_text(f"model: {base}\nsteps: 30\n")
    return run


@pytest.fixture
def settings(tmp_path: Path) -> EvalConfig:
    data = tmp_path / "data" / "math500"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return EvalConfig(model="unused", tasks=["math500"], data_dir=str(data.parent), verify_workers=1)


class SkillBackend:
    """Answers "What is i + i?" right for i < right, boxed or in words, as the model's config.json says."""

    name = "skill"

    def __init__(self, model: str, log: list[str]) -> None:
        skill = json.loads((Path(model) / "config.json").read_text())
        self.right, self.boxed, self.stated, self.log = skill["right"], skill["boxed"], skill["stated"], log

    def generate(self, prompts: list[str], params: SamplingParams, *, progress=None):
        out = []
        for prompt in prompts:
            i = int(re.search(r"What is (\d+)", prompt).group(1))
            answer = 2 * i if i < self.right else 2 * i + 1
            text = f"so \\boxed{{{answer}}}" if self.boxed else f"The answer is {answer}"
            if self.stated and i >= self.right:
                text = f"First ${i} + {i} = {2 * i}$. Hmm, no. {text}"
            self.log.append(prompt)
            out.append([Completion(text=text, finish_reason="stop", num_tokens=3)] * params.n)
        return out

    def close(self) -> None:
        pass


def sweep(points, settings: EvalConfig, out: Path, built: list[str], generated: list[str]) -> SweepResults:
    def factory(config: EvalConfig) -> SkillBackend:
        built.append(config.run_name)
        return SkillBackend(config.model, generated)

    return run_sweep(points, settings, out, title="run", backend_factory=factory, show_progress=False,
                     log=lambda line: None)


def test_sweep_scores_every_checkpoint_and_marks_the_best(train_run: Path, settings: EvalConfig) -> None:
    out = train_run / "sweep"
    built: list[str] = []
    generated: list[str] = []
    result = sweep(discover_points([train_run]), settings, out, built, generated)
    assert [r.point.name for r in result.rows] == ["base", "checkpoint-10", "checkpoint-20", "checkpoint-30"]
    assert [r.point.step for r in result.rows] == [0, 10, 20, 30]
    assert [r.point.baseline for r in result.rows] == [True, False, False, False]
    assert result.rows[0].point.model == str((train_run.parent / "initial").resolve())
    assert result.rows[1].point.model == str((train_run / "checkpoint-10").resolve())
    assert result.best == "checkpoint-20"
    assert [r.average for r in result.rows] == pytest.approx([1 / 6, 2 / 6, 4 / 6, 3 / 6])
    assert result.selection_tasks == ["math500"] and "1 of the paper's six" in result.selection_note
    assert built == ["base", "checkpoint-10", "checkpoint-20", "checkpoint-30"] and len(generated) == 24

    saved = SweepResults.model_validate_json((out / "sweep.json").read_text())
    assert saved.best == "checkpoint-20"
    assert saved.row("base").tasks["math500"].lenient == pytest.approx(1 / 6)
    md = (out / "sweep.md").read_text()
    assert "| 0 | base | 0.0 / 16.7 / 100.0 / 0.0 | 16.7 |" in md
    assert "| 20 | checkpoint-20 ★ | 66.7 / 66.7 / 66.7 / 100.0 | 66.7 |" in md
    assert saved.row("base").tasks["math500"].answer_present == pytest.approx(1.0)
    assert "Selected ★ checkpoint-20 (step 20): average 66.7, +50.0 over the baseline" in md
    page = (out / "sweep.html").read_text()
    assert "<script" not in page and "http" not in page
    assert page.count("<svg") == 3 and "<title>selected: checkpoint-20</title>" in page
    assert "<title>MATH500, checkpoint-30: 50.0</title>" in page  # a point on the score curve
    for name in ("base", "checkpoint-20"):
        assert (out / name / "results.json").is_file() and (out / name / "report.html").is_file()


def test_rerun_skips_finished_checkpoints_and_resumes_a_half_finished_one(
    train_run: Path, settings: EvalConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = train_run / "sweep"
    first = sweep(discover_points([train_run]), settings, out, [], [])

    built: list[str] = []
    generated: list[str] = []
    monkeypatch.chdir(train_run)  # the same run named by another path: still finished
    again = sweep(discover_points([Path(".")]), settings, out, built, generated)
    assert built == [] and generated == []  # nothing loaded, nothing generated
    assert [r.average for r in again.rows] == [r.average for r in first.rows]

    half = out / "checkpoint-20"
    (half / "results.json").unlink()  # killed mid-checkpoint: 4 of its 6 samples saved
    lines = (half / SAMPLES_FILE).read_text().splitlines(keepends=True)
    (half / SAMPLES_FILE).write_text("".join(lines[:4]))
    resumed = sweep(discover_points([train_run]), settings, out, built, generated)
    assert built == ["checkpoint-20"] and len(generated) == 2
    assert resumed.best == "checkpoint-20" and resumed.row("checkpoint-20").average == pytest.approx(4 / 6)


def test_every_keeps_multiples_and_the_newest(train_run: Path) -> None:
    names = [p.name for p in discover_points([train_run], every=20)]
    assert names == ["base", "checkpoint-20", "checkpoint-30"]
    assert discover_points([train_run], no_baseline=True)[0].name == "checkpoint-10"
    explicit = discover_points([train_run], baseline="Qwen/Qwen2.5-Math-1.5B")[0]
    assert explicit.model == "Qwen/Qwen2.5-Math-1.5B" and explicit.baseline


def test_model_directories_are_rows_named_after_them(tmp_path: Path, settings: EvalConfig) -> None:
    a = write_model(tmp_path / "a" / "checkpoint-40", 2, True)
    b = write_model(tmp_path / "b" / "checkpoint-20", 5, True)
    plain = write_model(tmp_path / "b" / "final", 1, True)
    points = discover_points([a, b])
    assert [(p.name, p.step) for p in points] == [("checkpoint-20", 20), ("checkpoint-40", 40)]  # by step
    points = discover_points([a, plain, b])
    assert [p.step for p in points] == [40, None, 20]  # given order when a model has no step
    assert [p.name for p in points] == ["checkpoint-40", "final", "checkpoint-20"]
    same = discover_points([a, write_model(tmp_path / "c" / "checkpoint-40", 3, True)])
    assert [p.name for p in same] == ["a/checkpoint-40", "c/checkpoint-40"]
    result = sweep(points, settings, tmp_path / "out", [], [])
    assert result.best == "checkpoint-20"  # no baseline: every model is a candidate


@pytest.mark.parametrize(
    ("tasks", "selection", "needle"),
    [
        (["math500", "aime24", "amc23", "minerva_math", "olympiadbench", "aime25"], 6, "the paper's rule"),
        (["math500", "aime24", "gsm8k"], 2, "the 2 of the paper's six benchmarks this sweep ran (MATH500, "),
        (["gsm8k", "arc_easy"], 2, "none of the paper's six benchmarks ran"),
    ],
)
def test_selection_uses_the_paper_benchmarks_it_has(tasks: list[str], selection: int, needle: str) -> None:
    chosen, note = select_tasks(tasks)
    assert len(chosen) == selection and needle in note
    assert ("GSM8K shown, not averaged" in note) == (tasks == ["math500", "aime24", "gsm8k"])


def test_ties_go_to_the_earliest_checkpoint_and_the_baseline_is_never_selected(
    train_run: Path, settings: EvalConfig, tmp_path: Path
) -> None:
    result = sweep(discover_points([train_run]), settings, tmp_path / "out", [], [])
    rows = [(r.point, r.run_dir, _results(tmp_path / "out" / r.run_dir)) for r in result.rows]
    tied = build_sweep("t", [rows[0], rows[2], rows[2]])  # the same results twice: the first wins
    assert tied.best == "checkpoint-20"
    only_base = build_sweep("t", [rows[0]])  # the best average, but not a checkpoint of the run
    assert only_base.best is None and "nothing selected" in selection_summary(only_base)


def _results(run_dir: Path) -> RunResults:
    return load_results(run_dir)


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("no_checkpoints", "no checkpoint-<step> directories with a saved model in"),
        ("not_a_model", "is neither an rlvr-train run directory"),
        ("every_zero", "--every must be at least 1"),
        ("no_config_model", "records no initial model; pass --baseline MODEL or --no-baseline"),
        ("missing_initial", "does not exist here; pass --baseline MODEL or --no-baseline"),
        ("two_runs", "sweep takes one run directory, or a list of model directories"),
    ],
)
def test_errors_are_one_line(case: str, needle: str, train_run: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    (empty / "checkpoint-5").mkdir(parents=True)  # a run whose only checkpoint holds no model
    argv = {
        "no_checkpoints": [str(empty)],
        "not_a_model": [str(train_run / "checkpoint-10"), str(tmp_path)],
        "every_zero": [str(train_run), "--every", "0"],
        "no_config_model": [str(train_run)],
        "missing_initial": [str(train_run)],
        "two_runs": [str(train_run), str(empty)],
    }[case]
    if case == "no_config_model":
        (train_run / "config.yaml").write_text("steps: 3\n")
    if case == "missing_initial":
        (train_run / "config.yaml").write_text("model: /nowhere/model\n")
    assert main(["sweep", *argv, "--tasks", "math500"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlvr-eval: error: ") and "\n" not in err and needle in err
