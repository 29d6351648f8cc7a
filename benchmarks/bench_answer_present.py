"""The answer-present check on real completions: its rate beside strict and lenient, and what it costs.

    python benchmarks/bench_answer_present.py --dev ../shared/completions/dev.jsonl \\
        --data-dir ../shared/benchmarks --workers 2 --repeat 3

dev.jsonl (real model completions, see its README) is converted to a plain JSONL of other tools'
outputs, one line per question with all its completions, and graded the way a user re-grades such
a file (``rlvr-eval rescore FILE --tasks ... --allow-missing``, see README "Re-grade another tool's
outputs"): OlympiadBench and GSM8K rows against those benchmarks' own files; the MATH rows (most
are not in MATH500) against a ``jsonl:`` benchmark made of their own problems and references.

The CLI runs twice per repeat in fresh interpreters, with and without ``--no-answer-present``
(alternating; the fastest of each is reported), so the ratio is the check's whole cost end to end:
verify, the second pass, reading, writing and reports. Target: the check at most doubles rescore time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rlvr_eval.saved_outputs.matching import normalize_question
from rlvr_eval.tasks import get_task

REPO = Path(__file__).resolve().parents[1]
TASK_OF = {"olympiadbench": "olympiadbench", "gsm8k": "gsm8k"}  # dev benchmark -> rlvr task
MATH_TASK = "dev_math"  # MATH rows: a jsonl benchmark of their own problems


def convert(dev: Path, data_dir: Path, out: Path) -> tuple[Path, list[str], dict[str, int]]:
    """Write the outputs file (and the dev_math benchmark); returns it, the --tasks and rows per task."""
    rows = [json.loads(line) for line in dev.open(encoding="utf-8")]
    known = {
        task: {normalize_question(item.question) for item in get_task(task).load(data_dir)}
        for task in TASK_OF.values()
    }
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    math_refs: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        task = TASK_OF.get(row["benchmark"], MATH_TASK)
        if task != MATH_TASK and normalize_question(row["problem"]) not in known[task]:
            continue  # not in the benchmark's file: nothing to grade it against
        if task == MATH_TASK:
            math_refs[row["problem"]] = row["reference"]
        grouped[(task, row["problem"])].append(row["completion"])
        counts[task] += 1
    math_file = out / f"{MATH_TASK}.jsonl"
    lines = [json.dumps({"question": q, "answer": a}) + "\n" for q, a in math_refs.items()]
    math_file.write_text("".join(lines), encoding="utf-8")
    outputs = out / "dev_outputs.jsonl"
    with outputs.open("w", encoding="utf-8") as fh:
        for (task, question), completions in grouped.items():
            fh.write(json.dumps({"task": task, "question": question, "completions": completions}) + "\n")
    return outputs, [*TASK_OF.values(), f"jsonl:{math_file}"], dict(counts)


def rescore(outputs: Path, tasks: list[str], data_dir: Path, out: Path, workers: int, present: bool) -> float:
    """One ``rlvr-eval rescore`` in a fresh interpreter; its wall time in seconds."""
    cmd = [sys.executable, "-m", "rlvr_eval.cli", "rescore", str(outputs), "--tasks", *tasks,
           "--allow-missing", "--data-dir", str(data_dir), "--output-dir", str(out),
           "--verify-workers", str(workers), "--no-progress"]
    if not present:
        cmd.append("--no-answer-present")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"rescore failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", default=os.environ.get("RLVR_DEV_COMPLETIONS"), required=not os.environ.get(
        "RLVR_DEV_COMPLETIONS"), help="dev.jsonl (default $RLVR_DEV_COMPLETIONS)")
    parser.add_argument("--data-dir", default=os.environ.get("RLVR_DATA_DIR"), required=not os.environ.get(
        "RLVR_DATA_DIR"), help="benchmark files <dir>/<task>/test.jsonl (default $RLVR_DATA_DIR)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each variant; the fastest is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_present_") as tmp:
        root = Path(tmp)
        outputs, tasks, counts = convert(Path(args.dev), Path(args.data_dir), root)
        total = sum(counts.values())
        print(f"converted {total} completions: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeat):
            for present in (False, True):
                run_dir = root / ("with" if present else "without")
                seconds = rescore(outputs, tasks, Path(args.data_dir), run_dir, args.workers, present)
                times[present].append(seconds)
        results = json.loads((root / "with" / "results.json").read_text())
    without, with_ = min(times[False]), min(times[True])
    print(f"rescore --no-answer-present : {without:6.1f} s  {total / without:6.0f} completions/s")
    print(f"rescore (answer present)    : {with_:6.1f} s  {total / with_:6.0f} completions/s")
    print(f"cost of the check           : {with_ - without:+6.1f} s  (x{with_ / without:.2f} rescore time, "
          f"{args.workers} workers)")
    print("\n| benchmark | completions | strict | lenient | answer present | format ok |")
    print("|:---|---:|---:|---:|---:|---:|")
    for task, m in results["tasks"].items():
        print(f"| {task} | {counts.get(task, '?')} | {100 * m['strict_accuracy']:.1f} | "
              f"{100 * m['lenient_accuracy']:.1f} | {100 * m['answer_present_rate']:.1f} | "
              f"{100 * m['format_rate']:.1f} |")


if __name__ == "__main__":
    main()
