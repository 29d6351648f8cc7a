"""Hypothesis properties of the extraction rules the held-out red-team corpus asked for.

Each rule is an invariant over any value and wording: a negated or bounding statement never yields
its value; a number-word quantity never yields its leading number; a problem a model invents after
answering, or code before its final answer, never changes the answer (strict and lenient); a
respelling of the question's expression is never credited.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier.api import verify
from rlvr_eval.verifier.extract import extract_answer, extract_lenient

values = st.integers(min_value=2, max_value=99_999)
subjects = st.sampled_from(["the remainder", "the number of ways", "the minimum", "the area", "$N$"])
# How a statement denies, bounds or supposes its value.
negations = st.sampled_from([
    "{s} is not {v}", "{s} is never {v}", "{s} cannot be {v}", "{s} isn't {v}", "{s} is at least {v}",
    "{s} is at most {v}", "{s} is no more than {v}", "there is no solution with {s} = {v}",
    "if {s} were {v}, the sum would be odd", "the answer is not {v}", "the answer is at least {v}",
])  # fmt: skip
leads = st.sampled_from(["Therefore, ", "So ", "Hence ", "", "**Final Answer:** "])
spellings = st.sampled_from(["{v}", "${v}$", "\\({v}\\)"])


@settings(max_examples=150)
@given(value=values, subject=subjects, negation=negations, lead=leads, spelling=spellings)
def test_a_negated_or_bounding_statement_never_yields_its_value(
    value: int, subject: str, negation: str, lead: str, spelling: str
) -> None:
    sentence = negation.format(s=subject, v=spelling.format(v=value))
    text = f"We check the cases one by one. {lead}{sentence}."
    got = extract_lenient(text)
    assert got.answer is None or str(value) not in got.answer.replace(",", ""), (text, got)
    assert not verify(text, str(value), strict=False).correct


# Words after a number that make it part of a larger quantity, and that quantity (None: unreadable).
_PHRASES = {
    "million": lambda n: n * 10**6, "thousand": lambda n: n * 1000, "dozen": lambda n: n * 12,
    "and a half": lambda n: n + 0.5, "squared": None, "cubed": None, "times 7": None, "plus 3": None,
    "remainder 1": None, "more than that": None, "feet 2 inches": None, "hours and 5 minutes": None,
}  # fmt: skip
markers = st.sampled_from(
    ["The answer is {q}.", "So the final answer is {q}.", "Answer: {q}", "So the total is {q}."]
)


@settings(max_examples=150)
@given(
    number=st.integers(min_value=2, max_value=999), words=st.sampled_from(sorted(_PHRASES)), marker=markers
)
def test_a_number_word_quantity_never_yields_its_leading_number(number: int, words: str, marker: str) -> None:
    text = "We work it out step by step. " + marker.format(q=f"{number} {words}")
    assert not verify(text, str(number), strict=False).correct, text
    whole = _PHRASES[words]
    if whole is not None:
        assert verify(text, str(whole(number)), strict=False).correct, text


headings = st.sampled_from([
    "Problem {k}: ", "**Problem {k}:** ", "Example {k}. ", "## Question {k}\n", "### Exercise\n",
    "### Instruction:\n", "Q: ", "**Question {k}.** ",
])  # fmt: skip


@settings(max_examples=150)
@given(answer=values, other=values, k=st.integers(min_value=2, max_value=40), heading=headings)
def test_an_invented_next_problem_never_changes_the_answer(
    answer: int, other: int, k: int, heading: str
) -> None:
    text = f"Adding the parts, the total is $\\boxed{{{answer}}}$."
    invented = f"\n\n{heading.format(k=k)}What is {other} minus 1?\nThe answer is $\\boxed{{{other - 1}}}$."
    for strict in (True, False):
        alone, more = extract_answer(text, strict=strict), extract_answer(text + invented, strict=strict)
        assert (more.answer, more.start, more.method) == (alone.answer, alone.start, alone.method)
        assert more.answer == str(answer)


code_answers = st.sampled_from([
    "# expected: \\boxed{{{v}}}", 'print("answer:", {v})', "# answer: {v}",
    "result = {v}  # the answer is {v}",
])  # fmt: skip


@settings(max_examples=150)
@given(answer=values, stale=values, line=code_answers, output=st.booleans())
def test_code_before_the_final_answer_never_overrides_it(
    answer: int, stale: int, line: str, output: bool
) -> None:
    code = f"```python\n{line.format(v=stale)}\n```\n"
    if output:
        code += f"```output\nanswer: {stale}\n```\n"
    text = f"Let me check with code.\n{code}The check was wrong, so the result is $\\boxed{{{answer}}}$."
    for strict in (True, False):
        assert extract_answer(text, strict=strict).answer == str(answer), text


@settings(max_examples=60, deadline=None)
@given(
    root=st.sampled_from([2, 3, 5, 6, 7]),
    a=st.integers(min_value=2, max_value=9),
    b=st.integers(min_value=2, max_value=9),
)
def test_a_respelled_question_expression_is_never_credited(root: int, a: int, b: int) -> None:
    first, second = a * a * root, b * b * root
    question = f"Write $\\sqrt{{{first}}}+\\sqrt{{{second}}}$ in simplest radical form."
    reference = f"{a + b}\\sqrt{{{root}}}"
    swapped = f"\\boxed{{\\sqrt{{{second}}}+\\sqrt{{{first}}}}}"
    assert not verify(swapped, reference, prompt=question).correct
    assert verify(f"\\boxed{{{a + b}\\sqrt{{{root}}}}}", reference, prompt=question).correct
