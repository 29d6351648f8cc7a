"""Re-grade another tool's saved outputs with rlvr: read, match to items, verify, write a run directory.

``rescore_outputs(path)``:

1. find the output files under ``path`` and their format and benchmark (``discover``);
2. read every row (``READERS``) and match it to a benchmark item (``ItemMatcher``): a row that matches
   no item is an error naming the first few, never dropped; an item with no completion is an error
   unless ``allow_missing``;
3. verify every completion in one batch (with a progress bar);
4. write a new run directory: samples.jsonl (each record keeps the tool's own verdict), results.json,
   report.md / report.html (with the agreement section), agreement.json, disagreements.jsonl and
   source.json (what was read). ``rlvr-eval rescore`` of that directory later re-grades it in place.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlvr_eval.saved_outputs.discover import (
    READERS,
    SourceFile,
    detect_format,
    discover,
    read_rows,
    task_from_name,
)
from rlvr_eval.saved_outputs.matching import ItemMatcher
from rlvr_eval.saved_outputs.rows import FormatName, OutputRow, OutputsError
from rlvr_eval.scoring.records import SAMPLES_FILE, OtherGrade, SampleRecord, ScoreMode, write_records
from rlvr_eval.scoring.results import RunResults
from rlvr_eval.tasks import Item, Task, get_task
from rlvr_eval.tasks.base import read_jsonl
from rlvr_eval.verifier.schema import LenientFallback, VerifyRequest

if TYPE_CHECKING:
    from rlvr_eval.config import EvalConfig
    from rlvr_eval.runner import VerifyFn
    from rlvr_eval.scoring.agreement import AgreementReport
    from rlvr_eval.verifier.schema import Verdict

SOURCE_FILE = "source.json"
SHOWN = 3  # unmatched rows / missing items named in an error


@dataclass
class Regraded:
    """What ``rescore_outputs`` produced."""

    results: RunResults
    output_dir: Path
    agreement: AgreementReport | None  # None when the outputs carried no verdicts of their own
    notes: list[str] = field(default_factory=list)  # skipped files, missing items...


@dataclass
class _Sample:
    row: OutputRow
    index: int  # position of the completion within the row


def rescore_outputs(
    path: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    fmt: FormatName | None = None,
    output_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    allow_missing: bool = False,
    score_mode: ScoreMode = "lenient",
    timeout: float = 3.0,
    workers: int | None = None,
    run_name: str | None = None,
    verifier: VerifyFn | None = None,
    show_progress: bool | None = None,
    lenient_fallback: LenientFallback = "none",
    answer_present: bool = True,
) -> Regraded:
    """Grade the outputs under ``path`` (a file or a directory of another tool's outputs)."""
    from rlvr_eval.runner import batch_verifier, build_results, write_outputs

    source = Path(path).expanduser()
    found = discover(source, fmt)
    if found.run_dir is not None:
        raise OutputsError(f"{source} is an rlvr run directory: rescore it in place (rescore {source})")
    default_out = Path("runs") / f"rescore-{source.stem or 'outputs'}"
    out = Path(output_dir).expanduser() if output_dir else default_out
    _check_output_dir(out, source)
    notes = [f"skipped {s}" for s in found.skipped]
    wanted = {get_task(spec).name: spec for spec in tasks} if tasks else None
    rows_by_task, files_by_task = _rows_by_task(found.files, wanted, source.is_file(), notes)

    plans = [
        _plan(get_task(wanted[name] if wanted else name), rows, files_by_task[name], data_dir,
              allow_missing, notes)
        for name, rows in rows_by_task.items()
    ]
    progress = sys.stderr.isatty() if show_progress is None else show_progress
    verify = verifier or batch_verifier(
        timeout=timeout, workers=workers, lenient_fallback=lenient_fallback, progress=progress
    )
    records_by_task = _grade(plans, verify, answer_present)

    out.mkdir(parents=True, exist_ok=True)
    write_records(out / SAMPLES_FILE, [r for records in records_by_task.values() for r in records])
    formats = sorted({f.format for files in files_by_task.values() for f in files})
    settings = {
        "source": str(source), "formats": formats, "score_mode": score_mode, "verify_timeout": timeout,
        "verify_workers": workers, "lenient_fallback": lenient_fallback, "answer_present": answer_present,
        "data_dir": str(data_dir) if data_dir else None,
        "files": {name: [str(f.path) for f in files] for name, files in files_by_task.items()},
    }
    results = build_results(
        run_name=run_name or source.stem or str(source), model=str(source),
        backend="saved:" + "+".join(formats), score_mode=score_mode, seed=0,
        records_by_task=records_by_task, settings=settings,
    )
    provenance = json.dumps({**settings, "notes": notes}, indent=2)
    (out / SOURCE_FILE).write_text(provenance + "\n", encoding="utf-8")
    agreement = write_outputs(
        out, results, records_by_task, extra_markdown=_notes_markdown(source, settings, notes)
    )
    return Regraded(results=results, output_dir=out, agreement=agreement, notes=notes)


@dataclass
class _Plan:
    """One benchmark's items that have completions, and each item's samples by sample index."""

    task: Task
    items: list[Item]
    samples: dict[str, dict[int, _Sample]]


def _plan(
    task: Task, rows: list[OutputRow], files: list[SourceFile], data_dir: str | Path | None,
    allow_missing: bool, notes: list[str],
) -> _Plan:
    """Match one benchmark's rows to its items; refuse missing items unless ``allow_missing``."""
    items = task.load(data_dir)
    samples = _assign(task.name, items, rows, files)
    missing = [item.id for item in items if item.id not in samples]
    if missing and not allow_missing:
        shown = ", ".join(missing[:SHOWN]) + (", ..." if len(missing) > SHOWN else "")
        raise OutputsError(
            f"{len(missing)} of {len(items)} {task.name} items have no completion in {_names(files)} "
            f"(first: {shown}); pass --allow-missing to score the {len(items) - len(missing)} that have one"
        )
    if missing:
        notes.append(f"{task.name}: {len(missing)} of {len(items)} items had no completion, not scored")
    counts = {len(s) for s in samples.values()}
    if len(counts) > 1:
        notes.append(f"{task.name}: samples per item vary from {min(counts)} to {max(counts)}")
    return _Plan(task, [item for item in items if item.id in samples], samples)


def _grade(plans: list[_Plan], verify: VerifyFn, answer_present: bool) -> dict[str, list[SampleRecord]]:
    """Verify every completion in one batch; records per benchmark in item and sample order."""
    flat = [
        (plan.task, item, index, sample)
        for plan in plans
        for item in plan.items
        for index, sample in sorted(plan.samples[item.id].items())
    ]
    verdicts = verify([
        VerifyRequest(
            completion=s.row.completions[s.index], reference=item.reference, answer_format=task.answer_format,
            options=item.options, finish_reason=_finish_reason(s), prompt=item.question,
            check_answer_present=answer_present,
        )
        for task, item, _, s in flat
    ])
    records_by_task: dict[str, list[SampleRecord]] = {plan.task.name: [] for plan in plans}
    for (task, item, index, sample), verdict in zip(flat, verdicts, strict=True):
        records_by_task[task.name].append(_record(task, item, index, sample, verdict))
    return records_by_task


def _rows_by_task(
    files: list[SourceFile], wanted: dict[str, str] | None, single_file: bool, notes: list[str]
) -> tuple[dict[str, list[OutputRow]], dict[str, list[SourceFile]]]:
    """Every row, grouped by the rlvr task it belongs to (row's own task, its file's, or the one --tasks)."""
    only = next(iter(wanted)) if wanted and len(wanted) == 1 else None
    rows_by_task: dict[str, list[OutputRow]] = defaultdict(list)
    files_by_task: dict[str, list[SourceFile]] = defaultdict(list)
    for file in files:
        file_task = file.task
        if wanted and file_task not in wanted and file_task is not None:
            if not (single_file and only):
                notes.append(f"skipped {file.path} ({file_task}, not in --tasks)")
                continue
            file_task = only  # one file, one --tasks: the user says which benchmark it is
        skipped = 0
        for row in read_rows(file.path, READERS[file.format]):
            task = _row_task(row, wanted) or file_task or only
            if task is None:
                named = f" (its tool calls it {file.task_hint!r})" if file.task_hint else ""
                raise OutputsError(f"cannot tell which benchmark {file.path} holds{named}; pass --tasks NAME")
            if wanted and task not in wanted:
                skipped += 1
                continue
            rows_by_task[task].append(row)
            if file not in files_by_task[task]:
                files_by_task[task].append(file)
        if skipped:
            notes.append(f"skipped {skipped} rows of {file.path} for benchmarks not in --tasks")
    for task, task_files in files_by_task.items():
        if len(task_files) > 1:
            raise OutputsError(
                f"{len(task_files)} files hold {task} outputs ({_names(task_files)}); rescore one of them"
            )
    absent = [name for name in (wanted or {}) if name not in rows_by_task]
    if absent:
        raise OutputsError(f"no outputs for {', '.join(absent)} in {_names(files)}")
    return dict(rows_by_task), dict(files_by_task)


def _row_task(row: OutputRow, wanted: dict[str, str] | None) -> str | None:
    if row.task is None:
        return None
    if wanted and row.task in wanted:  # e.g. a jsonl:PATH task, named after its file
        return row.task
    return task_from_name(row.task)


def _assign(
    task: str, items: list[Item], rows: list[OutputRow], files: list[SourceFile]
) -> dict[str, dict[int, _Sample]]:
    """Match rows to items and number each item's completions (explicit sample indices are kept)."""
    matcher = ItemMatcher(items)
    samples: dict[str, dict[int, _Sample]] = defaultdict(dict)
    unmatched: list[OutputRow] = []
    named: dict[tuple[str, str], str] = {}  # (kind, value) -> source: one row per id and file
    for row in rows:
        item = matcher.match(row)
        if item is None:
            unmatched.append(row)
            continue
        for kind, value in (("id", row.item_id), ("row", row.position)):
            if value is not None and row.sample_indices is None:
                previous = named.setdefault((kind, str(value)), row.source)
                if previous != row.source:
                    raise OutputsError(f"{row.source}: {kind} {value!r} appears again (first at {previous})")
        slots = samples[item.id]
        for j, completion in enumerate(row.completions):
            index = row.sample_indices[j] if row.sample_indices is not None else _next_free(slots)
            held = slots.get(index)
            if held is not None and held.row.completions[held.index] != completion:
                raise OutputsError(f"{row.source}: a second, different completion for {task} item "
                                   f"{item.id!r} sample {index} (first at {held.row.source})")
            slots.setdefault(index, _Sample(row, j))
    if unmatched:
        shown = "; ".join(f"{r.source} ({r.label})" for r in unmatched[:SHOWN])
        raise OutputsError(
            f"{len(unmatched)} of {len(rows)} rows in {_names(files)} match no {task} item by id or question "
            f"(first: {shown}); check --tasks and the benchmark data (--data-dir)"
        )
    return samples


def _next_free(slots: dict[int, _Sample]) -> int:
    return max(slots, default=-1) + 1


def _finish_reason(sample: _Sample) -> str | None:
    reasons = sample.row.finish_reasons
    return reasons[sample.index] if reasons else None


def _record(task: Task, item: Item, index: int, sample: _Sample, verdict: Verdict) -> SampleRecord:
    row, j = sample.row, sample.index
    other = None
    if row.grader is not None:
        other = OtherGrade(
            grader=row.grader, correct=row.their_correct[j], extracted=row.their_extracted[j],
            reference=row.their_reference, source=row.source,
        )
    return SampleRecord(
        task=task.name, item_id=item.id, sample_index=index, question=item.question, prompt=row.prompt or "",
        completion=row.completions[j], finish_reason=_finish_reason(sample), reference=item.reference,
        answer_format=task.answer_format, options=item.options, extracted=verdict.extracted, verdict=verdict,
        metadata=item.metadata, other_grade=other,
    )


def _check_output_dir(out: Path, source: Path) -> None:
    """Write only into a new directory, or one an earlier rescore of the same outputs wrote."""
    if not out.exists() or not any(out.iterdir()):
        return
    try:
        previous = json.loads((out / SOURCE_FILE).read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        previous = None
    if previous != str(source):
        raise OutputsError(f"{out} already holds other results; pass a new --output-dir")


def _names(files: Sequence[SourceFile]) -> str:
    return ", ".join(str(f.path) for f in files)


def _notes_markdown(source: Path, settings: dict[str, Any], notes: list[str]) -> str:
    lines = ["", "## Rescored outputs", "", f"Read from `{source}` ({', '.join(settings['formats'])}):", ""]
    lines += [f"- {task}: `{files[0]}`" for task, files in settings["files"].items()]
    lines += [f"- note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- score --backend predictions


def needs_matching(path: Path) -> bool:
    """Saved outputs the predictions backend cannot serve by prompt or by (task, item id)."""
    if path.is_dir():
        return True
    if not path.is_file():
        return False
    try:
        fmt = detect_format(path)
        first = next(iter(read_jsonl(path)), {}) if fmt == "jsonl" else {}
    except (OutputsError, ValueError, RuntimeError):  # unreadable: let the backend say what is wrong
        return False
    if fmt != "jsonl":
        return fmt is not None
    return "prompt" not in first and not ("task" in first and "item_id" in first)


def score_saved_outputs(
    config: EvalConfig, *, verifier: VerifyFn | None = None, show_progress: bool | None = None
) -> RunResults:
    """``score --backend predictions`` of another tool's outputs: ``rescore_outputs`` with the config."""
    if config.limit is not None:
        raise OutputsError("--limit does not apply to saved outputs: every saved row is scored")
    explicit = "tasks" in config.model_fields_set  # the default six benchmarks only filter
    found = discover(Path(config.model).expanduser())
    tasks = config.tasks if explicit else _default_tasks(found.files, config.tasks)
    return rescore_outputs(
        config.model, tasks=tasks, output_dir=config.output_dir, data_dir=config.data_dir,
        score_mode=config.score_mode, timeout=config.verify_timeout, workers=config.verify_workers,
        run_name=config.run_name, verifier=verifier, show_progress=show_progress,
        lenient_fallback=config.lenient_fallback, answer_present=config.answer_present,
    ).results


def _default_tasks(files: list[SourceFile], defaults: list[str]) -> list[str] | None:
    """The default benchmarks a directory holds (None: let each file say which it holds)."""
    held = [f.task for f in files]
    if any(t is None for t in held):
        return None
    return [t for t in defaults if t in held] or None
