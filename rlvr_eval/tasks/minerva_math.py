"""Minerva Math: 272 undergraduate STEM problems (MIT OCW) from the Minerva paper's OCWCourses set.

Citation: Lewkowycz et al., "Solving Quantitative Reasoning Problems with Language Models",
arXiv 2206.14858. Data: local ``minerva_math/test.jsonl`` (Qwen2.5-Math harness copy: problem, solution,
type, idx) or hub ``math-ai/minervamath`` (test; question/answer columns are accepted too).
Paper setting: greedy, one sample.

The reference is the last ``\\boxed{}`` of ``solution`` (found by the verifier's own extractor, so
gold and model answers are read alike), kept verbatim with any units inside it.
Tolerance: the references are rounded values (``rounded_reference=True``): the OCW answers are stated
to a few significant figures, so an answer that agrees to the reference's shown decimal precision is
right (reference 1.6 accepts 1.62, rejects 1.7). No blanket relative tolerance (``rel_tol=None``): the
Qwen harness grades these with exact ``math_equal``, and a relative tolerance would credit answers its
grader rejects.

Example row::

    {"problem": "Each of the two Magellan telescopes has a diameter of $6.5 \\mathrm{~m}$. ...",
     "solution": "... s=\\frac{45}{3600} \\frac{\\pi}{180} 7200=\\boxed{1.6} \\mathrm{~cm} ...",
     "type": "Introduction to Astronomy (8.282J Spring 2006)", "idx": 0}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, answer_text, first
from rlvr_eval.verifier.extract import last_boxed_content
from rlvr_eval.verifier.schema import EquivalenceOptions

NAME = "minerva_math"


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    solution = row.get("solution")
    reference = last_boxed_content(solution) if solution else first(row, "answer")
    if reference is None:
        raise ValueError("solution has no complete \\boxed{} answer")
    return Item(
        task=NAME,
        id=str(row.get("idx", index)),
        question=first(row, "problem", "question"),
        reference=answer_text(reference),
        options=EquivalenceOptions(rounded_reference=True),
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
