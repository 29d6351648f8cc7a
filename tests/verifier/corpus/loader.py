"""Read and validate the labelled corpus: one YAML list of cases per file, each case a small mapping.

Validation is strict (unknown keys, missing fields, duplicate ids, options that do not fit the kind
are errors naming the file and id), so a typo in the data fails loudly instead of silently testing
something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).resolve().parent
CASE_KINDS = ("completion", "answer")
# Options a case may set; answer_format and prompt only make sense for a full completion.
_OPTIONS = {"answer_format", "unit", "multiple_answers", "answer_type", "prompt", "rounded_reference"}
_COMPLETION_ONLY = {"answer_format", "prompt"}
_REQUIRED = ("id", "class", "kind", "text", "reference", "expected", "note")
_KEYS = {*_REQUIRED, "options"}
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


class CorpusError(ValueError):
    """A malformed corpus file or case."""


@dataclass(frozen=True)
class Case:
    """One labelled case: `text` graded against `reference` should give `expected`."""

    id: str
    cls: str  # the class of the issue this case covers ("closing-math-span", "labels", ...)
    kind: str  # "completion": verify(text, strict=False); "answer": is_equivalent(text, reference)
    text: str
    reference: str
    expected: bool
    note: str
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # file the case was read from

    def equivalence_options(self) -> dict[str, Any]:
        """The options that go to the content layer (`EquivalenceOptions` fields)."""
        return {k: v for k, v in self.options.items() if k not in _COMPLETION_ONLY}


def _case(raw: Any, source: str) -> Case:
    if not isinstance(raw, dict):
        raise CorpusError(f"{source}: every case must be a mapping, got {type(raw).__name__}")
    where = f"{source}: case {raw.get('id', '?')!r}"
    missing = [k for k in _REQUIRED if k not in raw]
    unknown = sorted(set(raw) - _KEYS)
    if missing or unknown:
        raise CorpusError(f"{where}: missing {missing}, unknown {unknown}")
    if not isinstance(raw["id"], str) or not _ID.fullmatch(raw["id"]):
        raise CorpusError(f"{where}: id must be lower-case letters, digits and '-'")
    if raw["kind"] not in CASE_KINDS:
        raise CorpusError(f"{where}: kind must be one of {CASE_KINDS}")
    if not isinstance(raw["expected"], bool):
        raise CorpusError(f"{where}: expected must be true or false")
    for key in ("class", "text", "reference", "note"):
        if not isinstance(raw[key], str):
            raise CorpusError(f"{where}: {key} must be a string (quote it in YAML)")
    options = raw.get("options") or {}
    if not isinstance(options, dict) or set(options) - _OPTIONS:
        raise CorpusError(f"{where}: options may only hold {sorted(_OPTIONS)}")
    if raw["kind"] == "answer" and set(options) & _COMPLETION_ONLY:
        raise CorpusError(f"{where}: {sorted(_COMPLETION_ONLY)} only apply to completion cases")
    return Case(
        id=raw["id"],
        cls=raw["class"],
        kind=raw["kind"],
        text=raw["text"],
        reference=raw["reference"],
        expected=raw["expected"],
        note=raw["note"],
        options=dict(options),
        source=source,
    )


def load_corpus(directory: str | Path = CORPUS_DIR) -> list[Case]:
    """Every case of every ``*.yaml`` file in `directory`, in file then document order."""
    directory = Path(directory)
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CorpusError(f"no *.yaml corpus files in {directory}")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise CorpusError(f"{path.name}: the file must be a YAML list of cases")
        for raw in data:
            case = _case(raw, path.name)
            if case.id in seen:
                raise CorpusError(f"{path.name}: duplicate id {case.id!r} (also in {seen[case.id]})")
            seen[case.id] = path.name
            cases.append(case)
    return cases
