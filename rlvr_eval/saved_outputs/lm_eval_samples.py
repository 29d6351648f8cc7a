"""lm-evaluation-harness ``--log_samples`` files: ``<output>/<model>/samples_<task>_<date>.jsonl``.

Fields (read from EleutherAI/lm-evaluation-harness ``lm_eval/evaluator.py`` and
``lm_eval/loggers/evaluation_tracker.py``, 0.4.x): one line per (document, filter)::

    {"doc_id": 0, "doc": {"problem": "...", "answer": "...", ...}, "target": "...",
     "arguments": {"gen_args_0": {"arg_0": "<prompt>", "arg_1": {...}}},   # older: [["<prompt>", {...}]]
     "resps": [["<completion 1>", "<completion 2>"]], "filtered_resps": ["<extracted>"],
     "filter": "strict-match", "metrics": ["exact_match"], "exact_match": 1.0,
     "doc_hash": "...", "prompt_hash": "...", "target_hash": "..."}

- ``doc_id`` numbers the documents of lm-eval's own copy of the dataset (often the hub's, not the
  local file's order), so it is only trusted where it agrees with the question; the question comes
  from ``doc`` (``problem`` / ``question`` / ...), an item id from ``doc.unique_id`` / ``doc.id``.
- ``resps``: one list per request; a generation task has one request whose list holds the ``repeats``
  completions. A task with several filters logs the document once per filter (same ``resps``); the
  first filter's row gives the verdict and the later ones are folded into it.
- The verdict is the first 0/1 metric named in ``metrics`` (else ``exact_match``, ``acc``...). It grades
  the filtered answer of the whole document, so it is compared per sample only with one completion.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rlvr_eval.saved_outputs.rows import (
    OutputRow,
    OutputsError,
    first_present,
    mapping_at,
    optional_text,
    text_list,
    verdict_value,
)
from rlvr_eval.tasks.base import read_jsonl

QUESTION_KEYS = ("problem", "Problem", "question", "Question", "input", "query")  # aime24: "Problem"
ID_KEYS = ("unique_id", "id")
_BOOKKEEPING = {
    "doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
    "prompt_hash", "target_hash",
}
_PREFERRED_METRICS = ("exact_match", "math_verify", "acc", "pass@1")


def looks_like(record: Mapping[str, Any]) -> bool:
    return "doc_id" in record and ("resps" in record or "filtered_resps" in record)


def read(path: Path) -> Iterator[OutputRow]:
    seen: dict[Any, Any] = {}  # doc_id -> filter of the row kept
    for number, record in enumerate(read_jsonl(path), start=1):
        source = f"{path}:record {number}"
        if not looks_like(record):
            raise OutputsError(f"{source}: not an lm-eval sample (no doc_id/resps field)")
        doc_id = record["doc_id"]
        key = doc_id if isinstance(doc_id, (int, str)) else repr(doc_id)
        if key in seen:
            if record.get("filter") == seen[key]:
                raise OutputsError(f"{source}: doc_id {doc_id!r} appears twice for filter {seen[key]!r}")
            continue  # the same document under another filter: same completions, already read
        seen[key] = record.get("filter")
        yield _row(record, source)


def _row(record: Mapping[str, Any], source: str) -> OutputRow:
    completions = _completions(record.get("resps"), source)
    doc = mapping_at(record, "doc")
    question = first_present(doc, QUESTION_KEYS)
    item_id = first_present(doc, ID_KEYS)
    metric = _metric(record)
    verdict = verdict_value(record[metric]) if metric else None
    single = len(completions) == 1
    filtered = record.get("filtered_resps")
    extracted = filtered[0] if isinstance(filtered, list) and len(filtered) == 1 else None
    doc_id = record.get("doc_id")
    grader = None
    if metric is not None:
        grader = f"lm-eval {metric}" + (f" (filter {record['filter']})" if record.get("filter") else "")
    return OutputRow(
        source=source,
        completions=completions,
        position=doc_id if isinstance(doc_id, int) and not isinstance(doc_id, bool) else None,
        item_id=optional_text(item_id[1]) if item_id else None,
        question=optional_text(question[1]) if question else None,
        prompt=_prompt(record.get("arguments")),
        grader=grader,
        their_correct=[verdict if single else None] * len(completions),
        their_extracted=[optional_text(extracted) if single and not isinstance(extracted, list) else None]
        * len(completions),
        their_reference=optional_text(record.get("target")),
    )


def _completions(resps: Any, source: str) -> list[str]:
    if not isinstance(resps, list) or not resps:
        raise OutputsError(f"{source}: resps must be a non-empty list")
    if all(isinstance(r, list) for r in resps):
        if len(resps) != 1:
            raise OutputsError(f"{source}: {len(resps)} requests for one document: not a generation task")
        return text_list(resps[0], "resps", source)
    return text_list(resps, "resps", source)


def _metric(record: Mapping[str, Any]) -> str | None:
    """The metric holding a 0/1 verdict: the first of ``metrics``, else a known name, else any 0/1 field."""
    raw = record.get("metrics")
    named: list[Any] = raw if isinstance(raw, list) else []
    candidates = [*named, *_PREFERRED_METRICS, *(k for k in record if k not in _BOOKKEEPING)]
    for name in candidates:
        if isinstance(name, str) and verdict_value(record.get(name)) is not None:
            return name
    return None


def _prompt(arguments: Any) -> str | None:
    """The prompt of the first request: ``{"gen_args_0": {"arg_0": prompt}}`` or ``[[prompt, kwargs]]``."""
    if isinstance(arguments, Mapping):
        first = arguments.get("gen_args_0")
        value = first.get("arg_0") if isinstance(first, Mapping) else None
    elif isinstance(arguments, list) and arguments and isinstance(arguments[0], list) and arguments[0]:
        value = arguments[0][0]
    else:
        value = None
    return value if isinstance(value, str) else None


def task_hint(path: Path) -> str | None:
    """``samples_<task>_<date>.jsonl`` -> ``<task>`` (the date is an ISO time with ':' as '-')."""
    stem = path.name.removesuffix(".jsonl")
    if not stem.startswith("samples_"):
        return None
    task, sep, _date = stem.removeprefix("samples_").rpartition("_")
    return task if sep else None
