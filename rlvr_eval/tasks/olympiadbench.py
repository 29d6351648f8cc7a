"""OlympiadBench: 675 open-ended, text-only, English competition math problems (final-answer subset).

Citation: He et al., "OlympiadBench: A Challenging Benchmark for Promoting AGI with Olympiad-Level
Bilingual Multimodal Scientific Problems", arXiv 2402.14008. Data: local ``olympiadbench/test.jsonl``
(Qwen2.5-Math harness copy) or hub ``Hothan/OlympiadBench``, config ``OE_TO_maths_en_COMP`` (train).
Paper setting: greedy, one sample.

Mapping: ``final_answer`` (a list of LaTeX strings in ``$...$``) -> reference with every ``$`` removed:
one string when the list has one element (all 675 local rows) or when ``is_multiple_answer`` (parts
joined with ", ": every part is required, whereas a list reference means "any one of"); otherwise a
list of alternatives. ``is_multiple_answer`` -> ``options.multiple_answers``; ``unit`` -> ``options.unit``;
``answer_type`` -> ``options.answer_type``; ``context`` (shared problem preamble) precedes the question.
``error`` is the dataset's absolute tolerance for a numerical answer (one row: "1e-1" on 4.2 %); it
becomes ``rel_tol = error / |answer|``.

Example row::

    {"id": 1606, "subfield": "Combinatorics", "context": null, "question": "Xenia and Sergey play ...",
     "solution": ["Sergey can determine Xenia's number in 2 but not fewer moves. ..."],
     "final_answer": ["2"], "is_multiple_answer": false, "unit": null, "answer_type": "Numerical",
     "error": null}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlvr_eval.tasks.base import Item, Task, first
from rlvr_eval.verifier.schema import AnswerType, EquivalenceOptions

NAME = "olympiadbench"

ANSWER_TYPES: dict[str, AnswerType] = {
    "Numerical": "numeric",
    "Expression": "expression",
    "Equation": "equation",
    "Interval": "interval",
    "Tuple": "tuple",
}


def _strip_dollars(text: str) -> str:
    return text.replace("$", "").strip()


def _rel_tol(error: Any, reference: str) -> float | None:
    """Convert the absolute ``error`` to a relative tolerance around a plain-number reference."""
    if error in (None, ""):
        return None
    try:
        value = float(reference)
        return float(error) / abs(value) if value else None
    except ValueError:  # a non-numeric reference: no tolerance applies
        return None


def row_to_item(row: Mapping[str, Any], index: int) -> Item:
    answers = first(row, "final_answer")
    answers = [answers] if isinstance(answers, str) else list(answers)
    references = [_strip_dollars(str(a)) for a in answers]
    if not references or not all(references):
        raise ValueError(f"empty final_answer {answers!r}")
    multiple = bool(row.get("is_multiple_answer"))
    if multiple and len(references) > 1:  # one answer with several parts: all are required, so one string
        references = [", ".join(references)]
    unit = _strip_dollars(row.get("unit") or "") or None
    question = first(row, "question")
    if row.get("context"):
        question = f"{row['context'].strip()}\n\n{question}"
    options = EquivalenceOptions(
        answer_type=ANSWER_TYPES.get(row.get("answer_type") or "", "auto"),
        multiple_answers=multiple,
        unit=unit,
        rel_tol=_rel_tol(row.get("error"), references[0]),
    )
    return Item(
        task=NAME,
        id=str(row.get("id", index)),
        question=question,
        reference=references[0] if len(references) == 1 else references,
        options=options,
        metadata={key: row.get(key) for key in ("subfield", "answer_type", "error")},
    )


def task() -> Task:
    return Task(
        name=NAME,
        description="OlympiadBench (open-ended, text-only, English math), greedy",
        row_to_item=row_to_item,
        hf_dataset="Hothan/OlympiadBench",
        hf_config="OE_TO_maths_en_COMP",
        hf_split="train",
    )
