"""AIME 2025: the 30 problems of the 2025 American Invitational Mathematics Examination I and II.

Citation: MAA AIME 2025 (problems and answers from the AoPS wiki). Data: local ``aime25/test.jsonl``
(id, problem, answer) or hub ``math-ai/aime25`` (test split, same columns).
Paper setting (arXiv 2504.20571): 8 samples at temperature 0.6, score = avg@8.
One reference is an angle, ``336^\\circ``; it is kept verbatim (the verifier strips the degree sign).

Example row::

    {"id": 0, "problem": "Find the sum of all integer bases $b>9$ for which $17_{b}$ is a divisor
     of $97_{b}$.", "answer": "70"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, first, integer_answer

NAME = "aime25"


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    return Item(
        task=NAME,
        id=str(row.get("id", index)),
        question=first(row, "problem", "question"),
        reference=integer_answer(first(row, "answer")),  # "025" -> "25"
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="AIME 2025 (I and II), avg@8 at temperature 0.6",
        row_to_item=row_to_item,
        hf_dataset="math-ai/aime25",
        hf_split="test",
        default_n=8,
        default_temperature=0.6,
    )
