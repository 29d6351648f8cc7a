"""``answer_present``: is the reference stated anywhere in a completion, final answer or not.

Tables in both directions, the bounds (candidate cap, one timeout for the whole search), the
``Verdict.answer_present`` field through `verify` and `verify_batch` (a hung presence search costs
only its own answer, never the item's verdict), and hypothesis properties: never raises, bounded time.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr_eval import verify, verify_batch
from rlvr_eval.verifier import answer_present
from rlvr_eval.verifier.presence import MAX_CANDIDATES, dedupe_key
from rlvr_eval.verifier.sandbox import warm_up_sandbox
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

TOWER = "3^{3^{3^{99999}}}"  # the symbolic path never finishes with it (sympy stalls in C)

PRESENT = [
    # (completion, reference, the stated answer that matched)
    ("We find $x = 12$. Then adding one, the answer is $\\boxed{13}$.", "12", "x = 12"),
    ("So $3 \\times 4 = 12$ apples. Hence \\boxed{7}.", "12", "3 \\times 4 = 12"),  # a computation
    ("First I get \\boxed{12}. Wait, that is wrong: the answer is \\boxed{13}.", "12", "12"),  # corrected box
    ("The total is 12 dollars.\nA: 13", "12", "12"),  # a value stated in prose
    ("This gives $\\frac{24}{2}$ in total, so the answer is 11.", "12", "\\frac{24}{2}"),  # equal value
    ("Probability $0.5$; the final answer is $\\frac{1}{3}$.", "\\frac{1}{2}", "0.5"),
    ("The answer is $[2, 9)$ hmm, or rather \\boxed{(2, 9)}.", "[2,9)", "[2, 9)"),
    # the symbolic path for an answer given as an answer (a box), not decidable by the fast path
    ("So \\boxed{\\cos 60^\\circ}. Simplifying wrongly, \\boxed{1}.", "\\frac{1}{2}", "\\cos 60^\\circ"),
    ("The roots are \\boxed{-3} and \\boxed{8}. Checking, only \\boxed{8} works.", ["-3", "8"], "-3, 8"),
]

ABSENT = [
    ("We find $x = 11$. Then adding one, the answer is $\\boxed{13}$.", "12"),  # the value nowhere
    ("Consider $x^2 + 12x + 5 = 0$. So \\boxed{13}.", "12"),  # 12 only inside a larger expression
    ("We get $120$ and $\\frac{12}{5}$, so \\boxed{13}.", "12"),  # digits of 12, never the value 12
    ("After 12 steps of the loop we stop. The answer is 13.", "12"),  # a count in prose, not a stated value
    ("", "12"),
    # an expression copied from the question is not a found answer, though it has the value
    ("We need $2^{10}$. I think it is \\boxed{1000}.", "1024"),
    # the fast path only, for math spans: an unevaluated trig value is working, not a found answer
    ("Note $\\cos 60^\\circ$ appears. So \\boxed{1}.", "\\frac{1}{2}"),
    # several answers are one reference: one part alone is not it
    ("Only \\boxed{8} works.", ["-3", "8"]),
]


@pytest.mark.parametrize(("completion", "reference", "matched"), PRESENT)
def test_present_where_the_reference_is_stated(completion: str, reference, matched: str) -> None:
    options = EquivalenceOptions(multiple_answers=isinstance(reference, list))
    result = answer_present(completion, reference, options=options)
    assert result.present and result.complete
    assert result.match is not None and result.match.text == matched
    assert completion[result.match.start : result.match.end] == matched or "," in matched


@pytest.mark.parametrize(("completion", "reference"), ABSENT)
def test_absent_where_the_reference_is_not_stated(completion: str, reference) -> None:
    options = EquivalenceOptions(multiple_answers=isinstance(reference, list))
    prompt = "Compute $2^{10}$." if "2^{10}" in completion else None
    result = answer_present(completion, reference, options=options, prompt=prompt)
    assert not result.present and result.match is None and result.complete


def test_restated_question_counts_when_it_is_the_reference_itself() -> None:
    assert answer_present("We need $2^{10}$.", "1024").present  # without the question: its value is stated
    assert not answer_present("We need $2^{10}$.", "1024", prompt="Compute $2^{10}$.").present
    assert answer_present("So $1024$ it is.", "1024", prompt="Compute $2^{10}$.").present


def test_a_list_of_references_means_any_of_them() -> None:
    assert answer_present("We get $x = 7$, so \\boxed{9}.", ["6", "7"]).present
    assert not answer_present("We get $x = 5$, so \\boxed{9}.", ["6", "7"]).present


def test_candidates_are_deduplicated_and_capped() -> None:
    assert dedupe_key("\\left( 1,\\, 2 \\right)") == dedupe_key("(1,2)")
    repeated = "So $x=5$. " * 300 + "Thus \\boxed{9}."
    result = answer_present(repeated, "12")
    assert result.candidates == 2 and result.compared == 2 and result.complete

    spans = " ".join(f"${n}$" for n in range(1000, 1000 + 3 * MAX_CANDIDATES))
    early = "First $12$. " + spans + " So \\boxed{9}."
    capped = answer_present(early, "12")
    assert not capped.present and not capped.complete and capped.compared == MAX_CANDIDATES
    # explicit answers are compared first, latest math spans next: a box is found among any number of spans
    boxed = "First \\boxed{12}. " + spans + " So \\boxed{9}."
    assert answer_present(boxed, "12").present


def test_one_timeout_bounds_the_whole_search() -> None:
    warm_up_sandbox()  # the first worker's start is never charged to a budget; keep it out of the clock
    text = " ".join(f"\\boxed{{{n}^{{{TOWER}}}}}" for n in range(2, 40)) + " \\boxed{1}"
    start = time.monotonic()
    result = answer_present(text, "12345678", timeout=0.5)
    assert time.monotonic() - start < 0.5 + 1.0
    assert not result.present and not result.complete  # the stalled comparisons cut it short


def test_verdict_carries_it_only_when_asked() -> None:
    completion = "First I get \\boxed{12}. Wait: the answer is \\boxed{13}."
    assert verify(completion, "12").answer_present is None
    verdict = verify(completion, "12", check_answer_present=True)
    assert not verdict.correct and verdict.answer_present is True
    assert verify(completion, "14", check_answer_present=True).answer_present is False
    right = verify("so \\boxed{12}", "12", check_answer_present=True)
    assert right.correct and right.answer_present is True


def test_batch_second_pass_matches_in_process_and_a_hang_costs_only_presence() -> None:
    completions = [
        "We find $x = 12$. So \\boxed{13}.", "So \\boxed{12}.", "So \\boxed{13}.", "The answer is 12.",
        "Nothing here.", "First \\boxed{12}, no: \\boxed{11}.", "$x^2+12x$ so \\boxed{1}.",
        "So $24/2$; \\boxed{5}.",
    ]
    references = ["12"] * len(completions)
    expected = [verify(c, "12", check_answer_present=True, timeout=2.0) for c in completions]
    assert [v.answer_present for v in expected] == [True, True, False, True, False, True, False, True]
    batch = verify_batch(completions, references, workers=2, timeout=2.0, check_answer_present=True)
    assert batch == expected
    assert all(v.answer_present is None for v in verify_batch(completions, references, workers=2))

    # a stated expression that stalls sympy: the worker is killed at the deadline, the verdict stays
    hung = f"First \\boxed{{{TOWER}}}. So \\boxed{{7}}."
    verdicts = verify_batch([hung, *completions], ["12345678", *references], workers=2, timeout=0.5,
                            check_answer_present=True)
    assert verdicts[0].answer_present is None
    assert verdicts[0].content is ContentStatus.DIFFERENT and verdicts[0].extracted == "7"
    assert [v.answer_present for v in verdicts[1:]] == [v.answer_present for v in expected]


_PIECES = st.sampled_from([
    "$", "$$", "\\boxed{", "\\fbox{", "}", "{", "\\frac{", "12", "1", "2", "x", "=", "+", "^", "\\times",
    "The answer is ", "answer: ", "<answer>", "</answer>", "#### ", "\nA: ", ". ", " ", "\\(", "\\)", "\\[",
    "\\]", "(", ")", ",", "\\sqrt{", "\\pi", "\\cos", "^\\circ", "\\text{", "Human: ", "<|im_end|>", TOWER,
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=120).map("".join), st.sampled_from(["12", "\\frac{1}{2}", "[2,9)", "x+1"]))
def test_never_raises_and_stays_bounded(text: str, reference: str) -> None:
    start = time.monotonic()
    result = answer_present(text, reference, timeout=0.3)
    assert time.monotonic() - start < 0.3 + 1.5
    assert result.compared <= min(result.candidates, MAX_CANDIDATES)
    assert result.present == (result.match is not None)


@pytest.mark.parametrize("text", [
    "$" * 1_000_000,
    "the answer is 3. " * 60_000,
    " ".join(f"${n}+{n}={2 * n + 1}$" for n in range(10_000)),  # 10k math spans
    "\\boxed{" * 100_000,
    "{" * 500_000 + "}" * 500_000,
])
def test_adversarial_megabytes_stay_bounded(text: str) -> None:
    start = time.monotonic()
    result = answer_present(text, "12345678", timeout=1.0)
    assert time.monotonic() - start < 1.0 + 2.0
    assert not result.present


def test_result_does_not_depend_on_what_the_cache_holds() -> None:
    span = "Note $\\cos 60^\\circ$ appears. So \\boxed{1}."
    before = answer_present(span, "\\frac{1}{2}")
    assert answer_present("So \\boxed{\\cos 60^\\circ}. Then \\boxed{1}.", "\\frac{1}{2}").present
    assert answer_present(span, "\\frac{1}{2}") == before  # the box's symbolic result is cached now
    assert not before.present
