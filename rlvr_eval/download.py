"""``rlvr-eval download DIR``: save the benchmarks from the Hugging Face hub for machines that run offline.

    rlvr-eval download data/ --tasks paper          # on a machine with network access
    rlvr-eval score MODEL --data-dir data/           # later, anywhere, offline

Each task's hub dataset (its adapter's ``hf_dataset`` / ``hf_config`` / ``hf_split``) is fetched with
``datasets.load_dataset`` and written to ``DIR/<task>/test.jsonl``, one hub row per line. The rows keep
the hub's own columns: every adapter's ``row_to_item`` reads the local and the hub spellings alike,
so nothing is renamed or dropped. Before a file is kept it is read back through the same local loader
``score --data-dir`` uses, and the items must equal those built from the hub rows directly: a file that
would grade differently offline is an error, never a silent difference. (Training examples for
``rlvr-train --data-dir``: ``rlvr-train download DIR``.)
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlvr_eval.tasks import get_task
from rlvr_eval.tasks.base import TEST_FILE, TaskDataError


def jsonable(value: Any, where: str) -> Any:
    """``value`` as plain JSON types (hub rows may hold dates); other types are a TaskDataError."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, where) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise TaskDataError(f"{where}: a {type(value).__name__} value cannot be saved as JSON")


def write_jsonl_atomically(path: Path, rows: Sequence[Mapping[str, Any]], where: str) -> None:
    """Write ``rows`` as JSON lines through a temporary sibling, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(jsonable(row, where), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def download_task(name: str, out_dir: Path) -> tuple[Path, int]:
    """Save task ``name``'s hub rows as ``out_dir/<name>/test.jsonl``; returns (path, item count)."""
    task = get_task(name)
    rows = task.hub_rows()
    source = f"hub:{task.hf_dataset}"
    expected = task.load_rows(rows, source)
    path = out_dir / task.name / TEST_FILE
    write_jsonl_atomically(path, rows, f"{task.name} ({source})")
    if task.load(out_dir) != expected:  # what score --data-dir will read must grade like the hub
        path.unlink()
        raise TaskDataError(f"{task.name}: {path} does not read back as the hub's items; not saved")
    return path, len(expected)


def download_tasks(
    names: Sequence[str], out_dir: str | Path, report: Callable[[str], None] = print
) -> list[Path]:
    """Save every task in ``names`` (registered names; not ``jsonl:`` files) under ``out_dir``."""
    out = Path(out_dir).expanduser()
    local = [n for n in names if get_task(n).hf_dataset is None] if names else []
    if local:
        raise TaskDataError(f"{', '.join(local)}: no hub dataset to download (a local file already)")
    paths = []
    for name in names:
        path, count = download_task(name, out)
        report(f"{name}: {count} items -> {path}")
        paths.append(path)
    return paths
