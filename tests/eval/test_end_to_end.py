"""`rlvr-eval score` on a tiny local model over every benchmark, then `rescore` and `compare` on its output.

The same run goes through the `hf` backend (default suite) and the real `vllm` backend (vLLM's CPU build,
slow, in the environment made by scripts/setup_vllm_cpu.sh). The model is random, so scores are ~0: the
test checks the pipeline's contract (every benchmark scored with its own sampling defaults, both
format and content reported, reports written, every (task, item, sample) saved exactly once, rescore
re-verifying each of them, compare reporting the right deltas against a genuinely different run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


Key = tuple[str, str, int]


def expected_keys(data_dir: Path) -> set[Key]:
    """Every (task, item, sample) the run must hold: LIMIT items of each benchmark x its default n."""
    return {
        (name, item.id, index)
        for name in ALL_TASKS
        for item in get_task(name).load(data_dir, LIMIT)
        for index in range(get_task(name).default_n)
    }


def keyed_records(out: Path) -> dict[Key, dict[str, Any]]:
    """samples.jsonl keyed by (task, item, sample); a key written twice fails here, not silently."""
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    keyed = {(r["task"], r["item_id"], r["sample_index"]): r for r in records}
    assert len(keyed) == len(records), "a sample is saved twice"
    return keyed


def score_every_benchmark(model: Path, data_dir: Path, out: Path, backend_args: list[str]) -> dict:
    proc = rlvr_eval("score", str(model), "--tasks", ",".join(ALL_TASKS), "--limit", str(LIMIT),
                     "--max-tokens", "16", "--data-dir", str(data_dir), "--output-dir", str(out),
                     "--no-progress", "--run-name", "tiny", *backend_args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert sorted(results["tasks"]) == ALL_TASKS
    records = keyed_records(out)
    assert set(records) == expected_keys(data_dir)
    for name in ALL_TASKS:
        metrics = results["tasks"][name]
        assert (metrics["n_items"], metrics["n_samples"]) == (LIMIT, get_task(name).default_n)  # AIME: avg@8
    for r in records.values():
        assert 0 < r["num_tokens"] <= 16 and r["finish_reason"] in ("stop", "length")
    for report in ("report.md", "report.html"):
        assert (out / report).stat().st_size > 0
    return results


def rescore_reverifies_every_sample(out: Path) -> None:
    """rescore grades each saved completion again: a verdict tampered with on disk is put right, and
    no sample is lost, duplicated or moved to another key."""
    before = keyed_records(out)
    results_before = json.loads((out / "results.json").read_text())["tasks"]
    tampered_key = next(k for k, r in before.items() if not r["verdict"]["correct"])
    tampered = {**before[tampered_key], "verdict": {**before[tampered_key]["verdict"], "correct": True,
                                                     "content": "equal", "format": "ok"}}
    lines = [json.dumps(tampered if k == tampered_key else r) for k, r in before.items()]
    (out / "samples.jsonl").write_text("\n".join(lines) + "\n")

    rescored = rlvr_eval("rescore", str(out))
    assert rescored.returncode == 0, rescored.stderr
    after = keyed_records(out)
    assert after.keys() == before.keys()
    assert {k: r["verdict"] for k, r in after.items()} == {k: r["verdict"] for k, r in before.items()}
    assert {k: r["completion"] for k, r in after.items()} == {k: r["completion"] for k, r in before.items()}
    results_after = json.loads((out / "results.json").read_text())["tasks"]
    for name in ALL_TASKS:
        for field in ("score", "strict_accuracy", "lenient_accuracy", "format_rate", "n_items"):
            assert results_after[name][field] == results_before[name][field], (name, field)


def score_a_different_run(base: Path, data_dir: Path, out: Path) -> dict[str, float]:
    """Run B: the saved completions of run A, except that every sample of each benchmark's first item
    answers ``\\boxed{reference}``. Returns B's expected lenient score per benchmark, counted here."""
    records = keyed_records(base)
    first_items = {name: get_task(name).load(data_dir, 1)[0].id for name in ALL_TASKS}
    predictions, right = [], {name: [] for name in ALL_TASKS}
    for (task, item_id, index), r in sorted(records.items()):
        reference = r["reference"] if isinstance(r["reference"], str) else r["reference"][0]
        replaced = item_id == first_items[task]
        text = f"So the answer is \\boxed{{{reference}}}." if replaced else r["completion"]
        predictions.append({"task": task, "item_id": item_id, "sample_index": index, "prompt": r["prompt"],
                            "completion": text, "finish_reason": "stop", "num_tokens": 8})
        right[task].append(replaced or r["verdict"]["content"] == "equal")
    file = out.parent / "predictions.jsonl"
    file.write_text("".join(json.dumps(p) + "\n" for p in predictions))
    proc = rlvr_eval("score", str(file), "--backend", "predictions", "--tasks", "all", "--limit", str(LIMIT),
                     "--max-tokens", "16", "--data-dir", str(data_dir), "--output-dir", str(out),
                     "--run-name", "boxed", "--no-progress", "--verify-workers", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(keyed_records(out)) == set(records)
    return {name: sum(flags) / len(flags) for name, flags in right.items()}


def compare_against_a_different_run(base: Path, data_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "boxed"
    expected = score_a_different_run(base, data_dir, other)
    scores_a = {n: m["score"] for n, m in json.loads((base / "results.json").read_text())["tasks"].items()}
    scores_b = {n: m["score"] for n, m in json.loads((other / "results.json").read_text())["tasks"].items()}
    assert scores_b == pytest.approx(expected)  # B's scores are what the predictions make them
    assert all(scores_b[n] >= 0.5 > scores_a[n] for n in ALL_TASKS)  # genuinely different from A
    compared = rlvr_eval("compare", str(base), str(other))
    assert compared.returncode == 0, compared.stderr
    lines = compared.stdout.splitlines()
    rows: dict[str, str] = {}
    for line in lines:  # the first row per benchmark: the delta table (its transition row comes later)
        if line.startswith("| "):
            rows.setdefault(line.split("|")[1].strip(), line)
    for name in ALL_TASKS:  # the delta row of each benchmark: A's score, B's score, B - A
        row = rows[label(name)]
        a, b = 100 * scores_a[name], 100 * scores_b[name]
        assert f"| {a:.1f} | {b:.1f} | {b - a:+.1f} |" in row, row


def test_every_benchmark_through_hf_then_rescore_and_compare(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "hf"
    score_every_benchmark(tiny_model_dir, data_dir, out, ["--backend", "hf", "--verify-workers", "1"])
    rescore_reverifies_every_sample(out)
    compare_against_a_different_run(out, data_dir, tmp_path)


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
    rescore_reverifies_every_sample(out)
    compare_against_a_different_run(out, data_dir, tmp_path)
