"""Which files under a path hold saved outputs, in which format, and for which benchmark.

Per file: ``.parquet`` is a lighteval details file; a ``.jsonl`` file is classified by its first
record (Qwen harness: ``idx`` + ``code``; lm-eval: ``doc_id`` + ``resps``; plain: a completion field).
The benchmark comes from the row (plain files may carry ``task``), else from the file's path in the
tool's own layout (Qwen ``<benchmark>/...``, ``samples_<task>_<date>.jsonl``,
``details_<task>_<date>.parquet``), mapped to rlvr's task names by ``task_from_name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rlvr_eval.saved_outputs import lighteval_details, lm_eval_samples, plain_jsonl, qwen_harness
from rlvr_eval.saved_outputs.rows import FormatName, OutputRow, OutputsError
from rlvr_eval.scoring.records import SAMPLES_FILE
from rlvr_eval.scoring.results import RESULTS_FILE
from rlvr_eval.tasks import TASKS
from rlvr_eval.tasks.base import TaskDataError, read_jsonl

T = TypeVar("T")

READERS: dict[FormatName, Callable[[Path], Iterator[OutputRow]]] = {
    "qwen": qwen_harness.read,
    "lm-eval": lm_eval_samples.read,
    "lighteval": lighteval_details.read,
    "jsonl": plain_jsonl.read,
}
_TASK_HINTS: dict[FormatName, Callable[[Path], str | None]] = {
    "qwen": qwen_harness.task_hint,
    "lm-eval": lm_eval_samples.task_hint,
    "lighteval": lighteval_details.task_hint,
}

# Other tools' names for rlvr's benchmarks (after lower-casing and '-', ':', ' ' -> '_').
TASK_ALIASES = {
    "math_500": "math500", "minerva_math500": "math500", "hendrycks_math500": "math500",
    "aime_2024": "aime24", "aime2024": "aime24", "aime_2025": "aime25", "aime2025": "aime25",
    "aime24_avg": "aime24", "aime24_gpassk": "aime24", "aime24_pass_avg_32": "aime24",  # lighteval, lm-eval
    "aime25_avg": "aime25", "aime25_gpassk": "aime25", "aime25_pass_avg_32": "aime25",
    "amc_2023": "amc23", "amc2023": "amc23",
    "olympiad_bench": "olympiadbench", "olympiad_bench_oe_to_maths_en_comp": "olympiadbench",
    "gsm8k_cot": "gsm8k", "gsm8k_cot_zeroshot": "gsm8k", "gsm8k_cot_llama": "gsm8k",
    "arc_e": "arc_easy", "arc_c": "arc_challenge",
}
_LIGHTEVAL_SUITES = {"lighteval", "leaderboard", "custom", "community", "extended", "original", "helm"}
_REPEAT_SUFFIX = re.compile(r"x\d+$")  # the One-Shot-RLVR fork's aime24x8: each item 8 times


def task_from_name(name: str | None, fmt: FormatName | None = None) -> str | None:
    """rlvr's task name for another tool's benchmark name, or None when it is not one of rlvr's.

    ``math_500|0`` / ``lighteval|math_500|0`` (lighteval), ``rlvr:math500|0`` (rlvr's lighteval tasks),
    ``aime24x8`` (One-Shot-RLVR), ``arc:easy``. lm-eval's ``minerva_math*`` tasks are the Hendrycks MATH
    test set with Minerva's prompt, not the Minerva OCW benchmark rlvr calls ``minerva_math``.
    """
    if not name:
        return None
    parts = [p for p in name.split("|") if p and not p.isdigit() and p.lower() not in _LIGHTEVAL_SUITES]
    if not parts:
        return None
    text = parts[0].strip().lower().removeprefix("rlvr:")
    text = re.sub(r"[-:\s]+", "_", text)
    if fmt == "lm-eval" and text.startswith("minerva_math") and text != "minerva_math500":
        return None
    for candidate in (text, _REPEAT_SUFFIX.sub("", text)):
        if candidate in TASKS:
            return candidate
        if candidate in TASK_ALIASES:
            return TASK_ALIASES[candidate]
    return None


@dataclass
class SourceFile:
    """One output file to read."""

    path: Path
    format: FormatName
    task_hint: str | None  # the benchmark name the tool's layout gives it, as that tool spells it

    @property
    def task(self) -> str | None:
        return task_from_name(self.task_hint, self.format)


@dataclass
class Discovery:
    """What a path holds: an rlvr run directory, or other tools' files (and what was passed over)."""

    run_dir: Path | None = None
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path (why)"


def is_run_dir(path: Path) -> bool:
    """An rlvr run directory: its samples.jsonl beside a results.json or run_config.json."""
    from rlvr_eval.runner import RUN_CONFIG_FILE

    return path.is_dir() and (path / SAMPLES_FILE).is_file() and (
        (path / RESULTS_FILE).is_file() or (path / RUN_CONFIG_FILE).is_file()
    )


def discover(path: Path, fmt: FormatName | None = None) -> Discovery:
    """Classify ``path`` (a file or a directory, searched recursively); ``fmt`` forces a format."""
    if not path.exists():
        raise OutputsError(f"no such file or directory: {path}")
    if fmt in (None, "rlvr") and is_run_dir(path):
        return Discovery(run_dir=path)
    if fmt == "rlvr":
        raise OutputsError(f"{path} is not an rlvr run directory (no {SAMPLES_FILE} with a {RESULTS_FILE})")
    if path.is_file():
        detected = fmt or detect_format(path)  # raises OutputsError naming the file if unreadable
        if detected is None:
            raise OutputsError(
                f"cannot tell the format of {path}; pass --format (qwen, lm-eval, lighteval or jsonl)"
            )
        return Discovery(files=[_source(path, detected)])
    found = Discovery()
    for file in sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".parquet") and p.is_file()):
        if any(part.startswith(".") for part in file.relative_to(path).parts):
            continue
        try:
            detected = detect_format(file)
        except (OutputsError, TaskDataError) as err:
            found.skipped.append(f"{file} (unreadable: {' '.join(str(err).split())[:80]})")
            continue
        if detected is None or (fmt is not None and detected != fmt):
            found.skipped.append(f"{file} ({detected or 'no known format'})")
            continue
        found.files.append(_source(file, detected))
    if not found.files:
        what = f"{fmt} files" if fmt else f"{SAMPLES_FILE} (an rlvr run) and no other tool's output files"
        raise OutputsError(f"no {what} in {path} (looked for .jsonl and .parquet files)")
    return found


