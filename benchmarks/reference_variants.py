"""rlvr vs Math-Verify on right and wrong spellings of every local benchmark's reference answers.

    python benchmarks/reference_variants.py --data-dir ../shared/benchmarks            # all benchmarks
    python benchmarks/reference_variants.py --data-dir DIR --tasks math500 --limit 50 --json out.json

Each reference (MATH500, Minerva, OlympiadBench with its unit / multiple-answer options, AMC23, AIME24/25,
a seeded sample of GSM8K) is rewritten by `variant_rules.variants` into other right spellings (``\\dfrac``,
``a/b``, decimals, thousands separators, labels, units, degree forms, reordered lists, sympy's LaTeX, ...)
and plausible wrong answers (off by one, sign flip, swapped pair, missing part, open endpoint, x10, a near
value, numerator only, ...). Every variant is graded four ways: rlvr ``is_equivalent(answer, ref)``, rlvr
lenient ``verify(completion, ref, strict=False)`` with the answer inside a realistic closing (a rotating
set of endings, see `ENDINGS`), and Math-Verify on the answer and on the completion. The table gives, per
rule, how often each grader agrees with the label; rlvr's false accepts are listed by item and rule.

Labels come from the rule (and an independent numeric oracle, see `variant_rules`), not from rlvr.
One rule family is a policy question rather than a clear bug, and is reported on its own line:
``finer-but-wrong`` on Minerva (a more precise answer that rounds to a sig-fig reference).
Math-Verify's timeouts use SIGALRM, so everything runs in the main thread.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "verifier"))
from corpus.grading import math_verify_grade
from variant_rules import variants
from variant_text import INT_RE

from rlvr_eval import is_equivalent, verify
from rlvr_eval.tasks import get_task

TASKS = ("math500", "minerva_math", "olympiadbench", "amc23", "aime24", "aime25", "gsm8k")
GSM8K_SAMPLE = 200

_COT = (
    "Let's think step by step. First we write down what is given and set up the equation "
    "$3x + 4 = 19$, so $x = 5$. Substituting back, $2 \\cdot 5 + 1 = 11$, which we will need later. "
    "The remaining case is handled the same way, with $n \\geq 2$.\n\n"
)
#: How the completion states its final answer X (R is the reference, for the corrected-box ending).
ENDINGS = {
    "boxed-sentence": "Therefore, the final answer is $\\boxed{@X@}$.",
    "minerva": "Final Answer: The final answer is $@X@$. I hope it is correct.",
    "bold-display-box": "**Final Answer**\n\\[\n\\boxed{@X@}\n\\]",
    "box-then-remark": (
        "So the answer is \\(\\boxed{@X@}\\). This value satisfies every condition of the problem."
    ),
    "answer-is-colon": "The answer is: $@X@$",
}
DECOY_ENDING = (
    "At first this gives $\\boxed{@D@}$, but that misses a case.\n\n"
    "Redoing it carefully, the answer is $\\boxed{@X@}$."
)


def _items(data_dir: str, tasks: list[str], limit: int | None) -> list[tuple[str, object]]:
    out = []
    for name in tasks:
        items = get_task(name).load(data_dir)
        if name == "gsm8k":
            items = random.Random(0).sample(items, min(GSM8K_SAMPLE, len(items)))
        out += [(name, it) for it in items[:limit]]
    return out


def _completion(answer: str, ref: str, index: int, decoy: str | None) -> tuple[str, str]:
    if decoy is not None and index % 7 == 0:
        return "decoy", _COT + DECOY_ENDING.replace("@D@", decoy).replace("@X@", answer)
    name = list(ENDINGS)[index % len(ENDINGS)]
    return name, _COT + ENDINGS[name].replace("@X@", answer)


def completion_rules(ref: str, wrong: str) -> list[tuple[str, str, bool]]:
    """Whole completions around the reference built to test extraction, not spelling: a box followed by
    a new problem the model invents, a stale value in a code comment, numbers that words then modify."""
    new_problem = "\n\nProblem 2: Find the value of $y$ in the figure.\nSolution: We get $y = \\boxed{@Y@}$."
    code = (
        "```python\n# answer: @Y@\nprint(solve())\n```\n```output\n@X@\n```\n"
        "So the answer is $\\boxed{@X@}$."
    )
    rules = [
        ("right:box-then-new-problem", "So the answer is $\\boxed{@X@}$." + new_problem, ref, wrong, True),
        ("wrong:box-then-new-problem", "So the answer is $\\boxed{@X@}$." + new_problem, wrong, ref, False),
        ("right:code-comment-then-box", code, ref, wrong, True),
        ("wrong:code-comment-then-box", code, wrong, ref, False),
    ]
    out = [(rule, _COT + text.replace("@X@", x).replace("@Y@", y), ok) for rule, text, x, y, ok in rules]
    if INT_RE.fullmatch(ref) and int(ref) > 0:
        n = int(ref)
        times = f"{_COT}The answer is {n} times 3, which equals {3 * n}."
        out.append(("wrong:phrase-n-times-3", times, False))
        out.append(("wrong:phrase-n-dozen", f"{_COT}The answer is {n} dozen.", False))
        if n % 12 == 0:
            out.append(("right:phrase-dozen", f"{_COT}The answer is {n // 12} dozen.", True))
        if n % 1000 == 0:
            out.append(("right:phrase-thousand", f"{_COT}The answer is {n // 1000} thousand.", True))
    return out


def grade_all(
    data_dir: str, tasks: list[str], limit: int | None, with_mv: bool, timeout: float
) -> list[dict]:
    rows: list[dict] = []
    counter = 0
    items = _items(data_dir, tasks, limit)
    for done, (name, item) in enumerate(items):
        ref = item.reference if isinstance(item.reference, str) else item.reference[0]
        opts = item.options
        found = variants(
            ref, multiple=opts.multiple_answers, unit=opts.unit, ordered_hint=not opts.multiple_answers,
            interval=opts.answer_type == "interval", money=name == "gsm8k" and "$" in item.question,
        )
        wrong_pool = [v.answer for v in found if not v.expected]
        for v in found:
            counter += 1
            decoy = wrong_pool[0] if v.expected and wrong_pool else (ref if not v.expected else None)
            ending, completion = _completion(v.answer, ref, counter, decoy)
            eq = is_equivalent(v.answer, ref, timeout=timeout, **opts.model_dump())
            verdict = verify(completion, item.reference, strict=False, options=opts, timeout=timeout)
            row = {
                "task": name, "id": item.id, "reference": ref, "answer": v.answer, "rule": v.rule,
                "expected": v.expected, "ending": ending, "is_equivalent": eq, "lenient": verdict.correct,
                "extracted": verdict.extracted, "method": verdict.extraction_method, "reason": verdict.reason,
            }
            if with_mv:
                row["mv_answer"] = math_verify_grade(v.answer, ref, is_answer=True, timeout=int(timeout))
                row["mv_completion"] = math_verify_grade(
                    completion, ref, is_answer=False, timeout=int(timeout)
                )
            rows.append(row)
        for rule, completion, expected in completion_rules(ref, wrong_pool[0] if wrong_pool else "0"):
            verdict = verify(completion, item.reference, strict=False, options=opts, timeout=timeout)
            row = {
                "task": name, "id": item.id, "reference": ref, "answer": completion[len(_COT):], "rule": rule,
                "expected": expected, "ending": "completion-rule", "is_equivalent": None,
                "lenient": verdict.correct, "extracted": verdict.extracted,
                "method": verdict.extraction_method, "reason": verdict.reason,
            }
            if with_mv:
                row["mv_answer"] = None
                row["mv_completion"] = math_verify_grade(
                    completion, ref, is_answer=False, timeout=int(timeout)
                )
            rows.append(row)
        if done % 100 == 0:
            print(f"  {done}/{len(items)} items, {len(rows)} variants", file=sys.stderr, flush=True)
    return rows


def _family(row: dict) -> str:
    rule = row["rule"]
    if rule.startswith("wrong:finer-but-wrong") and row["task"] == "minerva_math":
        return rule + " (minerva: policy)"
    return rule


def _cell(correct: int, n: int) -> str:
    if not n:
        return "-"
    return f"{correct}/{n}" + ("" if correct == n else f" (-{n - correct})")


def summarize(rows: list[dict], with_mv: bool) -> list[str]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    graders = ["is_equivalent", "lenient"] + (["mv_answer", "mv_completion"] if with_mv else [])
    for row in rows:
        for key in (_family(row), "right: total" if row["expected"] else "wrong: total"):
            t = table[key]
            t["n"] += 1
            for g in graders:
                if row[g] is not None:
                    t[g] += row[g] is row["expected"]
                    t[g + ":n"] += 1
    lines = ["| rule | n | " + " | ".join(graders) + " |", "|---|---|" + "---|" * len(graders)]
    for key in sorted(table):
        t = table[key]
        cells = " | ".join(
            _cell(t[g], t[g + ":n"]) for g in graders
        )
        lines.append(f"| {key} | {t['n']} | {cells} |")
    return lines


def _listing(title: str, rows: list[dict], examples: int) -> None:
    """Rows grouped by rule: the count, then a few examples with what rlvr extracted."""
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_rule[r["rule"]].append(r)
    print(f"\n{title}: {len(rows)}")
    for rule, group in sorted(by_rule.items(), key=lambda kv: -len(kv[1])):
        print(f"  {rule}: {len(group)}")
        for r in group[:examples]:
            print(
                f"    {r['task']}/{r['id']}: {r['answer'][-100:]!r} vs {r['reference']!r} "
                f"(is_equivalent={r['is_equivalent']}, lenient={r['lenient']} via {r['method']}: "
                f"{r['extracted']!r})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--limit", type=int, help="first N items per task")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--skip-math-verify", action="store_true")
    parser.add_argument("--examples", type=int, default=3, help="examples listed per failing rule")
    parser.add_argument("--json", type=Path, help="write every graded variant here")
    args = parser.parse_args(argv)

    logging.disable(logging.WARNING)
    start = time.perf_counter()
    tasks = args.tasks.split(",")
    rows = grade_all(args.data_dir, tasks, args.limit, not args.skip_math_verify, args.timeout)
    print(f"{len(rows)} variants graded in {time.perf_counter() - start:.0f} s\n")
    print("\n".join(summarize(rows, not args.skip_math_verify)))
    by_ending: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        # the ending's own effect, where the content verdict is right
        if row["is_equivalent"] is row["expected"] and row["ending"] != "completion-rule":
            by_ending[row["ending"]][0] += row["lenient"] is row["expected"]
            by_ending[row["ending"]][1] += 1
    print("\nlenient agreement by ending (where is_equivalent is right):")
    for name, (ok, n) in sorted(by_ending.items()):
        print(f"  {name}: {ok}/{n}")
    false_accepts = [r for r in rows if not r["expected"] and (r["lenient"] or r["is_equivalent"])]
    missed = [r for r in rows if r["expected"] and not (r["lenient"] and r["is_equivalent"] is not False)]
    policy = [r for r in false_accepts if "policy" in _family(r)]
    false_accepts = [r for r in false_accepts if "policy" not in _family(r)]
    print(f"\nrlvr accepts on the policy rule (Minerva answers finer than the reference): {len(policy)}")
    _listing("rlvr false accepts", false_accepts, args.examples)
    _listing("rlvr misses (a right spelling rejected by is_equivalent or lenient)", missed, args.examples)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=0), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
