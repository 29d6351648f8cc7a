"""How each grader is asked about a corpus case: rlvr through its public API, Math-Verify as its README says.

Shared by `test_corpus.py` and `benchmarks/bench_accuracy.py`, so the test and the benchmark grade alike.
"""

from __future__ import annotations

from typing import Any

from .loader import Case


def rlvr_grade(case: Case, timeout: float = 3.0) -> tuple[bool, str]:
    """rlvr's verdict on one case and a one-line explanation (what was extracted, why)."""
    from rlvr_eval import EquivalenceOptions, is_equivalent, verify

    equivalence = case.equivalence_options()
    if case.kind == "answer":
        return is_equivalent(case.text, case.reference, timeout=timeout, **equivalence), "is_equivalent"
    verdict = verify(
        case.text,
        case.reference,
        strict=False,
        answer_format=case.options.get("answer_format", "boxed"),
        prompt=case.options.get("prompt"),
        options=EquivalenceOptions(**equivalence),
        timeout=timeout,
    )
    return verdict.correct, f"extracted {verdict.extracted!r} ({verdict.extraction_method}): {verdict.reason}"


def math_verify_grade(text: str, reference: str, *, is_answer: bool, timeout: int = 3) -> bool:
    """Math-Verify 0.9.0 as its README uses it: ``parse`` both sides, then ``verify(gold, pred)``.

    ``parse``'s default extraction configs are the recommended ones for model output
    (LatexExtractionConfig + ExprExtractionConfig). LaTeX is only read inside a math environment, so
    the gold (and an already-extracted answer) is wrapped in ``$...$``, as in its README example.
    Its timeouts use SIGALRM: call this from the main thread only. A crash counts as "not correct".
    """
    from math_verify import parse, verify

    try:
        gold = parse(f"${reference}$", parsing_timeout=timeout)
        pred = parse(f"${text}$" if is_answer else text, parsing_timeout=timeout)
        return bool(verify(gold, pred, timeout_seconds=timeout))
    except Exception:
        return False


def math_verify_case(case: Case, timeout: int = 3) -> bool:
    return math_verify_grade(case.text, case.reference, is_answer=case.kind == "answer", timeout=timeout)


def describe(case: Case) -> dict[str, Any]:
    """The case's fields for a JSON report."""
    return {"id": case.id, "class": case.cls, "kind": case.kind, "expected": case.expected, "note": case.note}
