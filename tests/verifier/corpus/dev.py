"""Rows of a real-completions file (``dev.jsonl``) with stable ids, and the table of rows checked by reading.

The completions file lives outside the repository (its path comes from an option or
``RLVR_DEV_COMPLETIONS``); only our verdicts on some of its rows, keyed by row id, are kept here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

CHECKED_FILE = Path(__file__).resolve().parent / "dev_checked.jsonl"
VERDICTS = ("label_right", "label_wrong")


@dataclass(frozen=True)
class DevRow:
    """One recorded completion with the recording project's label."""

    row_id: str  # "<1-based line number>-<first 8 hex of sha1 of the raw line>": stable and self-checking
    benchmark: str
    model: str
    source: str
    problem: str
    reference: str
    completion: str
    label: bool | None


@dataclass(frozen=True)
class CheckedRow:
    """Our reading of one row: is its label right, and what the verdict truly is."""

    row_id: str
    verdict: str  # "label_right" or "label_wrong"
    correct: bool  # the true verdict on the completion
    reason: str


def row_id(line_number: int, raw_line: str) -> str:
    digest = hashlib.sha1(raw_line.rstrip("\n").encode("utf-8")).hexdigest()[:8]
    return f"{line_number}-{digest}"


def read_dev_rows(path: str | Path) -> list[DevRow]:
    """Every row of a dev.jsonl-style file, in file order."""
    rows = []
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            data = json.loads(line)
            rows.append(
                DevRow(
                    row_id=row_id(number, line),
                    benchmark=data["benchmark"],
                    model=data["model"],
                    source=data["source"],
                    problem=data["problem"],
                    reference=str(data["reference"]),
                    completion=data["completion"],
                    label=data.get("label"),
                )
            )
    return rows


def load_checked(path: str | Path = CHECKED_FILE) -> list[CheckedRow]:
    """The checked-rows table; each row's `correct` must follow from its verdict and the file's label."""
    checked = []
    seen: set[str] = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        data = json.loads(line)
        if set(data) != {"row_id", "verdict", "correct", "reason"} or data["verdict"] not in VERDICTS:
            raise ValueError(f"{Path(path).name}:{number}: need row_id, verdict {VERDICTS}, correct, reason")
        if data["row_id"] in seen:
            raise ValueError(f"{Path(path).name}:{number}: duplicate row id {data['row_id']}")
        seen.add(data["row_id"])
        checked.append(CheckedRow(data["row_id"], data["verdict"], bool(data["correct"]), data["reason"]))
    return checked
