"""The real ``rlvr-eval`` command line, run as a subprocess (``python -m rlvr_eval.cli``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROWS = [
    {"problem": f"What is {i} squared?", "solution": "", "answer": str(i * i), "subject": "Algebra",
     "level": 1 + i % 3, "unique_id": f"test/algebra/{i}.json"}
    for i in range(6)
]


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "RLVR_DATA_DIR"}
    full_env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    return subprocess.run(
        [sys.executable, "-m", "rlvr_eval.cli", *args], capture_output=True, text=True, input=stdin,
        env=full_env, timeout=120,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("rlvr-eval: error: ") and fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_tasks_lists_benchmarks_and_sources():
    proc = cli("tasks")
    assert proc.returncode == 0, proc.stderr
    assert "math500" in proc.stdout and "HuggingFaceH4/MATH-500" in proc.stdout
    assert "arc_challenge" in proc.stdout and "allenai/ai2_arc" in proc.stdout


def test_verify_prints_the_verdict_and_sets_the_exit_status():
    right = cli("verify", "--reference", "\\frac{1}{2}", "--completion", "so $\\boxed{0.5}$")
    assert right.returncode == 0, right.stderr
    verdict = json.loads(right.stdout)
    assert verdict["correct"] is True and verdict["format"] == "ok" and verdict["extracted"] == "0.5"

    wrong = cli("verify", "--reference", "2", "--completion", "\\boxed{200}")
    assert wrong.returncode == 1 and json.loads(wrong.stdout)["content"] == "different"

    unboxed = "The answer is 12."
    strict = cli("verify", "--reference", "12", "--completion", "-", stdin=unboxed)
    assert strict.returncode == 1 and json.loads(strict.stdout)["lenient_correct"] is True
    assert cli("verify", "--reference", "12", "--completion", unboxed, "--lenient").returncode == 0

    corrected = "First \\boxed{12}. No wait, \\boxed{13}."
    plain = cli("verify", "--reference", "12", "--completion", corrected)
    assert json.loads(plain.stdout)["answer_present"] is None
    found = cli("verify", "--reference", "12", "--completion", corrected, "--answer-present")
    assert found.returncode == 1 and json.loads(found.stdout)["answer_present"] is True


def test_verify_explain_and_lenient_fallback():
    proc = cli("verify", "--reference", "(-\\infty,-2)\\cup(4,\\infty)", "--completion",
               "so \\boxed{x<-2 \\text{ or } x>4}", "--explain")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("extraction: method=requested") and "span [10, 30)" in lines[0]
    assert any(line.startswith("answer:    list x < -2; x > 4") for line in lines)
    assert any(line.startswith("reference: union (-\\infty, -2) U (4, \\infty)") for line in lines)
    assert any("rule: intervals.compare" in line for line in lines)
    assert any(line.startswith("  decided by: fast path -> equal") for line in lines)
    assert lines[-2].startswith("verdict: correct=True")

    wrong = cli("verify", "--reference", "t", "--completion", "\\boxed{|t|}", "--explain")
    assert wrong.returncode == 1 and "-> different" in wrong.stdout

    mumbled = "hmm 16 hmm"  # a number, never stated as the answer
    assert json.loads(cli("verify", "--reference", "16", "--completion", mumbled, "--lenient").stdout)[
        "content"] == "not_checked"
    harness = cli("verify", "--reference", "16", "--completion", mumbled, "--lenient",
                  "--lenient-fallback", "last_number")
    assert harness.returncode == 0 and json.loads(harness.stdout)["extraction_method"] == "last_number"


def test_errors_are_one_line_and_exit_2(tmp_path: Path):
    data = tmp_path / "data"
    assert_one_line_error(
        cli("score", "some/model", "--backend", "hf", "--tasks", "nope", "--data-dir", str(data)),
        "unknown task 'nope'",
    )
    assert_one_line_error(
        cli("score", str(tmp_path / "no-such-model"), "--backend", "hf", "--tasks", "math500"),
        "model path does not exist",
    )
    # No local data and the hub unreachable (offline): a clear message, not a traceback.
    assert_one_line_error(
        cli("score", "Qwen/Qwen2.5-Math-1.5B", "--backend", "hf", "--tasks", "math500",
            "--output-dir", str(tmp_path / "run")),
        "could not load HuggingFaceH4/MATH-500",
    )
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("model: [unclosed\n")
    assert_one_line_error(cli("score", "--config", str(bad_yaml)), "not valid YAML")
    assert_one_line_error(cli("score", "m", "--n", "zero"), "invalid int value")
    assert_one_line_error(cli("score", "m", "--temperature", "-1"), "invalid EvalConfig settings: temp")
    assert_one_line_error(cli("rescore", str(tmp_path)), "no samples.jsonl")


def _predictions(path: Path, boxed: bool) -> Path:
    """Saved completions keyed by (task, item id): odd items right, even ones right but maybe unboxed."""
    lines = []
    for i, row in enumerate(ROWS):
        answer = row["answer"] if i % 3 else str(i * i + 1)
        text = f"so \\boxed{{{answer}}}" if (boxed or i % 2) else f"The answer is {answer}."
        lines.append({"task": "math500", "item_id": row["unique_id"], "sample_index": 0, "completion": text})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_score_rescore_and_compare_from_predictions(tmp_path: Path):
    data = tmp_path / "data" / "math500"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    runs = {}
    for name, boxed in (("base", False), ("boxed", True)):
        out = tmp_path / name
        proc = cli(
            "score", str(_predictions(tmp_path / f"{name}.jsonl", boxed)), "--backend", "predictions",
            "--tasks", "math500", "--data-dir", str(tmp_path / "data"), "--output-dir", str(out),
            "--run-name", name, "--verify-workers", "1", "--no-progress",
        )
        assert proc.returncode == 0, proc.stderr
        assert f"| {name} |" in proc.stdout
        runs[name] = json.loads((out / "results.json").read_text())
    base, boxed = runs["base"]["tasks"]["math500"], runs["boxed"]["tasks"]["math500"]
    # items 1..5 except 3 are right (4 of 6); in "base" items 0, 2, 4 are unboxed
    assert boxed["strict_accuracy"] == pytest.approx(4 / 6) == boxed["lenient_accuracy"]
    assert base["lenient_accuracy"] == pytest.approx(4 / 6)
    assert base["strict_accuracy"] == pytest.approx(2 / 6)  # right and boxed: items 1 and 5

    # rescore: break a saved verdict by hand, rescore repairs it and rewrites results.json
    samples = tmp_path / "base" / "samples.jsonl"
    lines = samples.read_text().splitlines()
    first = json.loads(lines[1])
    first["verdict"]["correct"] = not first["verdict"]["correct"]
    samples.write_text("\n".join([lines[0], json.dumps(first), *lines[2:]]) + "\n")
    (tmp_path / "base" / "results.json").unlink()
    proc = cli("rescore", str(tmp_path / "base"), "--verify-workers", "1")
    assert proc.returncode == 0, proc.stderr
    rescored = json.loads((tmp_path / "base" / "results.json").read_text())["tasks"]["math500"]
    assert rescored["strict_accuracy"] == pytest.approx(base["strict_accuracy"])
    assert (tmp_path / "base" / "report.html").read_text().count('class="failure"') == 4

    delta = tmp_path / "delta.md"
    proc = cli("compare", str(tmp_path / "base"), str(tmp_path / "boxed" / "results.json"),
               "--output", str(delta))
    assert proc.returncode == 0, proc.stderr
    # strict +33.3 = all format (+33.3), nothing beyond format (lenient unchanged)
    # ... and the same answers stated (answer present +0.0)
    assert "| MATH500 | 66.7 | 66.7 | +0.0 | +33.3 | +33.3 | +0.0 | +0.0 |" in proc.stdout
    assert delta.read_text() == proc.stdout
    assert base["answer_present_rate"] == pytest.approx(4 / 6)  # measured by default; items 0, 3 state 1, 10

    proc = cli("rescore", str(tmp_path / "boxed"), "--verify-workers", "1", "--no-answer-present")
    assert proc.returncode == 0, proc.stderr
    skipped = json.loads((tmp_path / "boxed" / "results.json").read_text())
    assert skipped["tasks"]["math500"]["answer_present_rate"] is None
    assert skipped["settings"]["answer_present"] is False


def test_yaml_config_is_loaded_and_flags_override_it(tmp_path: Path):
    """In-process (no subprocess needed): how ``score`` merges --config with flags."""
    from rlvr_eval.cli import _score_config, build_parser

    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        "model: Qwen/Qwen2.5-Math-1.5B\ntasks: [math500, aime24]\nbackend: vllm\ntensor_parallel_size: 2\n"
        "temperature: 0.6\nlimit: 50\n"
    )
    args = build_parser().parse_args(
        ["score", "--config", str(config_file), "--limit", "5", "--tasks", "aime24", "--base-url", "u1", "u2"]
    )
    config = _score_config(args)
    assert config.model == "Qwen/Qwen2.5-Math-1.5B" and config.backend == "vllm"
    assert config.tensor_parallel_size == 2 and config.temperature == 0.6  # from the file
    assert config.limit == 5 and config.tasks == ["aime24"]  # flags win
    assert config.base_url == ["u1", "u2"]
    assert config.n is None and config.template == "qwen25-math-cot" and config.seed == 0  # defaults

    config_file.write_text("model: m\nunknown_key: 1\n")
    with pytest.raises(ValueError, match="unknown_key"):
        _score_config(build_parser().parse_args(["score", "--config", str(config_file)]))


@pytest.mark.slow
def test_score_a_tiny_local_model_with_the_hf_backend(tiny_model_dir: Path, data_dir: Path, tmp_path: Path):
    """The whole path on a real (random, tiny) model: generation, verification, results and reports."""
    out = tmp_path / "run"
    args = ["score", str(tiny_model_dir), "--backend", "hf", "--tasks", "math500", "aime24", "--limit", "2",
            "--n", "2", "--temperature", "0.6", "--max-tokens", "12", "--data-dir", str(data_dir),
            "--output-dir", str(out), "--verify-workers", "1", "--no-progress"]
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results["tasks"]) == {"math500", "aime24"}
    for metrics in results["tasks"].values():
        assert (metrics["n_items"], metrics["n_samples"]) == (2, 2)
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 8
    samples = [json.loads(line) for line in lines]
    assert all(0 < s["num_tokens"] <= 12 for s in samples)
    assert all(s["prompt"].startswith("<|im_start|>system") for s in samples)  # qwen25-math-cot
    assert (out / "report.html").stat().st_size > 0

    again = cli(*args)  # resumed run: everything is saved, nothing is generated or appended
    assert again.returncode == 0, again.stderr
    assert (out / "samples.jsonl").read_text().splitlines() == lines
