"""Shared types of the benchmark adapters: an ``Item`` per question and a ``Task`` per benchmark.

Each adapter module only says how one raw row becomes an ``Item`` (``row_to_item``); loading lives
here so every benchmark reads data the same way:

1. ``data_dir`` (or the env var ``RLVR_DATA_DIR``) given: read ``<dir>/<task name>/test.jsonl``
   (the Qwen2.5-Math harness layout; the tested path);
2. otherwise ``datasets.load_dataset(hf_dataset, hf_config, split=hf_split)`` from the Hugging Face hub.

Hub columns can differ from the local files, so every ``row_to_item`` accepts both spellings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rlvr_eval.verifier.schema import AnswerFormat, EquivalenceOptions

DATA_DIR_ENV = "RLVR_DATA_DIR"
TEST_FILE = "test.jsonl"


class TaskDataError(RuntimeError):
    """Benchmark data could not be found, loaded or understood; the message says what to do."""


class Item(BaseModel):
    """One benchmark question with everything needed to grade answers to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    id: str
    question: str = Field(description="The question as the model should see it (before the template).")
    reference: str | list[str] = Field(description="Gold answer; a list when the source gives several.")
    options: EquivalenceOptions = Field(default_factory=EquivalenceOptions)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Subject, level, source ids...")


RowToItem = Callable[[Mapping[str, Any], int], Item]
"""Turns raw row ``index`` (local or hub) into an Item; raises KeyError/ValueError when malformed."""


@dataclass(frozen=True)
class Task:
    """A benchmark: where its data lives, how rows become items, and the paper's sampling defaults."""

    name: str
    description: str
    row_to_item: RowToItem = field(repr=False)
    hf_dataset: str | None = None
    hf_config: str | None = None
    hf_split: str = "test"
    answer_format: AnswerFormat = "boxed"
    default_n: int = 1  # samples per item; avg@n is reported
    default_temperature: float = 0.0  # 0 = greedy
    max_tokens: int = 3072  # the paper's response budget
    path: Path | None = None  # a fixed local file (user jsonl tasks); overrides data_dir and the hub

    def load(self, data_dir: str | Path | None = None, limit: int | None = None) -> list[Item]:
        """Read the items (first ``limit`` only if given); ids are checked to be unique.

        No items at all (an empty file, ``limit`` 0) is an error: a run must never finish "successfully"
        with a benchmark silently missing from its results.
        """
        if limit is not None and limit < 1:
            raise TaskDataError(f"{self.name}: limit must be at least 1, got {limit}")
        rows, source = self._rows(data_dir)
        return self.load_rows(rows, source, limit)

    def load_rows(
        self, rows: Iterable[Mapping[str, Any]], source: str, limit: int | None = None
    ) -> list[Item]:
        """Items from raw rows read from ``source`` (named in errors); see ``load``."""
        items: list[Item] = []
        seen: set[str] = set()
        for index, row in enumerate(rows):
            if limit is not None and index >= limit:
                break
            try:
                item = self.row_to_item(row, index)
            except (KeyError, TypeError, ValueError) as err:  # pydantic's ValidationError is a ValueError
                problem = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
                problem = " ".join(problem.split())[:300]
                raise TaskDataError(f"{self.name}: bad row {index} in {source}: {problem}") from err
            if item.id in seen:
                raise TaskDataError(f"{self.name}: duplicate item id {item.id!r} (row {index}) in {source}")
            seen.add(item.id)
            items.append(item)
        if not items:
            raise TaskDataError(f"{self.name}: {source} holds no items")
        return items

    def _rows(self, data_dir: str | Path | None) -> tuple[Iterable[Mapping[str, Any]], str]:
        if self.path is not None:
            return read_jsonl(self.path), str(self.path)
        if data_dir is None and os.environ.get(DATA_DIR_ENV):
            data_dir = os.environ[DATA_DIR_ENV]
        if data_dir is not None:
            path = Path(data_dir).expanduser() / self.name / TEST_FILE
            if not path.is_file():
                expected = f"<data-dir>/{self.name}/{TEST_FILE}"
                raise TaskDataError(f"{self.name}: no data file {path} (expected {expected})")
            return read_jsonl(path), str(path)
        return self.hub_rows(), f"hub:{self.hf_dataset}"

    def hub_rows(self) -> list[Mapping[str, Any]]:
        """Every row of the hub dataset, as the hub serves it (TaskDataError if it cannot be loaded)."""
        hint = f"pass --data-dir DIR with DIR/{self.name}/{TEST_FILE}"
        if not self.hf_dataset:
            raise TaskDataError(f"{self.name} has no Hugging Face dataset; {hint}")
        what = self.hf_dataset + (f" ({self.hf_config})" if self.hf_config else "")
        try:
            import datasets  # lazy: importing datasets costs seconds

            dataset = datasets.load_dataset(self.hf_dataset, self.hf_config, split=self.hf_split)
            return list(dataset)
        except Exception as err:  # network, auth, missing config...: all end the same way for the user
            reason = " ".join(f"{type(err).__name__}: {err}".split())[:200]
            message = f"could not load {what} from the Hugging Face hub ({reason}); {hint}"
            raise TaskDataError(message) from err


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a .jsonl file, skipping blank lines; bad lines raise TaskDataError.

    Lines are decoded one by one, so a file that is not UTF-8 is reported with its line and byte
    offset (where to look with ``xxd``), not as a bare codec error without a file name.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as err:
        raise TaskDataError(f"cannot read {path}: {err.strerror or err}") from err
    with handle:
        offset = 0
        for lineno, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                where = f"{path}:{lineno}: byte offset {offset + err.start}"
                raise TaskDataError(f"{where}: not UTF-8 text (byte 0x{raw[err.start]:02x})") from err
            offset += len(raw)
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise TaskDataError(f"{path}:{lineno}: invalid JSON ({err.msg})") from err
            except RecursionError as err:  # "[[[[..." nested past the parser's depth
                raise TaskDataError(f"{path}:{lineno}: JSON nested too deeply") from err
            if not isinstance(row, dict):
                raise TaskDataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            yield row


def first(row: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` present (non-None) in ``row``: local and hub spellings differ."""
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    nulls = [key for key in keys if key in row]
    if nulls:  # the field is there but empty: say so, not "missing"
        raise ValueError(f"{' and '.join(repr(k) for k in nulls)} {'is' if len(nulls) == 1 else 'are'} null")
    raise KeyError(f"none of the fields {', '.join(keys)} present (row has: {', '.join(row)})")


def integer_answer(value: Any) -> str:
    """Like ``answer_text`` but drops zero padding from plain integers (AIME stores "025")."""
    text = answer_text(value)
    return str(int(text)) if text.isascii() and text.isdigit() else text


def answer_text(value: Any) -> str:
    """A reference as text: floats that are whole numbers lose their ``.0`` (AMC23 stores 27.0)."""
    if isinstance(value, bool):
        raise ValueError(f"boolean is not an answer: {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if not text:
        raise ValueError("empty reference answer")
    return text
