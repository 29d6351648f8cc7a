"""MATH500: the 500-problem subset of the MATH test set chosen for "Let's Verify Step by Step".

Citation: Hendrycks et al., "Measuring Mathematical Problem Solving With the MATH Dataset",
arXiv 2103.03874; subset from Lightman et al., arXiv 2305.20050.
Data: local ``math500/test.jsonl`` (Qwen2.5-Math harness copy) or hub ``HuggingFaceH4/MATH-500`` (test);
both use the same columns. Paper setting: greedy, one sample.

Example row::

    {"problem": "Convert the point $(0,3)$ in rectangular coordinates to polar coordinates. ...",
     "solution": "... $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
     "answer": "\\left( 3, \\frac{\\pi}{2} \\right)", "subject": "Precalculus", "level": 2,
     "unique_id": "test/precalculus/807.json"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, answer_text, first

NAME = "math500"


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    return Item(
        task=NAME,
        id=str(row.get("unique_id") or index),
        question=first(row, "problem"),
        reference=answer_text(first(row, "answer")),
        metadata={key: row.get(key) for key in ("subject", "level", "unique_id")},
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="MATH500 (Hendrycks MATH, Lightman subset), greedy",
        row_to_item=row_to_item,
        hf_dataset="HuggingFaceH4/MATH-500",
        hf_split="test",
    )