def detect_format(path: Path) -> FormatName | None:
    """The format of one file from its suffix or first record; None if it is none of the known ones."""
    if path.suffix == ".parquet":
        return "lighteval"
    first = next(iter(read_rows(path, read_jsonl)), None)
    if first is None:
        return None
    if qwen_harness.looks_like(first):
        return "qwen"
    if lm_eval_samples.looks_like(first):
        return "lm-eval"
    if plain_jsonl.looks_like(first):
        return "jsonl"
    return None


def read_rows(path: Path, reader: Callable[[Path], Iterator[T]]) -> Iterator[T]:
    """``reader(path)``, with a file that is not UTF-8 or nests too deep for the JSON parser named in a
    one-line error instead of a bare decoding error or a traceback."""
    try:
        yield from reader(path)
    except TaskDataError as err:  # read_jsonl's one-line errors (not UTF-8, nesting) name file and line
        raise OutputsError(str(err)) from err
    except UnicodeDecodeError as err:
        raise OutputsError(f"{path} is not UTF-8 text ({err.reason}): not a saved-outputs file") from err
    except RecursionError as err:
        raise OutputsError(f"{path}: a record is nested too deeply to read") from err


def _source(path: Path, fmt: FormatName) -> SourceFile:
    hint = _TASK_HINTS.get(fmt)
    return SourceFile(path=path, format=fmt, task_hint=hint(path) if hint else None)
