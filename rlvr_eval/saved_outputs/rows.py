"""The one shape every reader turns another tool's output record into: an ``OutputRow``.

A row says where it came from, how it may be matched to a benchmark item (a row position in the
benchmark file, an item id, the question text, a rendered prompt), the completions it holds and,
when the producing tool graded them, that tool's verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FormatName = Literal["rlvr", "qwen", "lm-eval", "lighteval", "jsonl"]
FORMATS: tuple[FormatName, ...] = ("rlvr", "qwen", "lm-eval", "lighteval", "jsonl")
"""``rlvr``: an rlvr run directory (rescored in place); the others are read and written to a new one."""


class OutputsError(ValueError):
    """Saved outputs that cannot be read or matched; the message says which file and what to do."""


@dataclass
class OutputRow:
    """One record of another tool's output file, before it is matched to a benchmark item."""

    source: str  # "file:record N", for error messages and the disagreements file
    completions: list[str]
    task: str | None = None  # an rlvr task name, when the row or its file says which benchmark
    position: int | None = None  # 0-based row of the benchmark's test.jsonl (the Qwen harness's idx)
    item_id: str | None = None  # rlvr's Item.id (math500 unique_id, aime id...)
    question: str | None = None  # the bare question text
    prompt: str | None = None  # the rendered prompt (the question somewhere inside it)
    sample_indices: list[int] | None = None  # explicit sample numbers (rlvr-style records)
    finish_reasons: list[str | None] | None = None
    grader: str | None = None  # e.g. "Qwen2.5-Math harness score"; None when the tool graded nothing
    their_correct: list[bool | None] = field(default_factory=list)  # per completion; None = not per sample
    their_extracted: list[str | None] = field(default_factory=list)
    their_reference: str | None = None

    def __post_init__(self) -> None:
        k = len(self.completions)
        if not self.their_correct:
            self.their_correct = [None] * k
        if not self.their_extracted:
            self.their_extracted = [None] * k
        for name in ("their_correct", "their_extracted"):
            if len(getattr(self, name)) != k:
                raise OutputsError(f"{self.source}: {len(getattr(self, name))} {name} for {k} completions")
        if self.sample_indices is not None and len(self.sample_indices) != k:
            count = len(self.sample_indices)
            raise OutputsError(f"{self.source}: {count} sample indices for {k} completions")

    @property
    def label(self) -> str:
        """How the row names its item, for error messages."""
        parts = []
        if self.item_id is not None:
            parts.append(f"id {self.item_id!r}")
        if self.position is not None:
            parts.append(f"row {self.position}")
        text = self.question or self.prompt
        if text:
            preview = " ".join(text.split())[:50]
            parts.append(f"question {preview!r}")
        return ", ".join(parts) or "no id or question"


def text_list(value: Any, what: str, source: str) -> list[str]:
    """A completion field as a list of strings (one string counts as a list of one)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise OutputsError(f"{source}: {what} must be a string or a list of strings, got {type(value).__name__}")


def verdict_value(value: Any) -> bool | None:
    """A tool's per-sample verdict: a bool, or a 0/1 number (a fraction is not a verdict: None)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    return None


def optional_text(value: Any) -> str | None:
    """Another tool's extracted answer or reference as text (they store numbers, None, lists...)."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def mapping_at(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``record[key]`` when it is a mapping, else an empty one (tools leave optional parts as None)."""
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def first_present(record: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    """The first of ``keys`` whose value is present and not None, with its value."""
    for key in keys:
        if record.get(key) is not None:
            return key, record[key]
    return None
