"""Minerva Math: 272 undergraduate STEM problems (MIT OCW) from the Minerva paper's OCWCourses set.

Citation: Lewkowycz et al., "Solving Quantitative Reasoning Problems with Language Models",
arXiv 2206.14858. Data: local ``minerva_math/test.jsonl`` (Qwen2.5-Math harness copy: problem, solution,
type, idx) or hub ``math-ai/minervamath`` (test; question/answer columns are accepted too).
Paper setting: greedy, one sample.

The reference is the last ``\\boxed{}`` of ``solution``, kept verbatim with any units inside it.
Tolerance: none (``rel_tol=None``). The Qwen harness grades these with exact ``math_equal``, and the
verifier already accepts an answer that agrees to the reference's shown decimal precision, which is
how the OCW answers are stated ("to two significant figures"); a blanket relative tolerance would
credit answers the paper's grader rejects.

Example row::

    {"problem": "Each of the two Magellan telescopes has a diameter of $6.5 \\mathrm{~m}$. ...",
     "solution": "... s=\\frac{45}{3600} \\frac{\\pi}{180} 7200=\\boxed{1.6} \\mathrm{~cm} ...",
     "type": "Introduction to Astronomy (8.282J Spring 2006)", "idx": 0}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, answer_text, first

NAME = "minerva_math"
BOXED = "\\boxed{"


def last_boxed(text: str) -> str:
    """Content of the last ``\\boxed{...}`` (brace-balanced); ValueError if there is none.

    Local on purpose: gold solutions are trusted text; completions go through the verifier's extractor.
    """
    start = text.rfind(BOXED)
    if start < 0:
        raise ValueError("solution has no \\boxed{} answer")
    depth, begin = 1, start + len(BOXED)
    for pos in range(begin, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return text[begin:pos]
    raise ValueError("unbalanced \\boxed{ in solution")


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    solution = row.get("solution")
    reference = last_boxed(solution) if solution else first(row, "answer")
    return Item(
        task=NAME,
        id=str(row.get("idx", index)),
        question=first(row, "problem", "question"),
        reference=answer_text(reference),
        metadata={"type": row.get("type")},
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="Minerva Math (OCWCourses), greedy",
        row_to_item=row_to_item,
        hf_dataset="math-ai/minervamath",
        hf_split="test",
    )
