"""The real ``rlvr-eval sweep`` CLI on a real ``rlvr-train`` run: the tiny model trained 3 steps with a
checkpoint per step, scored on 4 MATH500 items with the hf backend, then rerun (nothing generated) and
resumed after a checkpoint's run was cut short."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rlvr_eval.cli import main as eval_main
from rlvr_train.cli import main as train_main


@pytest.fixture
def one_thread() -> object:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 1 thread is faster than 2 on this tiny model
    yield
    torch.set_num_threads(threads)


def _train(tiny_model_dir: Path, run: Path) -> None:
    """The tiny model trained 3 steps on one problem, a checkpoint per step, no evaluation."""
    assert train_main([
        "one-shot", "--model", str(tiny_model_dir), "--problem", "What is 3+4?", "--answer", "7",
        "--steps", "3", "--save-every", "1", "--eval-every", "0", "--batch-size", "2", "--rollouts", "4",
        "--max-tokens", "6", "--output-dir", str(run), "--quiet",
    ]) == 0


def _snapshot(sweep_dir: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(sweep_dir.glob("*/*"))}


@pytest.mark.usefixtures("one_thread")
def test_sweep_a_three_checkpoint_training_run(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    _train(tiny_model_dir, run)
    capsys.readouterr()
    argv = ["sweep", str(run), "--backend", "hf", "--tasks", "math500", "--limit", "4", "--max-tokens", "16",
            "--data-dir", str(data_dir), "--no-progress"]
    assert eval_main(argv) == 0
    captured = capsys.readouterr()
    table = captured.out.split("\n\n")[0].splitlines()
    assert table[0] == "| Step | Model | MATH500 | Avg |"
    assert [line.split(" | ")[0] for line in table[2:]] == ["| 0", "| 1", "| 2", "| 3"]
    assert sum("★" in line for line in table) == 1
    assert "[1/4] base (step 0, " in captured.err and "[4/4] checkpoint-3: avg " in captured.err

    out = run / "sweep"
    sweep = json.loads((out / "sweep.json").read_text())
    rows = sweep["rows"]
    assert [r["point"]["name"] for r in rows] == ["base", "checkpoint-1", "checkpoint-2", "checkpoint-3"]
    assert rows[0]["point"]["baseline"] and rows[0]["point"]["model"] == str(tiny_model_dir.resolve())
    assert rows[1]["point"]["model"] == str((run / "checkpoint-1").resolve())
    averages = [r["average"] for r in rows[1:]]
    best = rows[1 + averages.index(max(averages))]["point"]["name"]  # the first of the best averages
    assert sweep["best"] == best and f"| {best} ★ |" in (out / "sweep.md").read_text()
    cells = [r["tasks"]["math500"] for r in rows]
    assert all(c.keys() == {"score", "strict", "lenient", "format_rate", "answer_present"} for c in cells)
    assert all(c["answer_present"] >= c["lenient"] for c in cells)
    page = (out / "sweep.html").read_text()
    assert page.count("<svg") == 3 and f"<title>selected: {best}</title>" in page
    for r in rows:
        results = json.loads((out / r["run_dir"] / "results.json").read_text())
        assert results["tasks"]["math500"]["n_items"] == 4
        assert results["task_settings"]["math500"]["max_tokens"] == 16

    before = _snapshot(out)
    assert eval_main(argv) == 0  # a finished sweep: every checkpoint skipped, no file touched
    assert capsys.readouterr().err.count("already scored") == 4
    assert _snapshot(out) == before

    samples = out / "checkpoint-2" / "samples.jsonl"
    kept = samples.read_text().splitlines(keepends=True)[:2]
    samples.write_text("".join(kept))  # as if killed after two items
    (out / "checkpoint-2" / "results.json").unlink()
    assert eval_main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("already scored") == 3 and "[3/4] checkpoint-2 (step 2, " in err
    lines = samples.read_text().splitlines(keepends=True)
    assert len(lines) == 4 and lines[:2] == kept


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm is not installed")
@pytest.mark.usefixtures("one_thread")
def test_vllm_sweep_holds_one_engine_at_a_time(tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    """Each checkpoint gets its own vLLM engine, shut down before the next starts: the sweep's process
    tree never holds two engine-core processes (polled while it runs)."""
    psutil = pytest.importorskip("psutil")
    run = tmp_path / "run"
    _train(tiny_model_dir, run)
    command = [
        sys.executable, "-m", "rlvr_eval.cli", "sweep", str(run), "--every", "2", "--backend", "vllm",
        "--tasks", "math500", "--limit", "2", "--max-tokens", "8", "--data-dir", str(data_dir), "--dtype",
        "float32", "--enforce-eager", "--max-model-len", "256", "--gpu-memory-utilization", "0.1",
        "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    sweep = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    parent, engines, peak = psutil.Process(sweep.pid), set(), 0
    while sweep.poll() is None:
        live = set()
        for child in parent.children(recursive=True):
            try:
                if "EngineCore" in child.name() or "EngineCore" in " ".join(child.cmdline()):
                    live.add(child.pid)
            except psutil.Error:  # exited between listing and reading
                continue
        engines |= live
        peak = max(peak, len(live))
        time.sleep(0.1)
    out = sweep.stdout.read() if sweep.stdout else ""
    assert sweep.returncode == 0, out
    assert len(engines) == 3 and peak == 1  # base, checkpoint-2, checkpoint-3: one after another
    assert json.loads((run / "sweep" / "sweep.json").read_text())["best"] in {"checkpoint-2", "checkpoint-3"}
