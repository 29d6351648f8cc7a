"""What the question tells the verifier (`question.py`), through `verify(..., prompt=question)`."""

from __future__ import annotations

import pytest

from rlvr_eval.verifier.api import verify
from rlvr_eval.verifier.question import asks_for_rounding, asks_in_order

LENIENT = {"strict": False}


@pytest.mark.parametrize(
    ("question", "completion", "reference", "expected"),
    [
        # the left side is what was asked: a label, not half of an equation
        ("If ..., what is the value of $x+y$?", "so $\\boxed{x + y = 4027}$", "4027", True),
        ("Determine $x^3.$", "Therefore $\\boxed{x^3 = 12}$.", "12", True),
        ("What is $\\cos \\angle RPS$?", "\\boxed{\\cos \\angle RPS = -\\frac{24}{25}}", "-\\frac{24}{25}",
         True),
        ("What is the value of $x+y$?", "so $\\boxed{x + y = 4028}$", "4027", False),
        # without being asked for, an equation is not its right-hand side
        ("Find the circle through the three points.", "\\boxed{(x-1)^2 + y^2 = 10}", "10", False),
        ("Solve $x^2 = 4$ for $x$.", "\\boxed{x^2 = 4}", "4", False),
    ],
)
def test_an_asked_expression_is_a_label(question: str, completion: str, reference: str,
                                        expected: bool) -> None:
    assert verify(completion, reference, prompt=question).correct is expected


def test_the_label_needs_the_question() -> None:
    # An equation with a number on its left is an equation unless the question asks for its left side.
    assert not verify("\\boxed{2x + y = 4027}", "4027").correct
    assert verify("\\boxed{2x + y = 4027}", "4027", prompt="What is $2x+y$?").correct


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        # A name on the left (a sum of distinct letters, an area [ABC], a squared segment) against a
        # constant reference: the question asked for that name ("Find m+n." shows no math).
        ("x + y = 4027", "4027", True),
        ("p - q = 12", "12", True),
        ("[ABD] = 9\\sqrt{2}", "9\\sqrt2", True),
        ("XY^2 = 50", "50", True),
        ("x + y = 4027", "4028", False),
        ("[ABD] = 9\\sqrt{2}", "9\\sqrt3", False),
        # ... never an equation in one letter, or a reference that is itself an equation or has a variable
        ("t^2 = 49", "49", False),
        ("x + x = 8", "8", False),
        ("y = 4027 - x", "x + y = 4027", True),
        ("x + y = 4027", "4027 - x", False),
    ],
)
def test_a_named_quantity_on_the_left_is_a_label(answer: str, reference: str, expected: bool) -> None:
    assert verify(f"\\boxed{{{answer}}}", reference).correct is expected


@pytest.mark.parametrize(
    ("question", "ordered"),
    [
        ("Determine the values of $T(10), T(11)$ and $T(12)$.", True),
        ("Find $a$, $b$ and $c$, in that order.", True),
        ("The roots are $p$ and $q$; find $p^2$ and $q^2$ respectively.", True),
        ("Find all real solutions of $x^3 = x$.", False),
        ("List the primes below 10.", False),
    ],
)
def test_questions_that_ask_in_order(question: str, ordered: bool) -> None:
    assert asks_in_order(question) is ordered


def test_ordered_question_makes_a_list_ordered() -> None:
    question = "Determine the values of $T(10), T(11)$ and $T(12)$."
    assert verify("\\boxed{2, 4, 3}", "2,4,3", prompt=question).correct
    assert not verify("\\boxed{2, 3, 4}", "2,4,3", prompt=question).correct
    assert verify("\\boxed{2, 3, 4}", "2,4,3").correct  # without the question a list is order-free
    solutions = "Find all real solutions of $x^3 = x$."
    assert verify("\\boxed{1, 0, -1}", "-1, 0, 1", prompt=solutions).correct


def test_a_restated_expression_is_not_credited() -> None:
    question = "Evaluate $2^{10}$."
    assert not verify("\\boxed{2^{10}}", "1024", prompt=question).correct
    assert verify("\\boxed{1024}", "1024", prompt=question).correct


@pytest.mark.parametrize(
    ("question", "rounds"),
    [
        ("Express your answer as a decimal to the nearest hundredth.", True),
        ("Round your answer to two decimal places.", True),
        ("Give your answer to 3 significant figures.", True),
        ("Approximately how many liters does the tank hold?", True),
        ("Estimate the square root of 50.", True),
        ("What is $\\frac{9}{2}$ as a decimal?", False),
        ("Add 313.9 to 12.6. Express the result as a decimal.", False),
        ("How many rounds of the game are played?", False),
    ],
)
def test_asks_for_rounding(question: str, rounds: bool) -> None:
    assert asks_for_rounding(question) is rounds


def test_rounding_question_makes_a_decimal_reference_rounded() -> None:
    completion = "So the distance is $\\boxed{3.162}$."
    asked = verify(completion, "3.16", prompt="Find the distance to the nearest hundredth.")
    exact = verify(completion, "3.16", prompt="Find the distance.")
    assert asked.correct and not exact.correct
