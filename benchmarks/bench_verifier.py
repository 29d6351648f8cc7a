"""Speed and accuracy of rlvr's `verify` against Math-Verify on the same seeded pairs, on one core.

    python benchmarks/bench_verifier.py --data-dir ../shared/benchmarks --n 1000 --seed 0
    python benchmarks/bench_verifier.py --workers 2          # also: verify_batch throughput

Both graders see identical (completion, reference) pairs from `pairs.py` (half correct, half
perturbed; the ground truth is known by construction) and run sequentially in this process,
pinned to one CPU (rlvr's sandbox worker inherits the pin, so its symbolic path competes for
the same core). Math-Verify: ``parse`` of the gold (boxed) and of the completion, then
``verify(gold, pred)``; its timeouts use SIGALRM, so it runs in the main thread. rlvr's content
cache is cleared before every pair unless ``--cache``, so the figures measure grading, not lookup.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pairs import Pair, build_pairs

from rlvr_eval.verifier import api, sandbox
from rlvr_eval.verifier.batch import shutdown_batch_pools, verify_batch

_REPO = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run(grade: Callable[[Pair], bool], pairs: list[Pair]) -> tuple[list[bool], list[float], float]:
    verdicts, latencies = [], []
    start = time.perf_counter()
    for pair in pairs:
        t0 = time.perf_counter()
        verdicts.append(grade(pair))
        latencies.append(time.perf_counter() - t0)
    return verdicts, latencies, time.perf_counter() - start


def _rlvr_grader(use_cache: bool, timeout: float, paths: Counter[str]) -> Callable[[Pair], bool]:
    def grade(pair: Pair) -> bool:
        if not use_cache:
            api.cache_clear()
        verdict = api.verify(pair.completion, pair.reference, timeout=timeout)
        path = verdict.reason.rsplit("(", 1)[-1].rstrip(")") if verdict.reason.endswith(")") else "other"
        paths[path] += 1
        return verdict.correct

    return grade


def _math_verify_grader(timeout: int) -> Callable[[Pair], bool]:
    from math_verify import parse, verify

    def grade(pair: Pair) -> bool:
        try:
            gold = parse(f"\\boxed{{{pair.reference}}}", parsing_timeout=timeout)
            pred = parse(pair.completion, parsing_timeout=timeout)
            return bool(verify(gold, pred, timeout_seconds=timeout))
        except Exception:  # a grader crash counts as "not correct", as in a training loop
            return False

    return grade


def _row(name: str, verdicts: list[bool], lat: list[float], total: float, pairs: list[Pair]) -> str:
    wrong_accepted = sum(v and not p.truth for v, p in zip(verdicts, pairs, strict=True))
    right_rejected = sum(p.truth and not v for v, p in zip(verdicts, pairs, strict=True))
    accuracy = 1 - (wrong_accepted + right_rejected) / len(pairs)
    return (
        f"| {name} | {len(pairs) / total:,.1f} | {1000 * statistics.median(lat):.2f} | "
        f"{1000 * _percentile(lat, 0.99):.2f} | {1000 * max(lat):.1f} | {wrong_accepted} | "
        f"{right_rejected} | {100 * accuracy:.1f}% |"
    )


def _by_kind(pairs: list[Pair], results: dict[str, list[bool]]) -> list[str]:
    lines = ["| kind | pairs | " + " | ".join(f"{name} errors" for name in results) + " |",
             "|---|---|" + "---|" * len(results)]
    for kind, count in sorted(Counter(p.kind for p in pairs).items()):
        errors = [
            sum(v != p.truth for v, p in zip(verdicts, pairs, strict=True) if p.kind == kind)
            for verdicts in results.values()
        ]
        lines.append(f"| {kind} | {count} | " + " | ".join(str(e) for e in errors) + " |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(_REPO.parent / "shared" / "benchmarks"))
    parser.add_argument("--n", type=int, default=1000, help="number of pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=3.0, help="per-pair budget of both graders (s)")
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU (-1: no pinning)")
    parser.add_argument("--cache", action="store_true", help="keep rlvr's content cache across pairs")
    parser.add_argument("--skip-math-verify", action="store_true")
    parser.add_argument("--workers", type=int, default=0, help="also time verify_batch with N workers")
    args = parser.parse_args(argv)

    logging.disable(logging.WARNING)  # Math-Verify logs every parse failure
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    pairs = build_pairs(args.data_dir, n=args.n, seed=args.seed)
    print(f"pairs: {len(pairs)} (seed {args.seed}; {sum(p.truth for p in pairs)} correct by construction), "
          f"kinds: {dict(Counter(p.kind for p in pairs))}")
    cache = "on" if args.cache else "cleared per pair"
    print(f"cpu pin: {args.cpu if args.cpu >= 0 else 'none'}; rlvr cache: {cache}")

    # Warm-up outside the clock: imports, the sandbox worker, sympy's first-call caches.
    sandbox._default_pool().warm_up(1)
    paths: Counter[str] = Counter()
    rlvr = _rlvr_grader(args.cache, args.timeout, paths)
    _run(rlvr, pairs[:30])
    api.cache_clear()
    paths.clear()
    results: dict[str, list[bool]] = {}
    rows = []
    verdicts, lat, total = _run(rlvr, pairs)
    results["rlvr"] = verdicts
    rows.append(_row("rlvr verify", verdicts, lat, total, pairs))
    rlvr_rate, rlvr_p99 = len(pairs) / total, _percentile(lat, 0.99)
    if not args.skip_math_verify:
        mv = _math_verify_grader(int(max(1, args.timeout)))
        _run(mv, pairs[:30])
        verdicts, lat, total = _run(mv, pairs)
        results["math-verify"] = verdicts
        rows.append(_row("Math-Verify 0.9 (parse + verify)", verdicts, lat, total, pairs))
        mv_rate = len(pairs) / total

    print()
    print("| grader | pairs/s | p50 ms | p99 ms | max ms | wrong accepted | right rejected | accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if "math-verify" in results:
        a, b = results["rlvr"], results["math-verify"]
        disagree = [p for p, x, y in zip(pairs, a, b, strict=True) if x != y]
        rlvr_right = sum((x == p.truth) for p, x, y in zip(pairs, a, b, strict=True) if x != y)
        print()
        print(f"speed-up (rlvr / Math-Verify, one core): {rlvr_rate / mv_rate:.1f}x")
        print(f"disagreements: {len(disagree)} of {len(pairs)} ({100 * len(disagree) / len(pairs):.1f}%); "
              f"rlvr matches the ground truth on {rlvr_right}, Math-Verify on {len(disagree) - rlvr_right}")
    print()
    print("\n".join(_by_kind(pairs, results)))
    print()
    print("rlvr decision paths: " + ", ".join(f"{k} {v}" for k, v in paths.most_common()))
    print(f"target: >= 10x Math-Verify pairs/s and p99 < 50 ms; rlvr p99 = {1000 * rlvr_p99:.1f} ms")

    if args.workers:
        if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        completions, references = [p.completion for p in pairs], [p.reference for p in pairs]
        # start the pool outside the clock
        verify_batch(completions[:20], references[:20], workers=args.workers, timeout=args.timeout)
        other = build_pairs(args.data_dir, n=300, seed=args.seed + 1)  # warms workers without cache hits
        for label in ("fresh workers", "after warming on 300 pairs of another seed"):
            t0 = time.perf_counter()
            batch = verify_batch(completions, references, workers=args.workers, timeout=args.timeout)
            elapsed = time.perf_counter() - t0
            same = sum(v.correct == x for v, x in zip(batch, results["rlvr"], strict=True))
            print(f"verify_batch workers={args.workers} ({label}): {len(pairs) / elapsed:,.1f} pairs/s; "
                  f"agrees with sequential verify on {same}/{len(pairs)}")
            if label == "fresh workers":  # new workers (no cached verdicts), warmed on other pairs
                shutdown_batch_pools()
                warm_completions = [p.completion for p in other]
                verify_batch(warm_completions, [p.reference for p in other], workers=args.workers)


if __name__ == "__main__":
    main()
