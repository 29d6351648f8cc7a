"""A user's own benchmark: any .jsonl file with a question field and an answer field.

Spec: ``get_task("jsonl:data/my.jsonl", question_field="problem", answer_field="answer")``. The task is
named after the file stem unless ``name`` is given; ids come from ``id_field`` or the row number.
A list-valued answer field becomes a list reference. Sampling defaults are greedy, one sample.

Example row (the 1-shot RLVR training file ``train/pi1.jsonl``, with ``question_field="prompt"``)::

    {"index": 124, "prompt": "The pressure $P$ exerted by wind ... Let's think step by step and output
     the final answer within \\boxed{}.", "answer": "12.8", "data_source": "..."}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rlvr_eval.tasks.base import Item, Task, TaskDataError, answer_text, first
from rlvr_eval.verifier.schema import AnswerFormat, AnswerType, EquivalenceOptions


def jsonl_task(
    path: str | Path,
    *,
    question_field: str = "question",
    answer_field: str = "answer",
    id_field: str | None = None,
    metadata_fields: Sequence[str] = (),
    name: str | None = None,
    answer_format: AnswerFormat = "boxed",
    answer_type: AnswerType = "auto",
    default_n: int = 1,
    default_temperature: float = 0.0,
    max_tokens: int = 3072,
) -> Task:
    """Build a Task reading ``path``; the file must exist now, so a typo fails before any generation."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise TaskDataError(f"jsonl task: no such file {str(file)!r}")
    task_name = name or file.stem
    options = EquivalenceOptions(answer_type=answer_type)

    def row_to_item(row: Mapping[str, Any], index: int) -> Item:
        answer = first(row, answer_field)
        reference = [answer_text(a) for a in answer] if isinstance(answer, list) else answer_text(answer)
        return Item(
            task=task_name,
            id=str(row[id_field]) if id_field else str(index),
            question=str(first(row, question_field)),
            reference=reference,
            options=options,
            metadata={key: row.get(key) for key in metadata_fields},
        )

    return Task(
        name=task_name,
        description=f"user jsonl file {file}",
        row_to_item=row_to_item,
        path=file,
        answer_format=answer_format,
        default_n=default_n,
        default_temperature=default_temperature,
        max_tokens=max_tokens,
    )
