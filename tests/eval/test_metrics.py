"""Metrics against hand-computed values and brute-force enumeration."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_eval.scoring.metrics import (
    avg_at_k,
    bootstrap_ci,
    breakdown,
    format_content_split,
    has_repeated_tail,
    is_repetition_loop,
    majority_correct,
    mean_pass_at_k,
    pass_at_k,
    pass_k_values,
    summarize_task,
    vote_key,
)
from rlvr_eval.scoring.records import SampleRecord
from rlvr_eval.verifier.schema import ContentStatus, FormatStatus, Verdict


def make_record(
    item_id: str = "q1",
    sample_index: int = 0,
    *,
    task: str = "math500",
    format_ok: bool = True,
    content_equal: bool = True,
    extracted: str | None = "1",
    finish_reason: str = "stop",
    completion: str = "so \\boxed{1}",
    metadata: dict[str, Any] | None = None,
) -> SampleRecord:
    fmt = FormatStatus.OK if format_ok else FormatStatus.NO_ANSWER
    if finish_reason == "length" and not format_ok:
        fmt = FormatStatus.TRUNCATED
    content = ContentStatus.EQUAL if content_equal else ContentStatus.DIFFERENT
    correct = format_ok and content_equal
    verdict = Verdict(
        correct=correct,
        format=fmt,
        format_ok=format_ok,
        extracted=extracted,
        extraction_method="requested" if format_ok else "last_number",
        content=content,
        reward=1.0 if correct else 0.0,
    )
    return SampleRecord(
        task=task,
        item_id=item_id,
        sample_index=sample_index,
        prompt=f"Question {item_id}",
        completion=completion,
        finish_reason=finish_reason,
        reference="1",
        extracted=extracted,
        verdict=verdict,
        metadata=metadata or {},
    )


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (10, 3, 1, 0.3),  # pass@1 is the plain accuracy
        (4, 2, 2, 1 - 1 / 6),  # 1 - C(2,2)/C(4,2)
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (8, 1, 8, 1.0),
        (8, 0, 8, 0.0),
        (5, 4, 2, 1.0),  # fewer than k wrong samples: always passes
    ],
)
def test_pass_at_k_hand_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 0), (3, 1, 4), (3, -1, 1)])
def test_pass_at_k_rejects_bad_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=9), st.data())
def test_pass_at_k_equals_brute_force_over_subsets(samples: list[bool], data: st.DataObject) -> None:
    """pass@k is the chance that a uniformly drawn size-k subset holds a correct sample."""
    n = len(samples)
    k = data.draw(st.integers(1, n))
    subsets = list(itertools.combinations(range(n), k))
    brute = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, sum(samples), k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_k_large_n_is_finite_and_monotone() -> None:
    values = [pass_at_k(2000, 7, k) for k in (1, 10, 100, 1000)]
    assert values == sorted(values)
    assert values[0] == pytest.approx(7 / 2000)
    assert all(math.isfinite(v) for v in values)


def test_avg_and_mean_pass_at_k() -> None:
    correct = [[True, False, False, False], [True, True, True, True], [False] * 4]
    assert avg_at_k(correct) == pytest.approx((0.25 + 1 + 0) / 3)
    assert mean_pass_at_k(correct, 1) == pytest.approx(avg_at_k(correct))
    assert mean_pass_at_k(correct, 4) == pytest.approx(2 / 3)
    assert pass_k_values(8) == [1, 2, 4, 8]
    assert pass_k_values(6) == [1, 2, 4, 6]
    assert pass_k_values(1) == [1]


def test_majority_vote_counts_equivalent_spellings_together() -> None:
    # "1/2" and "\frac{1}{2}" and "0.5" are one answer with 3 votes against "3" with 2.
    answers = ["3", "1/2", "\\frac{1}{2}", "3", "0.5"]
    correct = [False, True, True, False, True]
    assert majority_correct(answers, correct)
    assert not majority_correct(["3", "3", "1/2"], [False, False, True])


def test_majority_vote_ties_and_missing_answers() -> None:
    assert majority_correct(["7", "8"], [True, False])  # tie: first seen wins
    assert not majority_correct(["8", "7"], [False, True])
    assert majority_correct([None, None, "2"], [False, False, True])  # no answer, no vote
    assert not majority_correct([None, None], [False, False])
    with pytest.raises(ValueError):
        majority_correct(["1"], [True, False])


def test_vote_key_keeps_lists_apart_from_thousands() -> None:
    assert vote_key("1,000") == vote_key("1000")
    assert vote_key("1,2") != vote_key("12")
    assert vote_key("\\left( 1, 2 \\right)") == vote_key("(1,2)")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=60), st.integers(0, 2**32 - 1))
def test_bootstrap_ci_contains_mean_and_is_seeded(values: list[float], seed: int) -> None:
    low, high = bootstrap_ci(values, n_resamples=300, seed=seed)
    mean = sum(values) / len(values)
    assert low - 1e-9 <= mean <= high + 1e-9
    assert (low, high) == bootstrap_ci(values, n_resamples=300, seed=seed)


def test_bootstrap_ci_narrows_with_more_items() -> None:
    small = bootstrap_ci([1, 0] * 10, seed=0)
    large = bootstrap_ci([1, 0] * 1000, seed=0)
    assert small[1] - small[0] > large[1] - large[0] > 0
    assert bootstrap_ci([1.0] * 5) == (1.0, 1.0)
    assert bootstrap_ci([], seed=0) == (0.0, 0.0)
    assert bootstrap_ci([0, 1] * 30, seed=1) != bootstrap_ci([0, 1] * 30, seed=2)


def test_format_content_split_on_hand_built_records() -> None:
    records = [
        make_record("a", format_ok=True, content_equal=True),  # strict + lenient
        make_record("b", format_ok=True, content_equal=False),  # well formatted, wrong
        make_record("c", format_ok=False, content_equal=True),  # right but unboxed: lenient only
        make_record("d", format_ok=False, content_equal=False, finish_reason="length",
                    completion="x" + " and again we loop" * 40),
    ]
    split = format_content_split(records)
    assert split["strict_accuracy"] == pytest.approx(1 / 4)
    assert split["lenient_accuracy"] == pytest.approx(2 / 4)
    assert split["format_rate"] == pytest.approx(2 / 4)
    assert split["content_accuracy_formatted"] == pytest.approx(1 / 2)
    assert split["truncation_rate"] == pytest.approx(1 / 4)
    assert split["repetition_rate"] == pytest.approx(1 / 4)
    assert format_content_split([make_record(format_ok=False)])["content_accuracy_formatted"] is None


LOOP = "Therefore the area is 12. " * 30
PROSE = (
    "We first expand the product and collect terms by degree. The constant term vanishes because "
    "the roots sum to zero, and then Vieta gives the coefficient of x directly. Substituting back "
    "into the original equation shows that only one root is real, so the answer is 7. "
)


@pytest.mark.parametrize(
    ("text", "looping"),
    [
        (PROSE + LOOP, True),  # a sentence repeated to the end
        (PROSE + "0" * 300, True),  # a character loop with no token boundaries
        (PROSE + "\\frac{1}{2}" * 40, True),  # LaTeX loop
        (PROSE + LOOP + "Therefore the ar", True),  # cut mid-word by the length limit
        (PROSE + ("Now we check the second case where n is even and m is odd. " * 8) + "Now we ch", True),
        (PROSE + LOOP + "Hence the answer is 12.", False),  # the loop was escaped
        (PROSE, False),
        (PROSE * 2 + "The final answer is 7.", False),  # the repeat is not at the tail
        ("so 1 1 1", False),  # too short to call a loop
        ("", False),
    ],
)
def test_repeated_tail_detector(text: str, looping: bool) -> None:
    assert has_repeated_tail(text) is looping


def test_repetition_needs_truncation() -> None:
    looping = PROSE + LOOP
    assert is_repetition_loop(make_record(completion=looping, finish_reason="length"))
    assert not is_repetition_loop(make_record(completion=looping, finish_reason="stop"))
    assert not is_repetition_loop(make_record(completion=PROSE, finish_reason="length"))


def test_repeated_tail_is_fast_on_long_inputs() -> None:
    import time

    text = PROSE * 3000 + "ab" * 200_000
    start = time.perf_counter()
    assert has_repeated_tail(text)
    assert not has_repeated_tail(" ".join(f"step {i} gives {i * i}." for i in range(60_000)))
    assert time.perf_counter() - start < 0.5


def test_breakdown_by_subject_and_level() -> None:
    records = [
        make_record("a", metadata={"subject": "Algebra", "level": 1}),
        make_record("b", content_equal=False, metadata={"subject": "Algebra", "level": 5}),
        make_record("c", format_ok=False, metadata={"subject": "Geometry", "level": 10}),
    ]
    by_subject = breakdown(records, "subject", mode="strict")
    assert list(by_subject) == ["Algebra", "Geometry"]
    assert by_subject["Algebra"].n_items == 2
    assert by_subject["Algebra"].accuracy == pytest.approx(0.5)
    assert by_subject["Geometry"].accuracy == 0.0
    assert by_subject["Geometry"].lenient_accuracy == 1.0
    assert list(breakdown(records, "level")) == ["1", "5", "10"]  # numeric order, not string order


def test_summarize_task_combines_samples_per_item() -> None:
    records = [
        make_record("q1", 0, extracted="5", content_equal=True),
        make_record("q1", 1, extracted="5", content_equal=True),
        make_record("q1", 2, extracted="4", content_equal=False),
        make_record("q2", 0, extracted="9", content_equal=False),
        make_record("q2", 1, extracted="9", content_equal=False),
        make_record("q2", 2, extracted="2", content_equal=True, format_ok=False),
    ]
    m = summarize_task("aime24", records, mode="strict", seed=3)
    assert (m.n_items, m.n_samples) == (2, 3)
    assert m.score == pytest.approx((2 / 3 + 0) / 2)
    assert m.pass_at_k[1] == pytest.approx(m.score)
    assert m.pass_at_k[3] == pytest.approx(0.5)
    assert m.maj_at_k == pytest.approx(0.5)
    assert m.ci_low <= m.score <= m.ci_high
    lenient = summarize_task("aime24", records, mode="lenient", seed=3)
    assert lenient.score == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert lenient.pass_at_k[3] == pytest.approx(1.0)
    assert m.strict_accuracy == lenient.strict_accuracy == pytest.approx(2 / 6)


WORDS = st.text(alphabet="abcdefghij", min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=12), st.lists(WORDS, max_size=40), st.data())
def test_any_repeated_unit_at_the_tail_is_detected(unit: list[str], prefix: list[str], data: st.DataObject):
    """Property: prose followed by any unit of <= 12 words looped to the end (cut anywhere) is a loop."""
    repeats = data.draw(st.integers(max(3, -(-30 // len(unit))), 40))
    loop = (" ".join(unit) + " ") * repeats
    cut = data.draw(st.integers(0, len(" ".join(unit))))
    text = " ".join(prefix) + " " + loop + " ".join(unit)[:cut]
    assert has_repeated_tail(text)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=30, max_size=200, unique=True))
def test_distinct_numbers_are_not_a_loop(numbers: list[int]):
    assert not has_repeated_tail(" ".join(f"x{n}" for n in numbers))
