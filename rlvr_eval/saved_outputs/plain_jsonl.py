"""Plain JSONL for anything else: one object per line with an item reference and completion(s).

    {"idx": 3, "completion": "... \\boxed{5}"}
    {"id": "test/algebra/1.json", "completions": ["...", "..."], "correct": [true, false]}
    {"question": "What is 2+3?", "response": "5"}
    {"task": "math500", "item_id": "test/algebra/1.json", "sample_index": 0, "completion": "..."}  # rlvr

- item: ``item_id`` / ``id`` name rlvr's item id (MATH500 ``unique_id``, AIME ``id``...);
  ``idx`` / ``doc_id`` are 0-based rows of the benchmark's test.jsonl (an id that is not an integer
  is read as an item id); ``question`` / ``problem`` the question text; ``prompt`` a rendered prompt
  that contains the question.
- completion: ``completion``, ``completions`` (a list, one per sample), ``text``, ``response``, ``responses``.
- optional: ``task`` (an rlvr task name), ``sample_index``, ``finish_reason``, and a verdict of your
  own grader in ``correct`` (a bool or one per completion), shown beside rlvr's as "your grader".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rlvr_eval.saved_outputs.rows import (
    OutputRow,
    OutputsError,
    first_present,
    optional_text,
    text_list,
    verdict_value,
)
from rlvr_eval.tasks.base import read_jsonl

COMPLETION_KEYS = ("completion", "completions", "text", "response", "responses")
ITEM_ID_KEYS = ("item_id", "id")
POSITION_KEYS = ("idx", "doc_id")
QUESTION_KEYS = ("question", "problem")
GRADER = "your grader (correct field)"


def looks_like(record: Mapping[str, Any]) -> bool:
    return first_present(record, COMPLETION_KEYS) is not None


def read(path: Path) -> Iterator[OutputRow]:
    for number, record in enumerate(read_jsonl(path), start=1):
        yield row_of(record, f"{path}:record {number}")


def row_of(record: Mapping[str, Any], source: str) -> OutputRow:
    found = first_present(record, COMPLETION_KEYS)
    if found is None:
        raise OutputsError(f"{source}: no completion field (one of {', '.join(COMPLETION_KEYS)})")
    completions = text_list(found[1], found[0], source)
    k = len(completions)
    item_id = first_present(record, ITEM_ID_KEYS)
    position = first_present(record, POSITION_KEYS)
    if position is not None and not _is_int(position[1]):  # e.g. "idx": "test/algebra/1.json"
        item_id, position = item_id or position, None
    sample_index = record.get("sample_index")
    if sample_index is not None and (not _is_int(sample_index) or k != 1 or sample_index < 0):
        raise OutputsError(f"{source}: sample_index must be a non-negative integer beside one completion")
    correct = record.get("correct")
    their_correct = _verdicts(correct, k, source)
    finish = record.get("finish_reason")
    return OutputRow(
        source=source,
        completions=completions,
        task=optional_text(record.get("task")),
        position=position[1] if position else None,
        item_id=optional_text(item_id[1]) if item_id else None,
        question=optional_text(q[1]) if (q := first_present(record, QUESTION_KEYS)) else None,
        prompt=optional_text(record.get("prompt")),
        sample_indices=[sample_index] if sample_index is not None else None,
        finish_reasons=[finish if isinstance(finish, str) else None] * k,
        grader=GRADER if any(v is not None for v in their_correct) else None,
        their_correct=their_correct,
    )


def _verdicts(value: Any, k: int, source: str) -> list[bool | None]:
    if value is None:
        return [None] * k
    values = value if isinstance(value, list) else [value] * k
    verdicts = [verdict_value(v) for v in values]
    if len(verdicts) != k or any(v is None for v in verdicts):
        raise OutputsError(f"{source}: correct must be a bool (or 0/1), or one per completion")
    return verdicts


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
