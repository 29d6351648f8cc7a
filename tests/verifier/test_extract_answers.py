"""Where the answer is: several boxes, closing statements, numbers inside expressions, text after an answer.

Each table is (completion, expected); ``None`` means no answer may be extracted. Rows read "must
extract X" or "must not extract anything (in particular not a number from inside an expression)".
"""

from __future__ import annotations

import pytest

from rlvr_eval.verifier import StatedAnswer, stated_answers
from rlvr_eval.verifier.extract import extract_answer, extract_lenient
from rlvr_eval.verifier.schema import FormatStatus
from tests.verifier.test_extract import assert_located

# ----------------------------------------------------------------------------- several boxes

# (completion, parts): boxes given together in one sentence are one answer; corrected ones are not.
MULTI_PART = [
    ("The solutions are \\boxed{-3} and \\boxed{8}.", ("-3", "8")),
    ("So $x = \\boxed{2}$, $y = \\boxed{7}$.", ("2", "7")),
    ("are \\(\\boxed{-1}\\) and \\(\\boxed{0}\\).", ("-1", "0")),
    ("\\[ \\boxed{10, 11} \\quad \\text{and} \\quad \\boxed{-2, -1} \\]", ("10, 11", "-2, -1")),
    ("roots: \\boxed{1}; \\boxed{4}; \\boxed{9}", ("1", "4", "9")),
    ("x = \\boxed{2} or x = \\boxed{3}", ("2", "3")),
    ("\\boxed{a}\\quad\\boxed{b}", ("a", "b")),
    ("\\fbox{1}, \\boxed{2}", ("1", "2")),
    ("The maximum is \\(\\boxed{3}\\), and the minimum is \\(\\boxed{1}\\).", ("3", "1")),
    ("the values of $a$ and $b$ are \\(\\boxed{-2}\\) and \\(\\boxed{-2}\\), respectively.", ("-2", "-2")),
    ("The two lists are \\(\\boxed{(1, 7)}\\) and \\(\\boxed{(3, 5)}\\).", ("(1, 7)", "(3, 5)")),
    # one answer only: a correction, a restatement, a new sentence or line, repetition, nesting
    ("First \\boxed{3}... so actually \\boxed{5}", ("5",)),
    ("I get \\boxed{3}, but wait, it is \\boxed{5}", ("5",)),
    ("$1 + 2 + 4 = \\boxed{7}$. The final answer is: $\\boxed{7}$.", ("7",)),
    ("\\boxed{4}\n\\boxed{6}", ("6",)),
    ("\\boxed{5}\\boxed{5}\\boxed{5}", ("5",)),
    ("$d = \\boxed{15\\frac{39}{40}},$ or $\\boxed{\\frac{639}{40}}$ inches.", ("\\frac{639}{40}",)),
    ("the roots are \\( \\boxed{\\pm\\sqrt{9}} \\) or simply \\( \\boxed{\\pm3} \\).", ("\\pm3",)),
    ("\\boxed{180^\\circ - 90^\\circ = \\boxed{90^\\circ}}", ("90^\\circ",)),  # nested: the inner box
    ("first \\boxed{1}, then \\fbox{2}, finally \\boxed{3}.", ("3",)),
    ("\\boxed{1}" + " filler words here" * 12 + " \\boxed{2}", ("2",)),  # too far apart
]


@pytest.mark.parametrize(("completion", "parts"), MULTI_PART)
def test_boxes_in_one_sentence_are_one_answer(completion: str, parts: tuple[str, ...]) -> None:
    for got in (extract_answer(completion), extract_lenient(completion, answer_format="final_answer")):
        assert (got.parts or (got.answer,)) == parts
        assert got.multi_part == (len(parts) > 1)
        assert_located(completion, got)


def test_an_answer_phrase_reads_the_boxes_it_introduces() -> None:
    got = extract_answer(
        "The final answer is \\boxed{-3} and \\boxed{8}.\n\nDone.", answer_format="final_answer"
    )
    assert (got.answer, got.parts, got.format) == ("-3, 8", ("-3", "8"), FormatStatus.OK)


# ----------------------------------------------------------------------------- closing statements

