"""rlvr (strict and lenient) and Math-Verify on real completions, against the recorders' labels (issue 8).

    python benchmarks/dev_disagreements.py --dev ../shared/completions/dev.jsonl --out /tmp/dev_verdicts.jsonl
    RLVR_DEV_COMPLETIONS=../shared/completions/dev.jsonl python benchmarks/dev_disagreements.py --list 50

The file's labels are the recording projects' own and wrong in places, so a disagreement is a row to
read, not a verdict. Rows get stable ids (``<line>-<sha1 prefix>``, see ``corpus/dev.py``); the rows
we read are kept with our verdict in ``tests/verifier/corpus/dev_checked.jsonl``. The report gives
each grader's agreement with the labels and with those checked verdicts, per benchmark, and the
disagreement patterns (which graders disagree with the label). rlvr grades with the default ``boxed``
format and the question as ``prompt`` (as ``rlvr-eval`` does); Math-Verify parses the whole
completion with its default (recommended) extraction configs and the reference wrapped in ``$...$``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

# The corpus package lives beside its test, tests/verifier/corpus.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "verifier"))
from corpus import DevRow, load_checked, read_dev_rows
from corpus.grading import math_verify_grade
from tqdm import tqdm

from rlvr_eval import verify

GRADERS = ("rlvr_strict", "rlvr_lenient", "math_verify")


def _grade(row: DevRow, timeout: float, with_math_verify: bool) -> dict:
    strict = verify(row.completion, row.reference, strict=True, prompt=row.problem, timeout=timeout)
    lenient = verify(row.completion, row.reference, strict=False, prompt=row.problem, timeout=timeout)
    mv = math_verify_grade(row.completion, row.reference, is_answer=False, timeout=max(1, round(timeout)))
    return {
        "row_id": row.row_id,
        "benchmark": row.benchmark,
        "model": row.model,
        "label": row.label,
        "reference": row.reference,
        "rlvr_strict": strict.correct,
        "rlvr_lenient": lenient.correct,
        "math_verify": mv if with_math_verify else None,
        "extracted": lenient.extracted,
        "method": lenient.extraction_method,
        "reason": lenient.reason,
        "tail": row.completion[-300:],
    }


def _agreement(results: list[dict], truth: dict[str, bool]) -> list[str]:
    """Per benchmark and overall: how often each grader's verdict equals `truth` (row id -> bool)."""
    lines = ["| benchmark | rows | " + " | ".join(GRADERS) + " |", "|---|---|" + "---|" * len(GRADERS)]
    groups = [*sorted({r["benchmark"] for r in results}), "all"]
    for group in groups:
        rows = [r for r in results if r["row_id"] in truth and group in ("all", r["benchmark"])]
        if not rows:
            continue
        cells = []
        for grader in GRADERS:
            same = sum(r[grader] == truth[r["row_id"]] for r in rows if r[grader] is not None)
            cells.append(f"{same}/{len(rows)} ({100 * same / len(rows):.1f}%)")
        lines.append(f"| {group} | {len(rows)} | " + " | ".join(cells) + " |")
    return lines


def _pattern(r: dict) -> str:
    """Which graders disagree with the label, e.g. 'label=T: lenient+mv say F'."""
    wrong = [g for g in GRADERS if r[g] is not None and r[g] != r["label"]]
    return f"label={'T' if r['label'] else 'F'}: " + ("+".join(wrong) or "none") + " disagree"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dev",
        type=Path,
        default=os.environ.get("RLVR_DEV_COMPLETIONS"),
        help="completions file (default: $RLVR_DEV_COMPLETIONS)",
    )
    parser.add_argument("--out", type=Path, help="write every row's verdicts here (JSONL)")
    parser.add_argument("--list", type=int, default=0, help="print up to N disagreements with the label")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--skip-math-verify", action="store_true")
    args = parser.parse_args(argv)
    if args.dev is None or not Path(args.dev).is_file():
        parser.error(f"completions file not found: {args.dev} (pass --dev or set RLVR_DEV_COMPLETIONS)")

    logging.disable(logging.WARNING)  # Math-Verify logs every parse failure
    rows = [r for r in read_dev_rows(args.dev) if r.label is not None]
    start = time.perf_counter()
    results = [_grade(r, args.timeout, not args.skip_math_verify) for r in tqdm(rows, desc="grading")]
    print(f"{len(rows)} labelled rows from {args.dev} graded in {time.perf_counter() - start:.0f} s\n")

    print("Agreement with the recorders' labels:")
    print("\n".join(_agreement(results, {r["row_id"]: bool(r["label"]) for r in results})))
    checked = {c.row_id: c.correct for c in load_checked()}
    known = {r["row_id"] for r in results}
    print(
        f"\nAgreement with our checked verdicts ({len(checked.keys() & known)} rows read, dev_checked.jsonl):"
    )
    print("\n".join(_agreement(results, checked)))

    disagree = [r for r in results if any(r[g] is not None and r[g] != r["label"] for g in GRADERS)]
    print(f"\nRows where some grader disagrees with the label: {len(disagree)}")
    for pattern, count in Counter(_pattern(r) for r in disagree).most_common():
        print(f"  {count:5d}  {pattern}")
    for r in disagree[: args.list]:
        print(
            f"\n--- {r['row_id']} [{r['benchmark']}] {_pattern(r)}; reference {r['reference']!r}; "
            f"rlvr lenient extracted {r['extracted']!r} ({r['method']})\n{r['tail']}"
        )
    if args.out:
        with args.out.open("w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
