"""lighteval detail files: ``<output>/details/<model>/<date>/details_<task>_<date>.parquet``.

Columns (read from lighteval's ``logging/info_loggers.py`` and ``logging/evaluation_tracker.py``):

- 0.10 to 0.13: ``doc`` (a ``Doc``: ``query`` = the rendered prompt, ``id`` = row number in lighteval's own
  copy of the dataset, ``specific``, ``original_query``...), ``model_response`` (``text``: the
  completions, one per sample) and ``metric`` (``{"extractive_match": 1.0, ...}``). A cell may hold the
  struct itself or its Python ``repr`` (``ast.literal_eval`` reads it back; enum reprs become None).
- up to 0.9: flat ``example`` (the query), ``full_prompt``, ``predictions`` (the completions),
  ``gold``, ``metrics`` and ``specifics``.

lighteval prompts wrap the question in its own template, so items are matched by the question found
inside ``query``; ``doc.id`` is trusted only where it agrees. rlvr's own lighteval tasks
(``rlvr_eval.integrations.lighteval_tasks``) store the item in ``doc.specific["rlvr_item"]``, used as is.
The verdict is the first 0/1 metric; it is compared per sample only when there is one completion.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rlvr_eval.saved_outputs.rows import (
    OutputRow,
    OutputsError,
    mapping_at,
    optional_text,
    text_list,
    verdict_value,
)

_ENUM_REPR = re.compile(r"<[A-Za-z_][\w.]*: [^<>]{0,200}>")  # e.g. <SamplingMethod.GENERATIVE: 1>
_PREFERRED_METRICS = ("extractive_match", "rlvr_lenient", "exact_match", "pass@1", "acc")


def read(path: Path) -> Iterator[OutputRow]:
    try:
        import pyarrow.parquet as pq  # installed with datasets

        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises its own types for a file that is not parquet
        reason = " ".join(str(err).split())[:150]
        raise OutputsError(f"{path}: not a readable parquet file ({reason})") from err
    columns = set(table.column_names)
    if {"doc", "model_response"} <= columns:
        row_of = _row_v013
    elif "predictions" in columns and ("example" in columns or "full_prompt" in columns):
        row_of = _row_v09
    else:
        shown = ", ".join(sorted(columns)[:12])
        raise OutputsError(f"{path}: not a lighteval details file (columns: {shown})")
    for number, record in enumerate(table.to_pylist(), start=1):
        yield row_of(record, f"{path}:row {number}")


def _row_v013(record: Mapping[str, Any], source: str) -> OutputRow:
    doc = _mapping(record.get("doc"), "doc", source)
    response = _mapping(record.get("model_response"), "model_response", source)
    completions = text_list(response.get("text"), "model_response.text", source)
    metric = _mapping(record.get("metric"), "metric", source) if record.get("metric") is not None else {}
    rlvr_item = mapping_at(mapping_at(doc, "specific"), "rlvr_item")
    doc_id = str(doc.get("id", ""))
    return _row(
        source, completions, metric,
        question=optional_text(doc.get("original_query")) or None,
        prompt=optional_text(doc.get("query")),
        item_id=optional_text(rlvr_item.get("id")),
        position=int(doc_id) if doc_id.isdigit() else None,
    )


def _row_v09(record: Mapping[str, Any], source: str) -> OutputRow:
    completions = text_list(_maybe_literal(record.get("predictions"), source), "predictions", source)
    metric = _mapping(record.get("metrics"), "metrics", source) if record.get("metrics") is not None else {}
    prompt = optional_text(record.get("example")) or optional_text(record.get("full_prompt"))
    return _row(source, completions, metric, question=None, prompt=prompt, item_id=None, position=None)


def _row(source: str, completions: list[str], metric: Mapping[str, Any], **where: Any) -> OutputRow:
    name = next(
        (m for m in (*_PREFERRED_METRICS, *metric) if verdict_value(metric.get(m)) is not None), None
    )
    single = len(completions) == 1
    verdict = verdict_value(metric[name]) if name is not None and single else None
    return OutputRow(
        source=source,
        completions=completions,
        grader=f"lighteval {name}" if name is not None else None,
        their_correct=[verdict] * len(completions),
        **where,
    )


def _mapping(value: Any, column: str, source: str) -> Mapping[str, Any]:
    value = _maybe_literal(value, source)
    if not isinstance(value, Mapping):
        raise OutputsError(f"{source}: column {column} is not a mapping ({type(value).__name__})")
    return value


def _maybe_literal(value: Any, source: str) -> Any:
    """Cells saved as text: JSON, else a Python literal (enum reprs, which are not literals, become None)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return ast.literal_eval(_ENUM_REPR.sub("None", value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        problem = f"{source}: a cell is neither JSON nor a Python literal ({type(err).__name__})"
        raise OutputsError(problem) from err


def task_hint(path: Path) -> str | None:
    """``details_<task>_<date>.parquet`` where ``<date>`` is the name of the folder it sits in."""
    stem = path.name.removesuffix(".parquet")
    if not stem.startswith("details_"):
        return None
    stem = stem.removeprefix("details_")
    date = path.parent.name
    if stem.endswith("_" + date):
        return stem[: -len(date) - 1]
    task, sep, _ = stem.rpartition("_")
    return task if sep else stem
