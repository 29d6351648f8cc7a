"""Accuracy of rlvr and Math-Verify on the labelled corpus, class by class (issue 8).

    python benchmarks/bench_accuracy.py                       # the corpus in tests/verifier/corpus
    python benchmarks/bench_accuracy.py --json accuracy.json  # also every case's verdicts
    python benchmarks/bench_accuracy.py --corpus DIR --skip-math-verify

Each case is graded by both, the same way: a ``completion`` case with rlvr's
``verify(text, reference, strict=False)`` (lenient extraction) and Math-Verify's ``parse`` of the
completion; an ``answer`` case with ``is_equivalent`` and Math-Verify's ``parse`` of ``$answer$``
(see ``corpus/grading.py``). A grader is "correct" on a case when its verdict equals the label.
"False accepts" are cases labelled wrong that the grader accepted: rlvr must have none, and every one
is listed by id. Math-Verify's timeouts use SIGALRM, so everything runs in the main thread.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

# The corpus package lives beside its test, tests/verifier/corpus.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "verifier"))
from corpus import Case, CorpusError, load_corpus
from corpus.grading import describe, math_verify_case, rlvr_grade
from corpus.loader import CORPUS_DIR


def _grade_all(cases: list[Case], timeout: float, with_math_verify: bool) -> list[dict]:
    results = []
    for case in cases:
        try:
            rlvr, how = rlvr_grade(case, timeout=timeout)
        except Exception as exc:  # an API error (e.g. an unknown answer_format) is a wrong verdict
            rlvr, how = None, f"raised {type(exc).__name__}: {exc}"
        mv = math_verify_case(case, timeout=max(1, round(timeout))) if with_math_verify else None
        results.append({**describe(case), "rlvr": rlvr, "rlvr_how": how, "math_verify": mv})
    return results


def _summary(results: list[dict]) -> dict[str, dict[str, int]]:
    """Per class (and "total"): cases, accept/reject labels, correct verdicts and false accepts per grader."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in results:
        for key in (r["class"], "total"):
            row = table[key]
            row["cases"] += 1
            row["accept" if r["expected"] else "reject"] += 1
            for grader in ("rlvr", "math_verify"):
                verdict = r[grader]
                row[f"{grader}_correct"] += verdict is r["expected"]
                row[f"{grader}_false_accepts"] += bool(verdict) and not r["expected"]
    return {k: dict(v) for k, v in table.items()}


def _markdown(summary: dict[str, dict[str, int]], with_math_verify: bool) -> list[str]:
    def pct(n: int, d: int) -> str:
        return f"{n}/{d} ({100 * n / d:.0f}%)"

    lines = [
        "| class | cases (acc/rej) | rlvr correct | Math-Verify correct "
        "| rlvr false accepts | MV false accepts |",
        "|---|---|---|---|---|---|",
    ]
    order = [*sorted(k for k in summary if k != "total"), "total"]
    for key in order:
        row = summary[key]
        mv_correct = pct(row["math_verify_correct"], row["cases"]) if with_math_verify else "-"
        mv_false = str(row["math_verify_false_accepts"]) if with_math_verify else "-"
        name = f"**{key}**" if key == "total" else key
        lines.append(
            f"| {name} | {row['cases']} ({row['accept']}/{row['reject']}) | "
            f"{pct(row['rlvr_correct'], row['cases'])} | {mv_correct} | "
            f"{row['rlvr_false_accepts']} | {mv_false} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="directory of corpus *.yaml files")
    parser.add_argument("--json", type=Path, help="write every case's verdicts and the summary here")
    parser.add_argument("--timeout", type=float, default=3.0, help="per-case budget of both graders (s)")
    parser.add_argument("--skip-math-verify", action="store_true")
    args = parser.parse_args(argv)

    logging.disable(logging.WARNING)  # Math-Verify logs every parse failure
    try:
        cases = load_corpus(args.corpus)
    except CorpusError as exc:
        parser.error(str(exc))
    with_mv = not args.skip_math_verify
    start = time.perf_counter()
    results = _grade_all(cases, args.timeout, with_mv)
    elapsed = time.perf_counter() - start
    summary = _summary(results)
    print(f"corpus: {len(cases)} cases from {args.corpus} ({elapsed:.1f} s)\n")
    print("\n".join(_markdown(summary, with_mv)))

    false_accepts = [r for r in results if r["rlvr"] and not r["expected"]]
    missed = [r for r in results if r["expected"] and r["rlvr"] is not True]
    print(f"\nrlvr wrong verdicts: {len(false_accepts)} false accepts, {len(missed)} missed right answers")
    for r in false_accepts:
        print(
            f"  RLVR ACCEPTS A CASE LABELLED WRONG: {r['id']} [{r['class']}] ({r['note']}); {r['rlvr_how']}"
        )
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "cases": results}, indent=1), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 1 if false_accepts else 0


if __name__ == "__main__":
    sys.exit(main())
