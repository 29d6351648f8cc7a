"""AMC23: 40 problems from the 2023 AMC 12 A/B, with numeric answers (choices removed).

Citation: MAA AMC 12 2023 (AoPS wiki), as used by the Qwen2.5-Math evaluation harness.
Data: local ``amc23/test.jsonl`` (id, problem, answer, url) or hub ``math-ai/amc23`` (test; its
``question`` column is accepted too). Not ``AI-MO/aimo-validation-amc``, an 83-problem set.
Paper setting (arXiv 2504.20571): 8 samples at temperature 0.6, score = avg@8.
Answers are stored as floats (27.0); whole numbers are rendered as integers ("27").

Example row::

    {"id": 0, "problem": "Cities $A$ and $B$ are $45$ miles apart. ... How many miles from City $A$
     will they be when they meet?", "answer": 27.0,
     "url": "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_1"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, answer_text, first

NAME = "amc23"


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    return Item(
        task=NAME,
        id=str(row.get("id", index)),
        question=first(row, "problem", "question"),
        reference=answer_text(first(row, "answer")),
        metadata={"url": row.get("url")},
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="AMC 2023 (40 problems), avg@8 at temperature 0.6",
        row_to_item=row_to_item,
        hf_dataset="math-ai/amc23",
        hf_split="test",
        default_n=8,
        default_temperature=0.6,
    )
