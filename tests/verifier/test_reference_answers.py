"""Real benchmark reference answers: each equals itself in its usual wrappings, and two different items'
answers are not equivalent unless they are the same value.

Data: env RLVR_DATA_DIR (default `<repo>/../shared/benchmarks`); skipped with a reason when absent.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from rlvr_eval.verifier.boxes import last_boxed_content as last_boxed
from rlvr_eval.verifier.equivalence import compare, fast_compare
from rlvr_eval.verifier.normalize import normalize_answer
from rlvr_eval.verifier.numbers import decimal_half_ulp
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

_DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
DATA_DIR = Path(os.environ.get("RLVR_DATA_DIR", _DEFAULT_DIR))
BENCHMARKS = (
    "math500", "aime24", "aime25", "amc23", "minerva_math", "olympiadbench", "gsm8k", "train/dsr_sub",
)

Ref = tuple[str, str, EquivalenceOptions]  # (item id, reference answer, options)


def _reference(name: str, row: dict) -> tuple[str | None, EquivalenceOptions]:
    if name == "minerva_math":
        return last_boxed(row["solution"]), EquivalenceOptions()
    if name == "gsm8k":
        return row["answer"].split("####")[-1].strip(), EquivalenceOptions()
    if name == "olympiadbench":
        opts = EquivalenceOptions(multiple_answers=bool(row["is_multiple_answer"]), unit=row["unit"] or None)
        return ",".join(row["final_answer"]), opts
    return str(row["answer"]), EquivalenceOptions()


def _load() -> list[Ref]:
    refs: list[Ref] = []
    for name in BENCHMARKS:
        path = DATA_DIR / (f"{name}.jsonl" if name.startswith("train/") else f"{name}/test.jsonl")
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as f:
            for i, line in enumerate(f):
                answer, opts = _reference(name, json.loads(line))
                # a few references have unbalanced braces (a data defect): they cannot be boxed
                if answer and answer.count("{") == answer.count("}"):
                    refs.append((f"{name}/{i}", answer, opts))
    return refs


REFS = _load()
pytestmark = pytest.mark.skipif(not REFS, reason=f"no benchmark data under {DATA_DIR} (set RLVR_DATA_DIR)")


def test_all_benchmarks_loaded() -> None:
    names = {item.rsplit("/", 1)[0] for item, _, _ in REFS}
    assert names == set(BENCHMARKS), f"missing: {set(BENCHMARKS) - names}"


@pytest.mark.parametrize("wrap", ["\\boxed{{{}}}", "${}$", "$\\boxed{{{}}}$", "The final answer is ${}$."])
def test_reference_equals_its_wrapped_self(wrap: str) -> None:
    failures = []
    for item, ref, opts in REFS:
        got = fast_compare(wrap.format(ref), ref, opts)
        if got is not ContentStatus.EQUAL:
            failures.append((item, ref, got))
    assert not failures, failures[:10]


def _cross_pairs(count: int, seed: int) -> list[tuple[Ref, Ref]]:
    rng = random.Random(seed)
    return [(rng.choice(REFS), rng.choice(REFS)) for _ in range(count)]


def _independently_equal(a: str, b: str) -> bool:
    """Math-Verify as an independent oracle for pairs we call equal though they are written differently.

    A decimal reference b accepts any answer that rounds to it (our documented rule), checked on
    Math-Verify's parse of the answer.
    """
    from math_verify import parse, verify

    gold, pred = parse(f"${b}$"), parse(f"${a}$")
    half_ulp = decimal_half_ulp(normalize_answer(b))
    if half_ulp is not None and gold and pred:
        try:
            return abs(float(pred[0]) - float(gold[0])) <= float(half_ulp) * (1 + 1e-9)
        except (TypeError, ValueError):
            return False
    return bool(verify(gold, pred))


def _check_cross(pairs: list[tuple[Ref, Ref]], decide_undecided: int) -> tuple[int, int]:
    wrong, undecided = [], []
    for (_, a, _), (item_r, r, opts) in pairs:
        verdict = fast_compare(a, r, opts)
        if verdict is None:
            undecided.append((a, r, opts))
        # equal values written differently (13 vs 13.0) are fine; anything else is a false accept
        elif (
            verdict is ContentStatus.EQUAL
            and normalize_answer(a) != normalize_answer(r)
            and not _independently_equal(a, r)
        ):
            wrong.append((a, r, item_r))
    for a, r, opts in undecided[:decide_undecided]:
        same = normalize_answer(a) == normalize_answer(r)
        if compare(a, r, opts) is ContentStatus.EQUAL and not same and not _independently_equal(a, r):
            wrong.append((a, r, "symbolic"))
    assert not wrong, wrong[:10]
    return len(pairs), len(undecided)


def test_different_items_not_equivalent_fast() -> None:
    total, undecided = _check_cross(_cross_pairs(3000, seed=0), decide_undecided=40)
    # the fast path must decide the large majority of real answer pairs
    assert undecided / total < 0.2, f"fast path undecided on {undecided}/{total}"


@pytest.mark.slow
def test_different_items_not_equivalent_exhaustive() -> None:
    _check_cross(_cross_pairs(20000, seed=1), decide_undecided=10**9)
