"""AIME 2024: the 30 problems of the 2024 American Invitational Mathematics Examination I and II.

Citation: MAA AIME 2024 (problems and answers from the AoPS wiki). Data: local ``aime24/test.jsonl``
(id, problem, answer, url) or hub ``HuggingFaceH4/aime_2024`` (train split, same columns).
Paper setting (arXiv 2504.20571): 8 samples at temperature 0.6, score = avg@8.
Answers are integers 0-999, some stored zero-padded ("025"); they are stored here as plain integers.

Example row::

    {"id": 60, "problem": "Every morning Aya goes for a $9$-kilometer-long walk ...", "answer": "204",
     "url": "https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_1"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, first, integer_answer

NAME = "aime24"


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    return Item(
        task=NAME,
        id=str(row.get("id", index)),
        question=first(row, "problem", "question"),
        reference=integer_answer(first(row, "answer")),  # "025" -> "25"
        metadata={"url": row.get("url")},
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="AIME 2024 (I and II), avg@8 at temperature 0.6",
        row_to_item=row_to_item,
        hf_dataset="HuggingFaceH4/aime_2024",
        hf_split="train",
        default_n=8,
        default_temperature=0.6,
    )
