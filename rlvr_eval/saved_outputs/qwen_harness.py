"""Output files of the Qwen2.5-Math evaluation harness (``evaluation/math_eval.py --save_outputs``).

The harness the 1-shot RLVR paper, simpleRL and understand-r1-zero evaluate with. It writes
``<output_dir>/<data_name>/<split>_<prompt_type>_<num_test_sample>_seed<seed>_t<temperature>_s<start>_e<end>.jsonl``,
one line per benchmark item (fields read from QwenLM/Qwen2.5-Math ``evaluation/math_eval.py`` and
``evaluate.py``, and the One-Shot-RLVR fork ``Qwen2.5-Eval/evaluation``)::

    {"idx": 0, "question": "Convert the point $(0,3)$ ...", "gt_cot": "...",
     "gt": "\\left( 3, \\frac{\\pi}{2} \\right)", "level": 2, ..., "code": ["<completion 1>", ...],
     "pred": ["(3, \\frac{\\pi}{2})", ...], "report": [null, ...], "score": [true, ...]}

- ``idx``: the ``idx`` field of the harness's data file, else the row number there (``data_loader.py``);
  with the harness's own ``data/<name>/test.jsonl`` (rlvr's local data layout) that is the row number.
- ``question``: the data file's question/problem field, stripped (" (True or False)" / " (Yes or No)" may
  be appended); ``gt``: its reference after ``strip_string``.
- ``code``: the completions, ``n_sampling`` of them; ``pred``: the harness's extracted answers;
  ``score``: its ``math_equal`` verdicts (absent if the file was saved before ``evaluate`` ran).

The One-Shot-RLVR fork samples AIME/AMC as ``aime24x8`` etc.: each item repeated 8 times as rows of
its own data file (so ``idx`` runs past the benchmark's size); those rows are matched by question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rlvr_eval.saved_outputs.rows import OutputRow, OutputsError, optional_text, text_list, verdict_value
from rlvr_eval.tasks.base import read_jsonl

GRADER = "Qwen2.5-Math harness score"
_FILE_RE = re.compile(r"_seed\d+_t[\d.]+_s-?\d+_e-?\d+\.jsonl$")


def looks_like(record: Mapping[str, Any]) -> bool:
    return "idx" in record and "code" in record


def looks_like_file(path: Path) -> bool:
    """The harness's output file name (its metrics file ends in ``_metrics.json`` and is not read)."""
    return bool(_FILE_RE.search(path.name))


def read(path: Path) -> Iterator[OutputRow]:
    for number, record in enumerate(read_jsonl(path), start=1):
        source = f"{path}:record {number}"
        if not looks_like(record):
            raise OutputsError(f"{source}: not a Qwen2.5-Math harness record (no idx/code field)")
        completions = text_list(record["code"], "code", source)
        k = len(completions)
        scores = record.get("score")
        preds = record.get("pred")
        their_correct: list[bool | None] = (
            [verdict_value(s) for s in scores] if isinstance(scores, list) else [None] * k
        )
        their_extracted: list[str | None] = (
            [optional_text(p) for p in preds] if isinstance(preds, list) else [None] * k
        )
        if len(their_correct) != k or len(their_extracted) != k:
            raise OutputsError(f"{source}: {k} completions in code but {len(their_correct)} scores / "
                               f"{len(their_extracted)} preds")
        idx = record["idx"]
        yield OutputRow(
            source=source,
            completions=completions,
            position=idx if isinstance(idx, int) and not isinstance(idx, bool) else None,
            item_id=None if isinstance(idx, int) else optional_text(idx),
            question=optional_text(record.get("question")),
            grader=GRADER if isinstance(scores, list) else None,
            their_correct=their_correct,
            their_extracted=their_extracted,
            their_reference=optional_text(record.get("gt")),
        )


def task_hint(path: Path) -> str | None:
    """The harness writes ``<data_name>/<file>``: the folder names the benchmark."""
    return path.parent.name or None