# (completion, answer): the value the closing sentence states; None where the text states none.
STATEMENTS = [
    ("Hence the interval is $t \\in [2, 9)$.", "t \\in [2, 9)"),
    ("After completing the square, the vertex is \\( (3, -5) \\).", "(3, -5)"),
    ("Thus the probability is\n\\[ \\frac{4}{9} \\]", "\\frac{4}{9}"),
    ("We simplify:\n$$\\frac{4}{9}$$", "\\frac{4}{9}"),
    ("Therefore, the area of kite $ABCD$ is $75$ square units.", "75"),
    ("Thus, \\( b = 3 \\).", "b = 3"),
    ("Therefore, \\(x^3 = 12\\).", "x^3 = 12"),
    ("So the ratio is $\\frac{5+\\sqrt{7}}{3}$.", "\\frac{5+\\sqrt{7}}{3}"),  # never the denominator 3
    ("Therefore, the radius is approximately \\(3.3\\) to the nearest tenth.", "3.3"),
    (
        "Thus, the greatest common factor is \\(4 \\times 9 \\times 7 = 252\\).",
        "252",
    ),  # a computation's result
    ("Thus the maximum of \\(15 - y\\) is **13**, occurring when \\(y\\) is minimized.", "13"),
    ("Therefore, the number has **10 digits**.", "10"),
    ("So, Josh made a profit of $195,000.", "195,000"),  # a dollar sign, not math
    ("So, it took James 2 hours to walk to the store.", "2"),  # the one value of a conclusion
    ("Therefore, 20 workers are needed to produce \\(\\frac{720}{K}\\) widgets in 4 hours.", "20"),
    ("So, Charisma spends a total of 34 hours on yoga practice in 4 weeks.", "34"),
    ("Therefore, the values are \\(x = -1\\), \\(x = 2\\), and \\(x = -2\\).", "x = -1, x = 2, x = -2"),
    ("The answer follows. The probability is $\\frac{1}{3}$. I hope this helps!", "\\frac{1}{3}"),
    (
        "The minimum is **3** minutes. This is true for \\( n \\geq 5 \\), as shown.",
        "3",
    ),  # a condition after it
    ("Hence the ratio is $\\frac{\\sqrt{7}}{7} \\approx 0.378$.", "\\frac{\\sqrt{7}}{7} \\approx 0.378"),
    ("Each of the 8 shelves holds 15 books, so the case holds \\(120\\) books.", "120"),  # a clause
    ("Solving both equations, the two lines meet at $(0, \\frac{1}{2})$.", "(0, \\frac{1}{2})"),
    ("Combining both, the admissible values form the interval $k \\in [-1, 6)$.", "k \\in [-1, 6)"),
    ("So the crate holds: \\[ \\text{Volume} = 20 \\times 3 = 60 \\text{ litres} \\]", "60 \\text{ litres}"),
    ("Thus the map is: \\[g(x) = 3x + 1.\\] It is one-to-one because its slope (\\(3\\)) is positive.",
     "g(x) = 3x + 1"),  # the aside in parentheses is not a new answer
    ("Results:\n- \\( a_1 = \\frac{1}{2} \\)\n- \\( a_2 = 3 \\)\n- \\( a_3 = 7 \\)",
     "a_1 = \\frac{1}{2}, a_2 = 3, a_3 = 7"),  # a closing list of results
    ("I think it is 9", "9"),  # ends with its value
    ("So the range is $[-2, 8]$. Note that the ends are reached at $x = 0$ and $x = 3$.", "[-2, 8]"),
    # nothing stated: a bound, a condition, several values, no copula, a non-conclusion
    ("This holds for all $n \\geq 2$.", None),
    ("We need to check whether $x = 3$ works for $n > 4$.", None),
    ("Therefore, a 42 kg bag will last 21 weeks for the family of 5 that eats 0.2 kg per meal.", None),
    ("Hence, \\(k(x) = f(x)\\) for all \\(x\\) in the domain of \\(f\\).", None),
    ("Let me compute $2^{10}$ next", None),
    ("The sum for $n = 2$.", None),
    ("In conclusion, $a$ has a range of $[0, 1]$, but it takes the value $0$ there.", None),
    ("the answer could be 12 or 13 depending on", None),
    ("Small cases give 1, 3, 6, so maybe the pattern continues with 10", None),  # a hedge
    ("We count the seats around the table. There are 6 guests", None),  # restated, cut off
    ("Results:\n- \\( a_1 = \\frac{1}{2} \\)", None),  # one item is no list, and nothing states it
    ("x", None),
    ("", None),
]


@pytest.mark.parametrize(("completion", "answer"), STATEMENTS)
def test_closing_statement(completion: str, answer: str | None) -> None:
    got = extract_lenient(completion)
    assert got.answer == answer
    if answer is not None:
        assert got.method == "final_statement"
        assert_located(completion, got)
    assert extract_answer(completion).answer is None  # never the strict answer


# ----------------------------------------------------------------------------- numbers inside expressions

# (completion, the number that must not be extracted): a denominator, exponent, subscript, radicand, bound.
INSIDE = [
    ("So the ratio is \\frac{5+\\sqrt{7}}{3} hmm", "3"),
    ("so the ratio is $\\frac{5+\\sqrt{7}}{3}$ and we stop", "3"),
    ("we found x^{2} and then", "2"),
    ("we found x^2 and then", "2"),
    ("the term a_{12} matters", "12"),
    ("the term a_5 matters", "5"),
    ("it is \\sqrt{7} roughly", "7"),
    ("it is \\sqrt[3]{x} roughly", "3"),
    ("valid for n \\geq 2 only", "2"),
    ("valid for n >= 2 only", "2"),
    ("since 2n + 1 is odd", "1"),
    ("we have 10^8 digits", "8"),
    ("compute (3, -5) now", "-5"),
    ("the interval [2, 9) works", "9"),
    ("the value 5! is big", "5"),
    ("so 3x equals y", "3"),
    ("then 2 \\times 3 gives six", "3"),
    ("then 7/ 2x gives", "2"),
]


