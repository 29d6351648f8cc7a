"""Red-team robustness (issue 8): hostile and random LaTeX-ish completions never raise or hang, in threads
and in `verify_batch`, and floods of answer markers after (or before) a real answer do not change it.

`test_security.py` covers exponent towers, huge factorials, megabyte answers and deep nesting; this file
adds floods of the things the extraction layer scans for (answer phrases, boxes, tags, fences, turn
words, math delimiters), long but legal answers, and a grammar fuzz over the verifier's own vocabulary.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier import sandbox
from rlvr_eval.verifier.api import is_equivalent, verify
from rlvr_eval.verifier.batch import verify_batch
from rlvr_eval.verifier.schema import ContentStatus, Verdict

TIMEOUT = 1.0
SLACK = 2.5  # a killed worker's replacement and a loaded 2-core machine

#: What completions are made of, as far as the extraction and parsing layers are concerned.
TOKENS = [
    "\\frac", "\\dfrac", "\\sqrt", "^", "_", "{", "}", "\\boxed{", "\\boxed", "\\fbox{", "1", "7", "0",
    "12", "3.5", "x", "n", "i", "e", "\\pi", "\\left(", "\\right)", "(", ")", "[", "]", "\\{", "\\}",
    "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "\\text{", "=", "<", "\\le", "\\infty", "\\cup",
    "%", "\\%", "$", "$$", "\\(", "\\)", "\\[", "\\]", "\\pm", ",", ":", " ", "\n", "-", "+", "\\cdot",
    "\\times", "/", "!", "\\binom", "\\log", "\\sin", "^\\circ", "°", "∞", "−", "\\overline", "\\mathbf",
    "\\mathrm{", "\\lfloor", "\\rfloor", "|", "The answer is ", "Final Answer: ", "**", "<answer>",
    "</answer>", "####", "A: ", "```", "```python\n", "\\approx", "\\in", "\\mid", "\\mathbb{R}", "e-7",
    "10^{", "\\,", "\\!", "{,}", "\\$", "\\quad", "\\text{ and }", " or ", "\\bmod", "\\pmod{", "\\gcd",
    "\\begin{cases}", "\\end{cases}", "_{2}", "\\ldots", "\\sum_{k=1}^{n}", "\\int", "\\mu", "9^{9^{9}}",
    "1000!", "\x00", "\u202e", "<|im_end|>", "Problem 2:", "Human:", "### Exercise", "dozen", " million",
    "\\sqrt[3]{",
]
REFERENCES = [
    "5", "\\frac{1}{2}", "(1,2)", "[0,\\infty)", "x^2+1", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "3+4i",
    "\\text{(B)}", "2,3", "10^{-3}", "0",
]

texts = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=120).map("".join)


@pytest.fixture(scope="module", autouse=True)
def warm_sandbox() -> None:
    sandbox._default_pool().warm_up(2)


def _timed(text: str, reference: str) -> tuple[float, Verdict, bool]:
    t0 = time.monotonic()
    verdict = verify(text, reference, strict=False, timeout=TIMEOUT)
    equal = is_equivalent(text[:400], reference, timeout=TIMEOUT)
    return time.monotonic() - t0, verdict, equal


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.tuples(texts, st.sampled_from(REFERENCES) | texts), min_size=4, max_size=4))
def test_random_latexish_text_in_threads(batch: list[tuple[str, str]]) -> None:
    # four calls at once from a thread pool: each ends within its budget with a verdict, never raises
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda pair: _timed(*pair), batch))
    for (text, reference), (elapsed, verdict, equal) in zip(batch, results, strict=True):
        assert isinstance(verdict, Verdict) and isinstance(equal, bool)
        # verify, then is_equivalent: two budgets
        assert elapsed < 2 * TIMEOUT + SLACK, (text[:200], reference, elapsed)


#: (completion, reference, expected verdict): floods around a clear answer; None: any verdict, in time.
FLOODS = {
    "10k numbers after a box": (
        "The answer is $\\boxed{42}$.\n" + " ".join(map(str, range(10_000))), "42", True
    ),
    "answer phrase flood": ("The answer is 3. " * 50_000, "3", None),
    "answer colon flood": ("Answer: " * 100_000 + "5", "5", None),
    "final answer flood": ("Final Answer: The final answer is " * 30_000 + "$5$", "5", None),
    "open boxes before an answer": ("\\boxed{" * 20_000 + "\n\nThe answer is $\\boxed{7}$.", "7", None),
    "open boxes only": ("\\boxed{" * 50_000, "1", False),
    "closed boxes": ("\\boxed{1}" * 20_000, "1", None),
    "dollar flood": ("$" * 200_000 + "\\boxed{5}", "5", None),
    "inline math flood": ("$x$ " * 100_000 + "So the answer is $5$.", "5", None),
    "code fences before": ("```\n" * 30_000 + "\\boxed{5}", "5", None),
    "code blocks after": ("\\boxed{5}\n" + "```py\nx = 1\n```\n" * 20_000, "5", True),
    "turn words after": ("\\boxed{5}\n" + "Problem Human User Q " * 50_000, "5", True),
    "answer tags open": ("<answer>" * 50_000 + "5</answer>", "5", None),
    "bidi and nulls": ("\u202e\x00" * 50_000 + "\\boxed{5}", "5", None),
    "carriage returns": ("a\r" * 100_000 + "The answer is 5", "5", None),
    "long legal sum": ("\\boxed{" + "+".join(["1"] * 2_400) + "}", "2400", None),
    "2000-element set": ("\\boxed{\\{" + ",".join(map(str, range(2_000))) + "\\}}", "1", False),
    "500-interval union": (
        "\\boxed{" + "\\cup".join(f"({2 * k},{2 * k + 1})" for k in range(500)) + "}", "(0,1)", False
    ),
    "60x60 matrix": ("\\boxed{\\begin{pmatrix}" + "\\\\".join("&".join("1" * 60) for _ in range(60))
                     + "\\end{pmatrix}}", "1", False),
    "sin tower": ("\\boxed{" + "\\sin(" * 200 + "1" + ")" * 200 + "}", "0.5", False),
    "label chain": ("\\boxed{" + "=".join(["x"] * 2_000) + "=5}", "5", None),
    "relation chain": ("\\boxed{" + "<".join(map(str, range(1_500))) + "}", "1", False),
}


@pytest.mark.parametrize("name", list(FLOODS))
def test_floods_end_in_time(name: str) -> None:
    completion, reference, expected = FLOODS[name]
    t0 = time.monotonic()
    verdict = verify(completion, reference, strict=False, timeout=TIMEOUT)
    elapsed = time.monotonic() - t0
    assert elapsed < TIMEOUT + SLACK, f"{name}: {elapsed:.2f} s"
    if expected is not None:
        assert verdict.correct is expected, (name, verdict.extracted, verdict.reason)


def test_floods_in_verify_batch_keep_order() -> None:
    names = list(FLOODS)
    completions = [FLOODS[n][0] for n in names] + ["\\boxed{9}"]
    references = [FLOODS[n][1] for n in names] + ["9"]
    t0 = time.monotonic()
    verdicts = verify_batch(completions, references, workers=2, timeout=TIMEOUT, strict=False)
    assert len(verdicts) == len(completions)
    assert time.monotonic() - t0 < len(completions) * (TIMEOUT + SLACK)
    assert verdicts[-1].correct  # the last, easy item is not lost behind the hostile ones
    for name, verdict in zip(names, verdicts, strict=False):
        expected = FLOODS[name][2]
        if expected is not None:
            assert verdict.correct is expected, name
        assert verdict.content is not ContentStatus.NOT_CHECKED or not verdict.correct
