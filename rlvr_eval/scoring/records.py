"""One typed record per generated completion, and the append-only samples.jsonl that holds them.

The record carries everything needed to re-grade it later (answer format and equivalence options
included), so ``rescore`` never has to reload the benchmark data. The file is append-only and each
line is flushed and fsync'd, so a crash loses at most the line being written; ``repair_torn_tail``
fixes such a last line before a run resumes (and a file cut by hand), so it is neither left
unparseable forever nor written a second time.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rlvr_eval.verifier.schema import (
    AnswerFormat,
    ContentStatus,
    EquivalenceOptions,
    FormatStatus,
    Verdict,
)

SAMPLES_FILE = "samples.jsonl"

ScoreMode = Literal["strict", "lenient"]
"""Which correctness a score uses: ``strict`` needs the requested format, ``lenient`` only the content."""


class OtherGrade(BaseModel):
    """Another tool's verdict on a completion it produced (Qwen harness ``score``, lm-eval's metric...).

    Kept beside rlvr's own verdict so every rescore can report where the two graders disagree.
    """

    model_config = ConfigDict(frozen=True)

    grader: str = Field(description='Which grader, e.g. "Qwen2.5-Math harness score".')
    correct: bool | None = Field(description="Its verdict; None when it graded the item, not this sample.")
    extracted: str | None = Field(None, description="The answer that grader extracted, if it saved one.")
    reference: str | None = Field(None, description="The reference that grader compared against.")
    source: str | None = Field(None, description="Where the completion was read from (file:record).")


class SampleRecord(BaseModel):
    """The evidence for one (task, item, sample): prompt, completion and the verifier's verdict."""

    model_config = ConfigDict(extra="ignore")

    task: str
    item_id: str
    sample_index: int = Field(ge=0)
    question: str | None = Field(None, description="The benchmark question (before the template).")
    prompt: str
    completion: str
    finish_reason: str | None = None
    num_tokens: int | None = None
    reference: str | list[str]
    answer_format: AnswerFormat = "boxed"
    options: EquivalenceOptions = Field(default_factory=EquivalenceOptions)
    extracted: str | None = None
    verdict: Verdict
    metadata: dict[str, Any] = Field(default_factory=dict)
    other_grade: OtherGrade | None = Field(None, description="Another tool's verdict (rescored outputs).")

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.task, self.item_id, self.sample_index)

    @property
    def truncated(self) -> bool:
        """The generation hit its length limit."""
        return self.finish_reason == "length" or self.verdict.format is FormatStatus.TRUNCATED

    def is_correct(self, mode: ScoreMode = "strict") -> bool:
        if mode == "strict":
            return self.verdict.correct
        return self.verdict.content is ContentStatus.EQUAL


def items_digest(records: Iterable[SampleRecord]) -> str:
    """A short hash of the items (id and reference) the records grade, independent of record order.

    Two runs with equal digests for a task graded the same items against the same references, which
    is what makes their scores comparable (a different --limit, data file or data fix changes it).
    """
    items = sorted({(r.item_id, json.dumps(r.reference)) for r in records})
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:12]


def append_records(path: Path, records: Iterable[SampleRecord]) -> int:
    """Append records as JSON lines, then flush and fsync so they survive a crash. Returns the count."""
    lines = [r.model_dump_json() + "\n" for r in records]
    if not lines:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        _terminate_torn_line(fh, path)
        fh.write("".join(lines))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


def _terminate_torn_line(fh: Any, path: Path) -> None:
    """If a crash left a last line without its newline, end it so new records start on a fresh line."""
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb") as rb:
        rb.seek(size - 1)
        if rb.read(1) != b"\n":
            fh.write("\n")


def repair_torn_tail(path: Path) -> str | None:
    """Make the file end with a complete line; returns what was done (for stderr), None if nothing.

    The text after the last newline is either a whole record that lost its newline (kept: the newline
    is added, so resuming does not write it again) or a line cut mid-write or by hand (removed: the
    file is truncated to its last complete record, and the sample is generated again).
    """
    if not path.is_file():
        return None
    with path.open("r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        start = _last_line_start(fh, size)
        if start == size:
            return None
        fh.seek(start)
        tail = fh.read()
        try:
            SampleRecord.model_validate_json(tail)
        except (ValidationError, ValueError):
            fh.truncate(start)
            action = f"removed its torn last line ({size - start} bytes, an interrupted write)"
        else:
            fh.write(b"\n")
            action = "added the newline its last record had lost"
        fh.flush()
        os.fsync(fh.fileno())
    return f"{path}: {action}"


def _last_line_start(fh: Any, size: int, block: int = 1 << 16) -> int:
    """Offset just after the file's last newline (0 if it has none), read backwards in blocks."""
    end = size
    while end > 0:
        begin = max(0, end - block)
        fh.seek(begin)
        at = fh.read(end - begin).rfind(b"\n")
        if at >= 0:
            return begin + at + 1
        end = begin
    return 0


def iter_records(path: Path) -> Iterator[SampleRecord]:
    """Yield the records of a samples file, skipping torn or corrupt lines (a crash mid-write)."""
    if not path.exists():
        return
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.endswith("\n"):
                continue  # torn last line: the write never completed
            text = line.strip()
            if not text:
                continue
            try:
                yield SampleRecord.model_validate_json(text)
            except ValidationError:  # also raised for malformed JSON
                continue


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects.

    Loading 100k records otherwise triggers a full collection again and again as the heap grows
    (measured: 12 s instead of 5 s); records hold no reference cycles, so nothing is lost.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_records(path: Path) -> dict[tuple[str, str, int], SampleRecord]:
    """Load a samples file keyed by (task, item_id, sample_index); a later line wins over an earlier one."""
    with gc_paused():
        return {r.key: r for r in iter_records(path)}


def write_records(path: Path, records: Iterable[SampleRecord]) -> None:
    """Rewrite a samples file atomically (write a sibling, fsync, rename), e.g. after rescoring."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r.model_dump_json() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
