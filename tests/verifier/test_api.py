"""The public API on the real layers: format vs content, strictness, reference lists, cache, errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier import api
from rlvr_eval.verifier.api import is_equivalent, verify
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions, FormatStatus

EQ, DIFF = ContentStatus.EQUAL, ContentStatus.DIFFERENT


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    api.cache_clear()


@pytest.mark.parametrize(
    ("completion", "reference", "kwargs", "correct", "fmt", "content", "method"),
    [
        ("Thus $x = \\boxed{\\frac{1}{2}}$.", "0.5", {}, True, FormatStatus.OK, EQ, "requested"),
        ("Thus $x = \\boxed{\\frac{1}{3}}$.", "0.5", {}, False, FormatStatus.OK, DIFF, "requested"),
        # format failed, content right: the lenient score credits it, the strict one does not
        ("The answer is 5/6.", "\\frac56", {}, False, FormatStatus.NO_ANSWER, EQ, "answer_phrase"),
        ("The answer is 5/6.", "\\frac56", {"strict": False}, True, FormatStatus.NO_ANSWER, EQ,
         "answer_phrase"),
        ("so \\boxed{5/6}", "\\frac56", {"finish_reason": "length"}, False, FormatStatus.TRUNCATED, EQ,
         "requested"),
        ("so \\boxed{}", "72", {}, False, FormatStatus.EMPTY, ContentStatus.NOT_CHECKED, "none"),
        ("", "72", {}, False, FormatStatus.NO_ANSWER, ContentStatus.NOT_CHECKED, "none"),
        ("#### 72", "72", {"answer_format": "gsm8k"}, True, FormatStatus.OK, EQ, "requested"),
        ("I pick \\boxed{B}", "B", {"answer_format": "multiple_choice"}, True, FormatStatus.OK, EQ,
         "requested"),
        ("\\boxed{(1,2)}", "[1,2]", {}, False, FormatStatus.OK, DIFF, "requested"),
    ],
)
def test_format_and_content_layers(
    completion: str, reference: str, kwargs: dict, correct: bool, fmt: FormatStatus, content: ContentStatus,
    method: str,
) -> None:
    verdict = verify(completion, reference, **kwargs)
    assert (verdict.correct, verdict.format, verdict.content, verdict.extraction_method) == (
        correct, fmt, content, method
    )
    assert verdict.reward == (1.0 if correct else 0.0)
    assert verdict.lenient_correct == (content is EQ)
    assert verdict.reason  # always a human-readable explanation


def test_reference_list_means_any_of() -> None:
    assert verify("so \\boxed{3}", ["2", "3"]).correct
    assert not verify("so \\boxed{4}", ["2", "3"]).correct
    assert "any of '2', '3'" in verify("so \\boxed{4}", ["2", "3"]).reason


def test_reference_list_with_multiple_answers_needs_all_parts() -> None:
    options = EquivalenceOptions(multiple_answers=True)
    assert verify("so \\boxed{3, 2}", ["2", "3"], options=options).correct
    assert verify("so \\boxed{3}", ["2", "3"], options=options).content is DIFF  # a subset is not enough


def test_answer_type_is_a_shortcut_for_options() -> None:
    a = verify("so \\boxed{x \\in (0, 1]}", "(0,1]", answer_type="interval")
    b = verify("so \\boxed{x \\in (0, 1]}", "(0,1]", options=EquivalenceOptions(answer_type="interval"))
    assert a == b and a.correct


def test_symbolic_path_through_the_sandbox() -> None:
    verdict = verify("so \\boxed{\\sqrt{1/n}}", "\\frac{1}{\\sqrt{n}}", timeout=10)
    assert verdict.correct and "symbolic" in verdict.reason
    assert verify("so \\boxed{1-\\frac{1}{e}}", "1+\\frac{1}{e}", timeout=10).content is DIFF


def test_restating_the_question_is_not_credited() -> None:
    prompt = "Evaluate $2^{10}$."
    assert verify("\\boxed{2^{10}}", "1024", prompt=prompt).content is DIFF
    assert verify("\\boxed{1024}", "1024", prompt=prompt).correct
    assert verify("\\boxed{2^{10}}", "1024").correct  # without the prompt it cannot be known
    # the reference itself may appear in the question
    assert verify("\\boxed{\\sqrt{53}}", "\\sqrt{53}", prompt="Simplify $\\sqrt{53}$ if possible.").correct


def test_is_equivalent_options_and_timeout() -> None:
    assert is_equivalent("0.5", "\\frac{1}{2}")
    assert not is_equivalent("12.7", "12.8")
    assert is_equivalent("5 cm", "5", unit="cm", timeout=2)
    assert is_equivalent("3, 1, 2", "1, 2, 3", multiple_answers=True)
    with pytest.raises(ValueError, match="extra"):
        is_equivalent("1", "1", no_such_option=True)


def test_cache_hits_and_keys_on_normalized_text() -> None:
    verify("\\boxed{\\dfrac{1}{2}}", "0.5")
    before = api.cache_info()
    again = verify("so $\\boxed{\\frac{1}{2}}$", "0.5")  # same normalized answer
    after = api.cache_info()
    assert again.correct and after["hits"] == before["hits"] + 1
    # options are part of the key: a tolerance can change the verdict
    assert not is_equivalent("3.14", "3.14159")
    assert is_equivalent("3.14", "3.14159", rel_tol=1e-3)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: verify(None, "1"), TypeError, "completion must be a str"),  # type: ignore[arg-type]
        (lambda: verify("\\boxed{1}", 1), TypeError, "reference must be a string"),  # type: ignore[arg-type]
        (lambda: verify("\\boxed{1}", []), TypeError, "reference must be a string"),
        (lambda: verify("\\boxed{1}", "1", options={"rel_tol": 1}), TypeError, "EquivalenceOptions"),
        (lambda: verify("\\boxed{1}", "1", answer_format="latex"), ValueError, "answer_format"),
        (lambda: verify("\\boxed{1}", "1", timeout=-1), ValueError, "timeout"),
    ],
)
def test_bad_arguments_are_one_line_errors(call, error: type[Exception], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        call()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from([*"0123456789+-*/^{}()[]\\,. xabc$=", "\\boxed{", "\\frac"]), max_size=40).map(
        "".join
    ),
    st.sampled_from(["1", "\\frac{1}{2}", "x+1", "(1,2)"]),
)
def test_verdict_invariants_on_arbitrary_text(completion: str, reference: str) -> None:
    verdict = verify(completion, reference, timeout=5)
    assert verdict.correct == (verdict.format_ok and verdict.content is EQ)
    assert verdict.reward == float(verdict.correct)
    assert (verdict.extracted is None) == (verdict.content is ContentStatus.NOT_CHECKED)
    assert verdict.content is not ContentStatus.TIMEOUT  # short inputs finish well within budget


def test_verify_batch_equals_sequential_verify() -> None:
    from rlvr_eval.verifier.batch import verify_batch

    cases = [
        ("Thus \\boxed{\\frac{1}{2}}.", "0.5", None, None),
        ("The answer is 5/6.", "\\frac56", None, None),
        ("so \\boxed{5/6}", "\\frac56", "length", None),
        ("\\boxed{\\sqrt{1/n}}", "\\frac{1}{\\sqrt{n}}", None, None),
        ("\\boxed{3, 2}", ["2", "3"], None, EquivalenceOptions(multiple_answers=True)),
        ("\\boxed{3}", ["2", "3"], None, None),
        ("\\boxed{5 cm}", "5", None, EquivalenceOptions(unit="cm")),
        ("nothing here", "1", None, None),
        ("\\boxed{(1,2)}", "[1,2]", None, None),
        ("\\boxed{x^2+2x+1}", "(x+1)^2", "stop", None),
    ] * 3
    completions, references, reasons, options = (list(column) for column in zip(*cases, strict=True))
    batch = verify_batch(
        completions, references, workers=2, finish_reasons=reasons, options=options, timeout=10
    )
    sequential = [
        verify(c, r, finish_reason=f, options=o, timeout=10) for c, r, f, o in cases
    ]
    assert batch == sequential
    assert [v.correct for v in batch[:10]] == [True, False, False, True, True, True, True, False, False, True]


def test_verify_batch_from_two_threads_at_once() -> None:
    # The second caller finds the persistent pool busy and gets a temporary one: no interleaving.
    from concurrent.futures import ThreadPoolExecutor

    from rlvr_eval.verifier.batch import verify_batch

    completions = [f"so \\boxed{{{i}}}" for i in range(40)]

    def run(k: int) -> list[bool]:
        refs = [str(i + k) for i in range(40)]
        return [v.correct for v in verify_batch(completions, refs, workers=2, timeout=10)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(run, range(2))
    assert first == [True] * 40 and second == [False] * 40  # a mix-up between calls would show
