"""Reading ``metrics.jsonl`` back: the shared input of ``rlvr-train plot`` and ``rlvr-train rank``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """All rows of ``<run_dir>/metrics.jsonl`` (or of the file itself); a cut last line is skipped."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no metrics file at {path}")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill mid-write
            continue
    return rows


def series(rows: list[dict[str, Any]], key: str, kind: str = "train") -> tuple[list[int], list[float]]:
    """Steps and values of ``key`` over the rows of one ``kind`` that have a numeric value for it."""
    steps, values = [], []
    for row in rows:
        value = row.get(key)
        if row.get("kind", "train") != kind or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        steps.append(int(row["step"]))
        values.append(float(value))
    return steps, values