@pytest.mark.parametrize(("completion", "inner"), INSIDE)
def test_a_number_inside_an_expression_is_never_the_answer(completion: str, inner: str) -> None:
    for fallback in ("none", "last_number"):
        got = extract_lenient(completion, lenient_fallback=fallback)  # type: ignore[arg-type]
        assert got.answer != inner and inner not in got.parts, (fallback, got)


# ----------------------------------------------------------------------------- text after the answer

ANSWERED = "We add the two numbers.\n\nThe sum is therefore $\\boxed{12}$."
# Degenerate text after a clear answer: a new turn, code, looping garbage, chat tokens.
AFTER = [
    "\n\nHuman: Now solve 3+4. The answer is \\boxed{7}.",
    "\n\nProblem: Find y. Answer: 9\n\nSolution: \\boxed{9}",
    "\nQuestion: what is 5+5?\nThe final answer is 10.",
    "<|im_end|>\n<|im_start|>user\nNext: \\boxed{3}",
    "<|endoftext|>The answer is 4",
    "\n\n```python\nprint(6)  # the answer is 6\nanswer = 6\n```\n",
    "\n```\n\\boxed{8}\n```",
    "\n\n```python\nx = 1",  # an unclosed code block
    " 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12",
    " ing ing ing ing ing ing ing ing ing ing ing",
    "\n\n13 14 15 16 17 18 19 20",
    "\n\nWait",
]


@pytest.mark.parametrize("tail", AFTER)
def test_text_after_a_clear_answer_does_not_change_it(tail: str) -> None:
    for strict in (True, False):
        alone = extract_answer(ANSWERED, strict=strict)
        more = extract_answer(ANSWERED + tail, strict=strict)
        assert (
            (more.answer, more.start, more.method)
            == (alone.answer, alone.start, alone.method)
            == ("12", ANSWERED.index("12"), "requested")
        )


@pytest.mark.parametrize(
    ("tail", "answer"),
    [
        ("\n\nWait, I made an error. The correct answer is $\\boxed{13}$.", "13"),
        ("\n\nLet me verify with code:\n```python\nprint(5+7)\n```\nOutput: 12, so \\boxed{12} holds.", "12"),
        ("\n\n**Final Answer**: The sum is \\(14\\).", "14"),
    ],
)
def test_a_later_genuine_answer_still_wins(tail: str, answer: str) -> None:
    got = extract_lenient(ANSWERED + tail, answer_format="final_answer")
    assert got.answer == answer


def test_a_new_turn_before_any_answer_is_still_read() -> None:
    """A restated "Problem:" before the model answers is not a new turn: the answer after it counts."""
    text = "Problem: add 5 and 7.\nSolution: 5 + 7 = 12.\nThe answer is \\boxed{12}."
    assert extract_answer(text).answer == "12"


# ----------------------------------------------------------------------------- stated answers


def _texts(completion: str) -> list[tuple[str, str]]:
    return [(a.text, a.method) for a in stated_answers(completion)]


def test_stated_answers_lists_every_stated_answer() -> None:
    text = (
        "First, $x = 2 + 3 = 5$. The answer is 6? No.\n"
        "So the area is $12$ square units.\n"
        "<answer>7</answer> and \\boxed{-3} and \\boxed{8}."
    )
    got = _texts(text)
    for expected in [
        ("x = 2 + 3 = 5", "math_span"),
        ("12", "math_span"),
        ("7", "answer_tag"),
        ("-3", "boxed"),
        ("8", "boxed"),
        ("-3, 8", "boxed"),
    ]:
        assert expected in got
    assert all(
        isinstance(a, StatedAnswer) and text[a.start : a.end].startswith(a.text.split(", ")[0])
        for a in stated_answers(text)
    )
    assert ("3", "math_span") not in got and ("2", "math_span") not in got  # never a piece of an expression


def test_stated_answers_include_computation_results_and_phrases() -> None:
    got = _texts("We get $2 \\times 3 = 6$.\nFinal Answer: The final answer is 6. I hope it is correct.")
    assert ("2 \\times 3 = 6", "math_span") in got and ("6", "math_span") in got
    assert ("6", "answer_phrase") in got


def test_stated_answers_skip_the_prompt_and_the_next_turn() -> None:
    prompt = "Compute \\boxed{} for 1+1."
    got = stated_answers(prompt + " It is \\boxed{2}.\n\nHuman: now \\boxed{9}", prompt=prompt)
    assert [(a.text, a.start) for a in got if a.method == "boxed"] == [("2", len(prompt) + 14)]


@pytest.mark.parametrize("text", ["", "no math here", "$", "\\boxed{", "<answer>", "$$x", "Answer:"])
def test_stated_answers_of_text_without_answers(text: str) -> None:
    assert stated_answers(text) == []


def test_stated_answers_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="completion must be a str"):
        stated_answers(None)  # type: ignore[arg-type]
