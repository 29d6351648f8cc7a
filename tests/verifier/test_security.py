"""Untrusted text is never executed, and runaway inputs cannot hang or exhaust the grader.

Completions come from a policy being optimised against the grader, and references come from
datasets we do not control: both are attacker-controlled strings. No path may eval/exec/sympify
them, and inputs built to explode (exponent towers, huge factorials, megabyte answers, deep
nesting) must end as a timeout or an unparseable verdict within the budget, with bounded memory.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from rlvr_eval.verifier import api, sandbox
from rlvr_eval.verifier.api import is_equivalent, verify
from rlvr_eval.verifier.batch import verify_batch
from rlvr_eval.verifier.schema import ContentStatus

PAYLOADS = [
    "__import__('os').system('touch {marker}')",
    "eval(\"__import__('os').system('touch {marker}')\")",
    "exec(\"import os; os.system('touch {marker}')\")",
    "(lambda: __import__('os').system('touch {marker}'))()",
    "__import__('subprocess').run(['touch', '{marker}'])",
    "open('{marker}', 'w').write('x')",
    "().__class__.__bases__[0].__subclasses__()[0]('touch {marker}')",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]('touch {marker}')",
    "Symbol('x').__class__.__init__.__globals__['os'].system('touch {marker}')",
    "\\immediate\\write18{{touch {marker}}}",
    "\\input{{{marker}}}",
    "$(touch {marker})",
]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    api.cache_clear()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_never_executed(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = payload.format(marker=marker)
    as_answer = verify(f"Final: \\boxed{{{text}}}", "0", timeout=5)
    as_reference = verify("Final: \\boxed{0}", text, timeout=5)
    as_both_sides = is_equivalent(text, "1", timeout=5)
    assert not marker.exists(), f"payload executed: {text}"
    for verdict in (as_answer, as_reference):
        assert not verdict.correct
        assert verdict.content in (ContentStatus.DIFFERENT, ContentStatus.UNPARSEABLE), verdict
    assert not as_both_sides


def test_payloads_in_batch_workers_are_never_executed(tmp_path: Path) -> None:
    markers = [tmp_path / f"pwned_{i}" for i in range(len(PAYLOADS))]
    texts = [p.format(marker=m) for p, m in zip(PAYLOADS, markers, strict=True)]
    completions = [f"\\boxed{{{t}}}" for t in texts] + ["\\boxed{0}"] * len(texts)
    references = ["0"] * len(texts) + texts
    verdicts = verify_batch(completions, references, workers=2, timeout=5)
    assert not any(m.exists() for m in markers)
    assert not any(v.correct for v in verdicts)


# --------------------------------------------------------------------------- runaway inputs

BUDGET = 2.0
SLACK = 2.0


def _nested(depth: int, open_: str, close: str, core: str = "1") -> str:
    return open_ * depth + core + close * depth


RUNAWAY = {
    "exponent tower": ("\\boxed{9^{9^{9^{9}}}}", "1"),
    "tower vs tower": ("\\boxed{9^{9^{9^{9}}}}", "9^{9^{9^{8}}}"),
    "power of ten tower": ("\\boxed{10^{10^{10}}}", "2"),
    "huge factorial": ("\\boxed{1000000!}", "1000001!"),
    "factorial of tower": ("\\boxed{(10^{10})!}", "2"),
    "one megabyte completion": ("step " * 200_000 + "\\boxed{3}", "4"),
    "one megabyte boxed": ("\\boxed{" + "1+" * 500_000 + "1}", "2"),
    "10k nested braces": ("\\boxed{" + _nested(10_000, "{", "}") + "}", "2"),
    "10k unbalanced braces": ("\\boxed{" + "{" * 10_000 + "1", "2"),
    "deep frac": ("\\boxed{" + _nested(300, "\\frac{1}{", "}", "2") + "}", "1"),
    "deep sqrt": ("\\boxed{" + _nested(500, "\\sqrt{", "}", "2") + "}", "3"),
    "deep parens": ("\\boxed{" + _nested(3000, "(", ")") + "}", "2"),
}


@pytest.fixture
def warm_sandbox() -> None:
    # A killed worker's replacement imports sympy (~1-2 s, not charged to any call's budget);
    # start each timing test with warm workers so only the call's own budget is measured.
    sandbox._default_pool().warm_up(2)


@pytest.mark.parametrize("name", list(RUNAWAY))
def test_runaway_inputs_end_fast(name: str, warm_sandbox: None) -> None:
    completion, reference = RUNAWAY[name]
    t0 = time.monotonic()
    verdict = verify(completion, reference, timeout=BUDGET)
    elapsed = time.monotonic() - t0
    assert elapsed < BUDGET + SLACK, f"{name}: {elapsed:.2f} s"
    assert not verdict.correct
    assert verdict.content is not ContentStatus.EQUAL


def test_memory_stays_bounded() -> None:
    # The parent never computes big values (the sandbox does, under an address-space cap).
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in ("exponent tower", "power of ten tower", "huge factorial", "one megabyte boxed"):
        verify(*RUNAWAY[name], timeout=1.0)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 300, f"parent grew by {grown_mb:.0f} MB"
    soft, _ = sandbox.run_guarded(resource.getrlimit, resource.RLIMIT_AS, timeout=5)
    assert soft != resource.RLIM_INFINITY and soft < 16 * 1024**3  # the worker's cap is in place
