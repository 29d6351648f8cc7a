"""``metrics.jsonl``: one JSON row per training step or evaluation, written by the trainer (and mirrored to
TensorBoard), cut back on resume, and read back by ``rlvr-train plot`` and ``rlvr-train rank``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from rlvr_train.durable import write_atomic

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


def logged_eval_steps(path: Path) -> set[int]:
    if not path.exists():
        return set()
    steps = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError, KeyError, TypeError, ValueError):
            row = json.loads(line)
            if row.get("kind") == "eval":
                steps.add(int(row["step"]))
    return steps


def truncate_metrics(path: Path, step: int) -> None:
    """Keep only rows with ``step <= step`` (all rows are dropped for a fresh run)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill mid-write
            continue
        if int(row.get("step", 0)) <= step and step > 0:
            kept.append(line)
    write_atomic(path, "".join(f"{line}\n" for line in kept))  # a crash here must not lose the log


def log_metrics(path: Path, writer: Any, row: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    if writer is not None:
        prefix = row.get("kind", "train")
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step":
                writer.add_scalar(f"{prefix}/{key}", value, row["step"])


def open_tensorboard(out: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard not installed: metrics.jsonl is the record
        return None
    return SummaryWriter(log_dir=str(out / "tensorboard"))
