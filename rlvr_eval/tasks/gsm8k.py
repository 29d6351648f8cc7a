"""GSM8K: 1,319 grade-school math word problems (test split).

Citation: Cobbe et al., "Training Verifiers to Solve Math Word Problems", arXiv 2110.14168.
Data: local ``gsm8k/test.jsonl`` (from github.com/openai/grade-school-math) or hub ``openai/gsm8k``
(config ``main``, test); both have question/answer. The reference is the text after ``#### `` in
``answer``, with thousands separators removed. Graded as a boxed answer under the math prompt (the
native ``#### 42`` format is only what the training solutions use). Greedy, one sample.

Example row::

    {"question": "Janet's ducks lay 16 eggs per day. ... How much in dollars does she make every day
     at the farmers' market?", "answer": "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day. ...
     #### 18"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, answer_text, first

NAME = "gsm8k"
MARKER = "#### "


def final_answer(solution: str) -> str:
    """The number after the last ``#### `` marker, without commas (``#### 70,000`` -> ``70000``)."""
    if MARKER not in solution:
        raise ValueError("answer has no '#### ' final-answer line")
    return answer_text(solution.rsplit(MARKER, 1)[1].strip().replace(",", ""))


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    solution = first(row, "answer")
    return Item(
        task=NAME,
        id=str(row.get("id", index)),
        question=first(row, "question"),
        reference=final_answer(solution),
        metadata={"solution": solution},
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="GSM8K test (grade-school math), greedy, boxed answers",
        row_to_item=row_to_item,
        hf_dataset="openai/gsm8k",
        hf_config="main",
        hf_split="test",
    )
