"""Extraction tables: (completion, requested format, expected answer, expected status[, method]) rows.

Multi-part answers, closing statements, numbers inside expressions and text after an answer have
their own tables in ``test_extract_answers.py``; properties are in ``test_extract_properties.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlvr_eval.verifier.extract import (
    extract_answer,
    extract_lenient,
    last_boxed,
    last_boxed_content,
)
from rlvr_eval.verifier.schema import Extraction, FormatStatus

OK = FormatStatus.OK
NO = FormatStatus.NO_ANSWER
EMPTY = FormatStatus.EMPTY
UNBAL = FormatStatus.UNBALANCED
TRUNC = FormatStatus.TRUNCATED

QWEN_SUFFIX = "Let's think step by step and output the final answer within \\boxed{}."


def assert_located(completion: str, got: Extraction) -> None:
    """The answer is where the extraction says: one span, or its parts in order inside ``start:end``."""
    assert got.start is not None and got.end is not None
    region = completion[got.start : got.end]
    if not got.parts:
        assert region == got.answer
        return
    assert got.answer == ", ".join(got.parts)
    assert region.startswith(got.parts[0]) and region.endswith(got.parts[-1])
    cursor = 0
    for part in got.parts:
        cursor = region.index(part, cursor) + len(part)

# Strict extraction of the default ``boxed`` format.
BOXED = [
    ("So $x = \\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", OK),
    ("nested \\boxed{\\frac{a}{b^{2}}} done", "\\frac{a}{b^{2}}", OK),
    ("\\boxed{{{{x}}}}", "{{{x}}}", OK),
    ("\\fbox{7}", "7", OK),
    ("first \\boxed{1}, then \\fbox{2}, finally \\boxed{3}.", "3", OK),
    ("first \\fbox{1} then \\boxed{2} then \\fbox{9}", "9", OK),
    ("\\boxed 5", "5", OK),
    ("so it is \\boxed 42.", "42", OK),
    ("$\\boxed 5$", "5", OK),
    ("\\boxed5", "5", OK),
    ("\\boxed {12}", "12", OK),
    ("\\boxed{ 12 }", "12", OK),
    ("\\boxed{}", None, EMPTY),
    ("\\boxed{   }", None, EMPTY),
    ("answer is \\boxed{7} but wait, it is \\boxed{}", None, EMPTY),  # a real empty box, last wins
    ("\\boxed{12", None, UNBAL),
    ("\\boxed{3} then \\boxed{12", None, UNBAL),  # the last box wins even when an earlier is complete
    ("ends with \\boxed", None, UNBAL),
    ("\\boxed{\\{1,2\\}}", "\\{1,2\\}", OK),
    ("\\boxed{\\{1, \\{2\\}\\}}", "\\{1, \\{2\\}\\}", OK),
    ("\\boxed{\\}}", "\\}", OK),  # an escaped closing brace does not end the box
    ("\\boxed{\\{}", "\\{", OK),  # an escaped opening brace does not need a partner...
    ("\\boxed{a\\\\}", "a\\\\", OK),  # ...and "\\\\" is a line break, so the next "}" closes
    ("\\boxed{\\text{yes}}", "\\text{yes}", OK),
    ("\\boxed{(1, 2)} and \\fboxsep=3pt", "(1, 2)", OK),  # \fboxsep is another command
    ("\\boxedtext{3}", None, NO),
    ("no box here, the answer is 5", None, NO),
    ("", None, NO),
    ("\\boxed{\\boxed{4}}", "4", OK),  # the innermost box starts last
    ("\\boxed{2}\n\n" + QWEN_SUFFIX, "2", OK),  # echoed instruction placeholder is skipped
    ("The answer is \\boxed{2}. Please put your final answer in \\boxed{}.", "2", OK),
    ("The answer is $\\boxed{2}$. Put it within $\\boxed{}$.", "2", OK),
    (QWEN_SUFFIX, None, NO),  # only a placeholder: no answer, not an empty one
    ("The result is \\boxed{}", None, EMPTY),
    ("\\boxed{x}\n\\boxed{\n  y\n}", "y", OK),
    ("é, 中文 \\boxed{π²}", "π²", OK),
    ("\\boxed{50\\%}", "50\\%", OK),
    ("\\boxed{\\left\\{ 1, 2 \\right\\}}", "\\left\\{ 1, 2 \\right\\}", OK),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", OK),
    ("\\boxed{5}}.", "5", OK),  # a stray closing brace after the box is not part of it
    ("\\[\n\\boxed{\n12.8\n}\n\\]", "12.8", OK),
]


@pytest.mark.parametrize(("completion", "answer", "status"), BOXED)
def test_boxed_strict(completion: str, answer: str | None, status: FormatStatus) -> None:
    got = extract_answer(completion)
    assert (got.answer, got.format) == (answer, status)
    assert got.method == ("requested" if answer is not None else "none")
    if answer is not None:
        assert_located(completion, got)


# (completion, answer_format, answer, status): the other requested formats, strict.
FORMATS = [
    ("The final answer is $\\frac{5}{6}$. I hope it is correct.", "final_answer", "\\frac{5}{6}", OK),
    ("Final Answer: The final answer is $\\boxed{12}$. I hope it is correct.", "final_answer", "12", OK),
    ("The final answer is 5/6.", "final_answer", "5/6", OK),
    ("The final answer is 3.5. I hope it is correct.", "final_answer", "3.5", OK),
    ("the final answer is \\(x^2\\)", "final_answer", "x^2", OK),
    ("The final answer is:\n\n$$\n(1, 2)\n$$", "final_answer", "(1, 2)", OK),
    ("**Final Answer:** 17 apples", "final_answer", "17", OK),  # the value the answer holds
    ("**Final Answer:** \\frac{270}7\\text{ degrees}", "final_answer", "\\frac{270}7\\text{ degrees}", OK),
    ("The final answer is $\\$18.90$. I hope it is correct.", "final_answer", "\\$18.90", OK),  # "\$": dollar
    ("The final answer is $f(n)=n$, $g(n)=1$.", "final_answer", "f(n)=n, g(n)=1", OK),  # one answer, 2 parts
    ("The final answer is $5$, so $6$ is wrong.", "final_answer", "5", OK),
    ("The final answer is $x$ and $y$", "final_answer", "x, y", OK),
    ("The final answer is: $\\boxed{-3}$ and $\\boxed{8}$.", "final_answer", "-3, 8", OK),
    ("### Final Answer\n\nThe number of ways is \\(7\\).", "final_answer", "7", OK),  # the value only
    ("**Final Answer**: The vertex is at \\((3, -5)\\).", "final_answer", "(3, -5)", OK),
    ("**Final Answer**\n\\[\n\\boxed{12}\n\\]", "final_answer", "12", OK),
    ("Final Answer - 42", "final_answer", "42", OK),
    ("The final answer is 5 because 2 + 3 = 5.", "final_answer", "5", OK),  # not the explanation
    ("The final answer is $2 + 3 = 5$.", "final_answer", "5", OK),  # a computation states its result
    ("The final answer is $x = 5$.", "final_answer", "x = 5", OK),  # a labelled answer is kept whole
    ("The final answers are below", "final_answer", None, NO),
    ("The final answer is 10\\,", "final_answer", "10\\,", OK),  # "\\," is LaTeX spacing, kept
    ("The final answer is $$\\frac{1}{2}$$", "final_answer", "\\frac{1}{2}", OK),
    ("The final answer is", "final_answer", None, EMPTY),
    ("The answer is 5.", "final_answer", None, NO),
    ("Answer: 42", "answer_colon", "42", OK),
    ("Answer: 1\nthen\nAnswer: $-7$.", "answer_colon", "-7", OK),
    ("**Answer:** 6", "answer_colon", "6", OK),
    ("**Answer**: (2, 3)", "answer_colon", "(2, 3)", OK),
    ("Answer:\n\n  x = 4", "answer_colon", "x = 4", OK),
    ("Answer:", "answer_colon", None, EMPTY),
    ("Final Answer: The final answer is $8$. I hope it is correct.", "answer_colon", "8", OK),
    ("No answer given", "answer_colon", None, NO),
    ("Answer: 1\nLater I checked the answer: it is right.", "answer_colon", "1", OK),  # prose is no answer
    ("Answer: correct", "answer_colon", None, EMPTY),
    ("Answer:<answer>72</answer>", "answer_colon", "72", OK),  # never the tags
    ("Answer: $72$.", "answer_colon", "72", OK),  # never the period
    ("Answer: 144 square units, since each side of the square is 12.", "answer_colon", "144", OK),
    ("**Answer:** The probability that 3 of 39 cards are aces is \\(1\\).", "answer_colon", "1", OK),
    ("Reanswer: 3", "answer_colon", None, NO),  # not the word "answer"
    ("#### 42", "gsm8k", "42", OK),
    ("She has 3 apples.\n#### 1,000\n", "gsm8k", "1,000", OK),
    ("#### Step 1\n2 + 2 = 4\n#### 4", "gsm8k", "4", OK),
    ("#### Step 1\n2 + 2 = 4\n#### Final answer", "gsm8k", None, NO),  # markdown headings only
    ("#### $18", "gsm8k", "18", OK),
    ("##### 7", "gsm8k", "7", OK),
    ("#### -3.", "gsm8k", "-3", OK),
    ("The answer is (B).", "multiple_choice", "B", OK),
    ("The answer is B", "multiple_choice", "B", OK),
    ("Answer: C", "multiple_choice", "C", OK),
    ("so \\boxed{D}", "multiple_choice", "D", OK),
    ("so \\boxed{(B)}", "multiple_choice", "B", OK),
    ("so \\boxed{\\text{B}}", "multiple_choice", "B", OK),
    ("so \\boxed{\\textbf{(C) } 42}", "multiple_choice", "C", OK),
    ("The correct option is 3, so the answer is 3.", "multiple_choice", "3", OK),  # ARC 1-4 labels
    ("The answer is Option A: photosynthesis.", "multiple_choice", "A", OK),
    ("The answer is A because plants need light.", "multiple_choice", "A", OK),
    ("The answer is a prime number", "multiple_choice", None, NO),
    ("The answer is A prime number", "multiple_choice", None, NO),  # an article, not a label
    ("The answer is 42", "multiple_choice", None, NO),
    ("Let me compare the options.\n(C)", "multiple_choice", "C", OK),  # a bare label line
    ("\\boxed{B} ... actually the answer is (C).", "multiple_choice", "C", OK),  # the later one wins
    ("The answer is (A).\n(B) is wrong because ...", "multiple_choice", "A", OK),
    ("so \\boxed{}", "multiple_choice", None, EMPTY),
    ("so \\boxed{ab", "multiple_choice", None, UNBAL),
    ("The answer is (C) decrease in pH toward a pH of 7.", "multiple_choice", "C", OK),  # label, then prose
    ("<think>2+2</think> <answer>4</answer>", "answer_tag", "4", OK),
    ("<answer> $\\frac{1}{2}$ </answer>", "answer_tag", "\\frac{1}{2}", OK),
    ("<answer>The answer is \\boxed{5}.</answer>", "answer_tag", "5", OK),
    ("<answer>So the area is $75$ square units.</answer>", "answer_tag", "75", OK),
    ("<answer>\nFirst we add. Then the total is $12$.\n</answer>", "answer_tag", "12", OK),
    ("<answer>\\boxed{-3} and \\boxed{8}</answer>", "answer_tag", "-3, 8", OK),
    ("<answer>3</answer> wait, no: <answer>5</answer>", "answer_tag", "5", OK),  # the last tag wins
    ("<ANSWER>9</ANSWER>", "answer_tag", "9", OK),
    ("Use <answer> answer here </answer>. <answer>7</answer> then <answer> answer here </answer>",
     "answer_tag", "7", OK),  # echoed instruction placeholders are skipped
    ("in <answer> </answer> tags: <answer>6</answer>", "answer_tag", "6", OK),
    ("<answer>  </answer>", "answer_tag", None, EMPTY),
    ("<answer> 12", "answer_tag", None, UNBAL),  # cut off inside the tag
    ("<answer>3</answer> and later <answer> 1", "answer_tag", None, UNBAL),
    ("no tags, \\boxed{3}", "answer_tag", None, NO),
]


@pytest.mark.parametrize(("completion", "answer_format", "answer", "status"), FORMATS)
def test_requested_formats_strict(completion: str, answer_format, answer: str | None, status) -> None:
    got = extract_answer(completion, answer_format=answer_format)
    assert (got.answer, got.format) == (answer, status)
    if answer is not None:
        assert got.method == "requested"
        assert_located(completion, got)


# (completion, answer_format, answer, status of the requested format, method): the lenient chain.
LENIENT = [
    ("\\boxed{3}", "boxed", "3", OK, "requested"),
    ("The answer is 5/6.", "boxed", "5/6", NO, "answer_phrase"),
    ("The answer is $\\frac{1}{2}$.", "boxed", "\\frac{1}{2}", NO, "answer_phrase"),
    ("The answer is \\(7\\).", "boxed", "7", NO, "answer_phrase"),
    ("the answer is 1 and later the final answer is 2.", "boxed", "2", NO, "answer_phrase"),
    ("Answer: 9\nBut the answer is 8", "boxed", "8", NO, "answer_phrase"),  # last phrase wins
    ("The answer is 4\n#### 5", "boxed", "5", NO, "answer_phrase"),
    ("The answer is 5 because 2 + 3 = 5", "boxed", "5", NO, "answer_phrase"),
    ("\\boxed{4}. Let me double-check: the answer is correct.", "boxed", "4", OK, "requested"),
    ("So \\(x = 4\\). Checking, the answer is indeed right.", "final_answer", "x = 4", NO, "final_statement"),
    ("Q: What is 2+2?\nWe add them.\nA: 4", "boxed", "4", NO, "answer_phrase"),  # a closing "A:" line
    ("Minerva says\nFinal Answer: The final answer is $\\frac{13}{4}$. I hope it is correct.", "boxed",
     "\\frac{13}{4}", NO, "answer_phrase"),
    ("<think>so 12</think> <answer>12</answer>", "boxed", "12", NO, "answer_tag"),
    ("We get 3 apples and then 17 pears", "boxed", None, NO, "none"),  # no number is stated as the answer
    ("It costs -3 dollars.", "boxed", "-3", NO, "final_statement"),
    ("It costs -3 dollars", "boxed", None, NO, "none"),  # no sentence end: maybe cut off, no statement
    ("I think it is 7", "boxed", "7", NO, "final_statement"),  # ends with its value
    ("so maybe the pattern continues with 10", "boxed", None, NO, "none"),  # a hedge states nothing
    ("compute 5-3.", "boxed", None, NO, "none"),
    ("pi is about 3.14.", "boxed", "3.14", NO, "final_statement"),
    ("in total 1,000.", "boxed", "1,000", NO, "final_statement"),
    ("she walked home in 4 weeks.", "boxed", None, NO, "none"),  # "in" makes 4 a measure, not an answer
    ("the total is 1,000 apples.", "boxed", "1,000", NO, "final_statement"),
    ("the pair 1,2.", "boxed", "1, 2", NO, "final_statement"),  # a list the sentence names
    ("the product 1,2.", "boxed", None, NO, "none"),
    ("half is $\\frac{1}{2}$", "boxed", "\\frac{1}{2}", NO, "final_statement"),  # ends with its math span
    ("the rate is 2.5e-3 per second.", "boxed", "2.5e-3", NO, "final_statement"),
    ("x = −3.", "boxed", "−3", NO, "final_statement"),  # U+2212 minus sign
    ("We need the ways to seat them. There are 6 guests", "boxed", None, NO, "none"),  # restated, cut off
    ("Arabic-Indic digits ١٢ are not read", "boxed", None, NO, "none"),
    ("no numbers at all", "boxed", None, NO, "none"),
    ("\\boxed{3} then \\boxed{12", "boxed", None, UNBAL, "none"),  # an unclosed box may be cut mid-answer
    ("I think \\boxed{} hmm, the answer is 4", "boxed", "4", EMPTY, "answer_phrase"),
    ("it is \\boxed{}", "boxed", None, EMPTY, "none"),
    ("The result is \\boxed{9}", "final_answer", "9", NO, "boxed"),  # a box counts as an answer
    ("so \\boxed{5}", "gsm8k", "5", NO, "boxed"),
    ("The answer is: (B) 42", "answer_colon", "(B) 42", NO, "answer_phrase"),
    ("The answer is: (B) 42", "multiple_choice", "B", OK, "requested"),
    ("I pick \\boxed{42}", "multiple_choice", "42", NO, "boxed"),
    ("I pick 4", "multiple_choice", None, NO, "none"),
    ("no tags but \\boxed{3}", "answer_tag", "3", NO, "boxed"),
]


@pytest.mark.parametrize(("completion", "answer_format", "answer", "status", "method"), LENIENT)
def test_lenient_chain(completion: str, answer_format, answer, status, method) -> None:
    for got in (
        extract_lenient(completion, answer_format=answer_format),
        extract_answer(completion, answer_format=answer_format, strict=False),
    ):
        assert (got.answer, got.format, got.method) == (answer, status, method)
        if answer is not None:
            assert_located(completion, got)
    strict = extract_answer(completion, answer_format=answer_format)
    assert strict.format == status  # the status is the requested format's whatever the mode
    assert strict.answer == (answer if method == "requested" else None)


# (completion, answer_format, answer) with lenient_fallback="last_number": the paper harness's last step.
LAST_NUMBER = [
    ("We get 3 apples and then 17 pears", "boxed", "17"),
    ("points 1,2 were plotted", "boxed", "2"),
    ("ratio 5/6 here", "boxed", "5/6"),
    ("total 1,000 ok", "boxed", "1,000"),
    ("\\boxed{3} then \\boxed{12", "boxed", "12"),
    ("I pick 4", "multiple_choice", "4"),
    ("We computed 12 then 7, and stopped because 7 > 3", "boxed", "7"),  # "3" is the bound of a relation
    ("compute 5-3", "boxed", None),  # both are operands of a subtraction
    ("we note \\frac{5+\\sqrt{7}}{3} appears", "boxed", None),  # never a denominator or radicand
    ("it holds for n \\geq 2 hmm", "boxed", None),
    ("look at x^{2} and a_{3}", "boxed", None),
    ("The answer is 5. Check: 2+3=5 and 10", "boxed", "5"),  # a stated answer still comes first
]


@pytest.mark.parametrize(("completion", "answer_format", "answer"), LAST_NUMBER)
def test_last_number_fallback_is_opt_in(completion: str, answer_format, answer: str | None) -> None:
    got = extract_lenient(completion, answer_format=answer_format, lenient_fallback="last_number")
    assert got.answer == answer
    if answer is not None:
        assert_located(completion, got)
        default = extract_lenient(completion, answer_format=answer_format)
        assert got.method != "last_number" or default.answer is None  # off by default


def test_truncated_keeps_the_answer() -> None:
    got = extract_answer("... \\boxed{5} and then it loops loops loops", finish_reason="length")
    assert (got.answer, got.format, got.method) == ("5", TRUNC, "requested")
    assert not got.format_ok
    got = extract_answer("the answer is 5.\nSo \\boxed{1", finish_reason="length")
    assert (got.answer, got.format, got.method) == (None, TRUNC, "none")
    got = extract_lenient("the answer is 5.\nSo \\boxed{1", finish_reason="length")
    assert (got.answer, got.format, got.method) == ("5", TRUNC, "answer_phrase")
    got = extract_lenient("so we get \\boxed{-1", finish_reason="length")
    assert (got.answer, got.format, got.method) == (None, TRUNC, "none")  # "-1" may be half of "-1/2"
    got = extract_lenient("so we get \\boxed{-1", finish_reason="length", lenient_fallback="last_number")
    assert (got.answer, got.format, got.method) == ("-1", TRUNC, "last_number")
    # A cut text has no closing statement: its last sentence is not the model's last word.
    assert extract_lenient("Thus the total is $12$.", finish_reason="length").answer is None
    assert extract_lenient("Thus the total is $12$.").answer == "12"
    got = extract_answer("\\boxed{5}", finish_reason="stop")
    assert got.format is OK


def test_prompt_echo_is_stripped() -> None:
    prompt = "What is 2+3? " + QWEN_SUFFIX
    completion = prompt + " The sum is \\boxed{5}."
    got = extract_answer(completion, prompt=prompt)
    assert got.answer == "5" and completion[got.start : got.end] == "5"
    # Without an answer of its own, the echoed prompt yields nothing (its numbers are not answers).
    got = extract_lenient(prompt + " hmm", prompt=prompt)
    assert (got.answer, got.format, got.method) == (None, NO, "none")


def test_prompt_text_marks_a_placeholder() -> None:
    prompt = "Solve it. Write the result like this: \\boxed{}. Thanks."
    completion = "It is \\boxed{7}. Write the result like this: \\boxed{}"
    assert extract_answer(completion).format is EMPTY  # "this:" is not a placeholder word
    got = extract_answer(completion, prompt=prompt)
    assert (got.answer, got.format) == ("7", OK)


def test_last_boxed_helpers() -> None:
    solution = "Thus $s = \\boxed{1.6 \\mathrm{~cm}}$ and no more."
    assert last_boxed_content(solution) == "1.6 \\mathrm{~cm}"
    assert last_boxed_content("no box") is None
    assert last_boxed_content("\\boxed{}") is None
    found = last_boxed("a \\boxed{x} b")
    assert found.ok and (found.start, found.end, found.marker) == (9, 10, 2)
    assert last_boxed("\\boxed{1} in \\boxed{}").start == 7
    assert last_boxed("\\boxed{1} in \\boxed{}", skip_placeholders=False).status is EMPTY


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"completion": None}, TypeError),
        ({"completion": b"\\boxed{1}"}, TypeError),
        ({"completion": "x", "answer_format": "latex"}, ValueError),
        ({"completion": "x", "prompt": ["chat", "messages"]}, TypeError),
        ({"completion": "x", "lenient_fallback": "last_box"}, ValueError),
    ],
)
def test_bad_input_raises_one_clear_error(kwargs: dict, error: type[Exception]) -> None:
    message = r"(completion|prompt) must be a str|unknown (answer_format|lenient_fallback)"
    with pytest.raises(error, match=message):
        extract_answer(**kwargs)


# ----------------------------------------------------------------------------- local benchmark data


def _rows(data_dir: Path, name: str) -> list[dict]:
    path = data_dir / name / "test.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_math500_reference_is_last_box_of_solution(data_dir: Path) -> None:
    rows = _rows(data_dir, "math500")
    assert [last_boxed_content(r["solution"]) for r in rows] == [r["answer"] for r in rows]


def test_math500_answers_survive_every_format(data_dir: Path) -> None:
    """Each gold answer written the way each format asks is extracted back unchanged."""
    templates = {
        "boxed": "So the result is $\\boxed{%s}$.",
        "final_answer": "Final Answer: The final answer is $%s$. I hope it is correct.",
        "answer_colon": "We are done.\n**Answer:** %s",
        "answer_tag": "<think>We are done.</think> <answer> %s </answer>",
    }
    for row in _rows(data_dir, "math500"):
        for answer_format, template in templates.items():
            got = extract_answer(template % row["answer"], answer_format=answer_format)  # type: ignore[arg-type]
            assert got.answer == row["answer"], (answer_format, row["unique_id"])


def test_minerva_solutions_all_have_a_box(data_dir: Path) -> None:
    assert all(last_boxed_content(r["solution"]) for r in _rows(data_dir, "minerva_math"))


def test_gsm8k_gold_solutions(data_dir: Path) -> None:
    for row in _rows(data_dir, "gsm8k"):
        got = extract_answer(row["answer"], answer_format="gsm8k")
        assert got.answer == row["answer"].rsplit("####", 1)[1].strip()


@pytest.mark.parametrize("name", ["arc_easy", "arc_challenge"])
def test_arc_labels(data_dir: Path, name: str) -> None:
    for row in _rows(data_dir, name):
        key = row["answerKey"]
        text = row["choices"]["text"][row["choices"]["label"].index(key)]
        for completion in (f"The answer is ({key}) {text}.", f"so \\boxed{{{key}}}", f"Answer: {key}"):
            assert extract_answer(completion, answer_format="multiple_choice").answer == key, completion
