"""The real ``rlvr-train`` CLI: a 2-step one-shot run on the tiny model, one-line errors, plot, rank."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from rlvr_train.cli import main
from rlvr_train.rank import rank_examples

SMALL = ["--steps", "2", "--batch-size", "2", "--rollouts", "4", "--max-tokens", "6", "--eval-tasks",
         "--quiet"]


def test_one_shot_writes_a_loadable_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "run"
    code = main(["one-shot", "--model", str(tiny_model_dir), "--problem", "What is 3+4?", "--answer", "7",
                 "--output-dir", str(out), "--save-every", "1", *SMALL])
    assert code == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    model = AutoModelForCausalLM.from_pretrained(out / "checkpoint-2")
    tokenizer = AutoTokenizer.from_pretrained(out / "checkpoint-2")
    assert model.config.vocab_size == len(tokenizer)
    assert (out / "checkpoint-1").is_dir()  # --save-every 1
    trained = dict(model.named_parameters())
    start = dict(AutoModelForCausalLM.from_pretrained(tiny_model_dir).named_parameters())
    assert any(not torch.equal(trained[k], start[k]) for k in start)  # the run changed the weights

    # continue the same run for one more step: nothing repeated
    base = ["one-shot", "--model", str(tiny_model_dir), "--problem", "What is 3+4?", "--answer", "7",
            "--output-dir", str(out), *SMALL]
    assert main([*base, "--steps", "3"]) == 2  # refuses to overwrite without --resume
    assert main([*base, "--steps", "3", "--resume"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]

    # plot the run we just made
    assert main(["plot", str(out)]) == 0
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _no_chat_template_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    (dst / "chat_template.jinja").unlink(missing_ok=True)
    config_path = dst / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("chat_template", None)
    config_path.write_text(json.dumps(config))
    return dst


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing_model", "model path not found"),
        ("empty_data", "holds no examples"),
        ("bad_reference", "cannot grade reference answer"),
        ("no_chat_template", "no chat template"),
        ("problem_without_answer", "--problem needs --answer"),
        ("run_without_config", "run needs --config"),
        ("bad_config_value", "temperature"),
        ("unknown_eval_task", "unknown task"),
    ],
)
def test_errors_are_one_line_exit_2(
    case: str, needle: str, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "run")
    model = str(tiny_model_dir)
    inline = ["--problem", "What is 3+4?", "--answer", "7"]
    argv = {
        "missing_model": ["one-shot", "--model", str(tmp_path / "nope"), *inline, "--output-dir", out,
                          *SMALL],
        "empty_data": ["one-shot", "--model", model, "--data", str(tmp_path / "empty.jsonl"), "--output-dir",
                       out, *SMALL],
        "bad_reference": ["one-shot", "--model", model, "--problem", "Q?", "--answer", "\\frac{",
                          "--output-dir", out, *SMALL],
        "no_chat_template": ["one-shot", "--model", str(tmp_path / "nochat"), *inline, "--template", "chat",
                             "--output-dir", out, *SMALL],
        "problem_without_answer": ["one-shot", "--model", model, "--problem", "Q?", "--output-dir", out],
        "run_without_config": ["run", "--model", model],
        "bad_config_value": ["one-shot", "--model", model, *inline, "--temperature", "-1",
                             "--output-dir", out],
        "unknown_eval_task": ["one-shot", "--model", model, *inline, "--output-dir", out,
                              "--eval-tasks", "no_such_task", "--steps", "1"],
    }[case]
    (tmp_path / "empty.jsonl").write_text("\n")
    if case == "no_chat_template":
        _no_chat_template_model(tiny_model_dir, tmp_path / "nochat")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rlvr-train: error: ") and "\n" not in err
    assert needle in err


def _write_metrics(run: Path, histories: dict[str, list[float]]) -> None:
    run.mkdir()
    steps = len(next(iter(histories.values())))
    with (run / "metrics.jsonl").open("w") as fh:
        for s in range(steps):
            acc = {k: v[s] for k, v in histories.items()}
            fh.write(json.dumps({"kind": "train", "step": s + 1, "accuracy": sum(acc.values()) / len(acc),
                                 "example_accuracy": acc}) + "\n")
            fh.write(json.dumps({"kind": "eval", "step": s + 1, "eval_accuracy": 0.1 * s}) + "\n")


def test_rank_orders_by_accuracy_variance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    # variances: flip 0.25, half 0.0625, solved 0, never 0 (ties: higher mean first)
    _write_metrics(run, {"solved": [1, 1, 1, 1], "flip": [0, 1, 0, 1], "half": [0, 0.5, 0, 0.5],
                         "never": [0, 0, 0, 0]})
    scores = rank_examples(run)
    assert [s.index for s in scores] == ["flip", "half", "solved", "never"]
    assert scores[0].variance == pytest.approx(0.25) and scores[1].variance == pytest.approx(0.0625)
    assert main(["rank", str(run), "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "flip" in lines[1] and "half" in lines[2]


def test_plot_from_metrics_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _write_metrics(run, {"0": [0, 0.5, 1, 1]})
    assert main(["plot", str(run), "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_plot_and_rank_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(tmp_path / "none")]) == 2
    assert main(["rank", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.count("rlvr-train: error: no metrics file") == 2


def test_tiny_model_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import AutoModelForCausalLM

    assert main(["tiny-model", str(tmp_path / "tiny")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "tiny")
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "tiny").config.num_hidden_layers == 2


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(tiny_model_dir: Path, tmp_path: Path) -> None:
    """A real SIGKILL at an arbitrary point (maybe mid-checkpoint): --resume loses and repeats nothing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    argv = ["one-shot", "--model", str(tiny_model_dir), "--problem", "What is 3+4?", "--answer", "7",
            "--output-dir", str(out), "--batch-size", "2", "--rollouts", "4", "--max-tokens", "6",
            "--eval-tasks", "--quiet", "--save-every", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rlvr_train.cli", *argv, "--steps", "200"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = out / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not metrics.exists() or metrics.read_text().count("\n") < 5):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert main([*argv, "--steps", "9", "--resume"]) == 0
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == list(range(1, 10))
