"""Every reference solution of MATH500 and Minerva Math verifies as correct against its own answer.

The reference solutions are well-formatted completions written by humans, so each one must pass
`verify` end to end (extraction, normalization, equivalence, batch runtime); a failure here is
a real false negative. MATH500's reference is its ``answer`` field (independent text); Minerva's
is the last ``\\boxed{}`` of its solution, as in the Qwen2.5-Math harness. As a check that the
grader is not simply accepting everything, solutions are also graded against another item's
answer and must mostly be rejected.

Data: ``$RLVR_DATA_DIR`` (default ``<repo>/../shared/benchmarks``); skipped when absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rlvr_eval.verifier.batch import verify_batch
from rlvr_eval.verifier.extract import last_boxed_content
from rlvr_eval.verifier.schema import ContentStatus

_DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
DATA_DIR = Path(os.environ.get("RLVR_DATA_DIR") or _DEFAULT_DIR)


def _rows(name: str) -> list[dict]:
    path = DATA_DIR / name / "test.jsonl"
    if not path.exists():
        pytest.skip(f"benchmark data not found at {path} (set RLVR_DATA_DIR)")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


Pair = tuple[str, str, str, str]  # item id, question, solution text, reference answer


def _pairs(name: str) -> list[Pair]:
    rows = _rows(name)
    if name == "math500":
        return [(r["unique_id"], r["problem"], r["solution"], r["answer"]) for r in rows]
    pairs = []
    for i, r in enumerate(rows):
        reference = last_boxed_content(r["solution"])
        assert reference is not None, f"minerva item {i} has no boxed answer in its solution"
        pairs.append((str(r.get("idx", i)), r["problem"], r["solution"], reference))
    return pairs


def _verdicts(pairs: list[Pair]) -> list:  # type: ignore[type-arg]
    # The question is passed as the prompt, as the eval runner does (restated-question check on).
    return verify_batch(
        [p[2] for p in pairs], [p[3] for p in pairs], prompts=[p[1] for p in pairs], workers=2, timeout=5
    )


def _failures(pairs: list[Pair]) -> list[str]:
    return [
        f"{item_id}: reference {reference!r} -> {v.content.value}, extracted {v.extracted!r}: {v.reason}"
        for (item_id, _, _, reference), v in zip(pairs, _verdicts(pairs), strict=True)
        if not v.correct
    ]


@pytest.mark.parametrize("name", ["math500", "minerva_math"])
def test_every_reference_solution_verifies(name: str) -> None:
    # All items, every run: the batch pool grades the 772 solutions in a few seconds.
    failures = _failures(_pairs(name))
    assert not failures, "\n".join(failures)


def test_solutions_against_other_answers_are_rejected() -> None:
    pairs = _pairs("math500")
    shifted = [(*pairs[i][:3], pairs[(i + 1) % len(pairs)][3]) for i in range(len(pairs))]
    # Keep only pairs whose answers differ as text; a few may still be equal in value (0.5 vs 1/2).
    shifted = [p for p, q in zip(shifted, pairs, strict=True) if p[3].strip() != q[3].strip()]
    verdicts = _verdicts(shifted)
    accepted = [p[0] for p, v in zip(shifted, verdicts, strict=True) if v.correct]
    assert len(accepted) <= 0.02 * len(shifted), accepted
    assert sum(v.content is ContentStatus.DIFFERENT for v in verdicts) >= 0.9 * len(shifted)
