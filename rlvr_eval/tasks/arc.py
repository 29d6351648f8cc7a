"""ARC (AI2 Reasoning Challenge): grade-school science multiple choice, Easy and Challenge sets.

Citation: Clark et al., "Think you have Solved Question Answering? Try ARC, the AI2 Reasoning
Challenge", arXiv 1803.05457. Data: local ``arc_easy/test.jsonl`` (2,376 rows) and
``arc_challenge/test.jsonl`` (1,172), or hub ``allenai/ai2_arc`` configs ``ARC-Easy`` / ``ARC-Challenge``
(test); both use id, question, choices {text, label}, answerKey. One adapter, two registry entries.
The 1-shot RLVR paper (arXiv 2504.20571) reports ARC greedily under its math prompt, so the choices
are listed in the question with an instruction to box the letter.

Some items are labelled 1-4 instead of A-D; they are relabelled A-D (as lm-evaluation-harness does)
so every prompt and answer uses letters and a bare "3" is never mistaken for a choice. The source
label is kept in ``metadata["source_answer_key"]``. A few items have 3 or 5 choices (one has an E).

Example row::

    {"id": "Mercury_417466", "question": "Which statement best explains why photosynthesis is the
     foundation of most food webs?", "choices": {"text": ["Sunlight is the source of energy for nearly
     all ecosystems.", ...], "label": ["A", "B", "C", "D"]}, "answerKey": "A"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from rlvr_eval.tasks.base import Item, Task, first
from rlvr_eval.verifier.schema import EquivalenceOptions

INSTRUCTION = "Answer with the letter of the correct choice, e.g. \\boxed{A}."
NUMERIC_LABELS = {"1": "A", "2": "B", "3": "C", "4": "D", "5": "E"}
SUBSETS = {"easy": "ARC-Easy", "challenge": "ARC-Challenge"}


def render_question(question: str, labels: list[str], texts: list[str]) -> str:
    """The question, one "A. text" line per choice, then the answer instruction."""
    choices = [f"{label}. {text.strip()}" for label, text in zip(labels, texts, strict=True)]
    return "\n".join([question.strip(), *choices, INSTRUCTION])


def row_to_item(row: Mapping[str, Any], index: int, *, name: str) -> Item:
    choices = first(row, "choices")
    source_labels = [str(label).strip() for label in choices["label"]]
    texts = [str(text) for text in choices["text"]]
    if len(source_labels) != len(texts) or len(set(source_labels)) != len(source_labels):
        raise ValueError(f"bad choices {choices!r}")
    labels = [NUMERIC_LABELS.get(label, label) for label in source_labels]
    source_key = str(first(row, "answerKey")).strip()
    if source_key not in source_labels:
        raise ValueError(f"answerKey {source_key!r} is not one of the labels {source_labels}")
    return Item(
        task=name,
        id=str(row.get("id", index)),
        question=render_question(first(row, "question"), labels, texts),
        reference=labels[source_labels.index(source_key)],
        options=EquivalenceOptions(answer_type="choice", choices=tuple(labels)),
        metadata={"source_answer_key": source_key, "num_choices": len(labels)},
    )


def task(subset: Literal["easy", "challenge"]) -> Task:
    name = f"arc_{subset}"

    def convert(row: Mapping[str, Any], index: int) -> Item:
        return row_to_item(row, index, name=name)

    return Task(
        name=name,
        description=f"{SUBSETS[subset]} (AI2 Reasoning Challenge), greedy, boxed choice letter",
        row_to_item=convert,
        hf_dataset="allenai/ai2_arc",
        hf_config=SUBSETS[subset],
        hf_split="test",
        answer_format="multiple_choice",
    )
