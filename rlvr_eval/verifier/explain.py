"""Why a verdict came out as it did: the extraction, both parsed answers and the rule that decided.

``rlvr-eval verify --explain`` prints `render(explain(...))`. The verdict itself is `verify`'s; the
explanation re-runs the cheap steps (extraction, parsing, the cached comparison) to show them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlvr_eval.verifier import api
from rlvr_eval.verifier.answer import Answer
from rlvr_eval.verifier.compare import rule_for
from rlvr_eval.verifier.parse import parse
from rlvr_eval.verifier.schema import ContentStatus, Extraction, Verdict, VerifyRequest

__all__ = ["Explanation", "ReferenceCheck", "explain", "render"]


@dataclass(frozen=True)
class ReferenceCheck:
    """One reference: its parse, the comparison rule chosen for the pair, and what that rule said."""

    reference: str
    parsed: Answer
    rule: str
    rule_doc: str
    status: ContentStatus
    decided_by: str


@dataclass(frozen=True)
class Explanation:
    request: VerifyRequest
    extraction: Extraction
    answer: Answer | None
    checks: tuple[ReferenceCheck, ...]
    verdict: Verdict


def explain(request: VerifyRequest) -> Explanation:
    """The verdict of `request` and the steps behind it."""
    verdict = api.verify_request(request)
    extraction = api.extract(request)
    options = api.request_options(request)
    answer = None
    if extraction.answer is not None:
        answer = api.parse_answer_to(extraction.answer, options, request.prompt)
    checks = []
    for text in api.references_of(request.reference, options):
        reference = parse(text, options)
        if answer is None:
            checks.append(ReferenceCheck(text, reference, "-", "no answer was extracted",
                                         ContentStatus.NOT_CHECKED, "-"))
            continue
        rule = rule_for(answer, reference)
        status, how = api.compare_parsed(answer, reference, options, request.timeout, guarded=True)
        doc = (rule.__doc__ or "").strip().splitlines()[0] if rule.__doc__ else ""
        name = f"{rule.__module__.rsplit('.', 1)[-1]}.{rule.__name__}"
        checks.append(ReferenceCheck(text, reference, name, doc, status, how))
    return Explanation(request, extraction, answer, tuple(checks), verdict)


def render(explanation: Explanation) -> str:
    """The explanation as lines of text for a terminal."""
    e, x = explanation, explanation.extraction
    lines = [
        f"extraction: method={x.method}, requested format {e.request.answer_format!r}: {x.format.value}"
        + (f", span [{x.start}, {x.end})" if x.start is not None else ""),
        f"  extracted: {x.answer!r}",
        f"answer:    {e.answer.describe() if e.answer is not None else '(none)'}",
    ]
    for k, check in enumerate(e.checks, 1):
        name = "reference" if len(e.checks) == 1 else f"reference {k}"
        lines += [
            f"{name}: {check.parsed.describe()}   <- {check.reference!r}",
            f"  rule: {check.rule}" + (f" -- {check.rule_doc}" if check.rule_doc else ""),
            f"  decided by: {check.decided_by} -> {check.status.value}",
        ]
    v = e.verdict
    lines += [
        f"verdict: correct={v.correct} (format_ok={v.format_ok}, content={v.content.value}), "
        f"lenient_correct={v.lenient_correct}, reward={v.reward}",
        f"reason: {v.reason}",
    ]
    return "\n".join(lines)
