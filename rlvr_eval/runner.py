"""The evaluation runner: generate, verify, save, score; resumable at the granularity of a sample.

``score(config)`` runs, for each benchmark:

1. load the items and render their prompts;
2. skip every (task, item, sample) already in ``samples.jsonl`` (a crash or Ctrl-C loses at most
   the chunk in flight: lines are flushed and fsync'd, a torn last line is repaired on resume);
3. generate the missing samples chunk by chunk, verify each chunk with ``verify_batch`` and append
   its records;
4. compute the metrics and write ``results.json``, ``report.md`` and ``report.html``.

``rescore(run_dir)`` re-verifies a run's saved completions (e.g. after a verifier fix) and rewrites
the samples, results and reports without generating anything.

Both hold the run directory's lock (``scoring.run_lock``) while they read and write it. The backend
is built from the config by ``run_backend`` (lazily: a finished run never loads a model).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rlvr_eval.config import EvalConfig, check_seconds
from rlvr_eval.generation import Backend, BackendError, Completion, SamplingParams
from rlvr_eval.run_backend import LazyBackend, backend_name, make_backend  # noqa: F401  (make_backend: API)
from rlvr_eval.scoring.metrics import summarize_task
from rlvr_eval.scoring.records import (
    SAMPLES_FILE,
    SampleRecord,
    ScoreMode,
    append_records,
    gc_paused,
    load_records,
)
from rlvr_eval.scoring.records import write_records as rewrite_records
from rlvr_eval.scoring.results import (
    RESULTS_FILE,
    RunResults,
    TaskSettings,
    load_results,
    package_versions,
    save_results,
    verifier_fingerprint,
)
from rlvr_eval.scoring.run_lock import locked_run_dir
from rlvr_eval.tasks import Item, Task, get_task
from rlvr_eval.templates import CHAT, render_prompt, run_answer_format
from rlvr_eval.verifier.schema import AnswerFormat, LenientFallback, Verdict, VerifyRequest

if TYPE_CHECKING:
    from rlvr_eval.scoring.agreement import AgreementReport

RUN_CONFIG_FILE = "run_config.json"
REPORT_MD_FILE = "report.md"
REPORT_HTML_FILE = "report.html"

# Settings that change what a sample *is*: a run directory must not mix samples drawn under different
# values. (n, limit and tasks may grow between resumes: more samples are simply added.)
_GENERATION_FIELDS = ("model", "template", "temperature", "top_p", "max_tokens", "seed")


VerifyFn = Callable[[Sequence[VerifyRequest]], list[Verdict]]
"""Grades a batch of requests, verdicts in input order (tests inject stand-ins)."""


def batch_verifier(
    *, timeout: float = 3.0, workers: int | None = None, lenient_fallback: LenientFallback = "none",
    progress: bool = False,
) -> VerifyFn:
    """The default ``VerifyFn``: one ``verify_requests`` call over the whole batch, with the run's
    verifier settings (timeout, lenient fallback) on every request (``progress``: a bar). Each
    request keeps its own ``check_answer_present`` (the runner sets it from the run's settings)."""

    def run(requests: Sequence[VerifyRequest]) -> list[Verdict]:
        from rlvr_eval.verifier.batch import verify_requests

        if not requests:
            return []
        settled = [replace(r, timeout=timeout, lenient_fallback=lenient_fallback) for r in requests]
        return verify_requests(settled, workers=workers, progress=progress)

    return run


# ---------------------------------------------------------------- planning


@dataclass
class TaskPlan:
    """One benchmark as this run will evaluate it."""

    task: Task
    items: list[Item]
    settings: TaskSettings


def plan_tasks(config: EvalConfig) -> list[TaskPlan]:
    """Resolve every benchmark and load its items up front, so bad names or data fail before generation."""
    plans = []
    for name in config.tasks:
        task = get_task(name)
        items = task.load(config.data_dir, config.limit)
        settings = TaskSettings(
            n=config.n if config.n is not None else task.default_n,
            temperature=config.temperature if config.temperature is not None else task.default_temperature,
            top_p=config.top_p,
            max_tokens=config.max_tokens if config.max_tokens is not None else task.max_tokens,
            template=config.template,
            answer_format=run_answer_format(task.answer_format, config.template),
            seed=config.seed,
        )
        plans.append(TaskPlan(task=task, items=items, settings=settings))
    return plans


def check_run_dir(out: Path, config: EvalConfig) -> None:
    """Refuse to resume into a directory whose samples were drawn with different settings."""
    previous, current = _read_run_config(out), config.model_dump()
    for field in _GENERATION_FIELDS:
        if field in previous and previous[field] != current[field]:
            raise ValueError(
                f"{out} holds a run with {field}={previous[field]!r}, not {current[field]!r}; "
                "use another --output-dir"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- generation


def _generate(
    backend: Backend, task: str, items: list[Item], prompts: list[str], params: SamplingParams, progress: Any
) -> list[list[Completion]]:
    """Generate; the predictions backend falls back to (task, item id) when prompts were not saved."""
    try:
        return backend.generate(prompts, params, progress=progress)
    except BackendError:
        lookup = getattr(backend, "lookup", None)
        if lookup is None:
            raise
        out = [lookup(task, item.id, params) for item in items]
        progress(len(items))
        return out


def _missing(
    plan: TaskPlan, prompts: dict[str, str] | None, existing: dict[tuple[str, str, int], SampleRecord]
) -> list[tuple[Item, list[int]]]:
    """Per item, the sample indices still to generate (absent, or saved for a different prompt)."""
    todo = []
    for item in plan.items:
        missing = []
        for index in range(plan.settings.n):
            record = existing.get((plan.task.name, item.id, index))
            if record is None or (prompts is not None and record.prompt != prompts[item.id]):
                missing.append(index)
        if missing:
            todo.append((item, missing))
    return todo


def _chunks(todo: list[tuple[Item, list[int]]], size: int) -> list[list[tuple[Item, list[int]]]]:
    """Chunks of items needing the same sample indices (one generate call each), in item order."""
    by_missing: dict[tuple[int, ...], list[tuple[Item, list[int]]]] = {}
    for entry in todo:
        by_missing.setdefault(tuple(entry[1]), []).append(entry)
    return [group[i : i + size] for group in by_missing.values() for i in range(0, len(group), size)]


def _run_task(
    plan: TaskPlan,
    config: EvalConfig,
    existing: dict[tuple[str, str, int], SampleRecord],
    backend: LazyBackend,
    verify: VerifyFn,
    samples_path: Path,
    show_progress: bool | None,
) -> None:
    """Generate, verify and append every missing sample of one benchmark."""
    from tqdm import tqdm

    name, settings = plan.task.name, plan.settings
    prompts: dict[str, str] | None = None
    if settings.template != CHAT:  # the chat template needs the backend's tokenizer: render lazily
        prompts = {item.id: render_prompt(item.question, settings.template) for item in plan.items}
    todo = _missing(plan, prompts, existing)
    done_items = len(plan.items) - len(todo)
    # show_progress None: a bar only on a terminal (tqdm's disable=None); True/False force it.
    disable = None if show_progress is None else not show_progress
    bar = tqdm(
        total=len(plan.items), initial=done_items, desc=name, unit="item", disable=disable,
        file=sys.stderr, dynamic_ncols=True,
    )
    started, generated = time.perf_counter(), 0
    try:
        for chunk in _chunks(todo, config.chunk_size):
            items = [item for item, _ in chunk]
            indices = chunk[0][1]
            if prompts is None:
                tokenizer = getattr(backend.get(), "tokenizer", None)
                prompts = {it.id: render_prompt(it.question, CHAT, tokenizer) for it in plan.items}
            chunk_prompts = [prompts[item.id] for item in items]
            # sample_indices: a resumed item draws exactly the samples a full run would have drawn.
            params = SamplingParams(
                n=len(indices), temperature=settings.temperature, top_p=settings.top_p,
                max_tokens=settings.max_tokens, seed=settings.seed, sample_indices=list(indices),
            )
            progress = _BarProgress(bar, len(items))
            outputs = _generate(backend.get(), name, items, chunk_prompts, params, progress)
            if len(outputs) != len(items) or any(len(o) != len(indices) for o in outputs):
                raise BackendError(f"backend returned the wrong number of completions for {name}")
            progress.finish()
            records = _verify_chunk(
                plan, items, chunk_prompts, indices, outputs, verify, config.answer_present
            )
            append_records(samples_path, records)
            existing.update((r.key, r) for r in records)
            generated += len(records)
            bar.set_postfix_str(f"{generated / max(time.perf_counter() - started, 1e-9):.1f} compl/s")
    finally:
        bar.close()


class _BarProgress:
    """The backend's progress callback for one chunk: advances the bar, never past the chunk."""

    def __init__(self, bar: Any, size: int) -> None:
        self.bar, self.size, self.reported = bar, size, 0

    def __call__(self, count: int) -> None:
        step = max(0, min(count, self.size - self.reported))
        self.reported += step
        self.bar.update(step)

    def finish(self) -> None:
        self(self.size - self.reported)


def _verify_chunk(
    plan: TaskPlan,
    items: list[Item],
    prompts: list[str],
    indices: list[int],
    outputs: list[list[Completion]],
    verify: VerifyFn,
    answer_present: bool,
) -> list[SampleRecord]:
    # The format plan_tasks resolved (and results.json records); TaskSettings types it as a plain str.
    answer_format = cast(AnswerFormat, plan.settings.answer_format)
    flat = [
        (item, prompt, index, c)
        for item, prompt, outs in zip(items, prompts, outputs, strict=True)
        for index, c in zip(indices, outs, strict=True)
    ]
    verdicts = verify([
        VerifyRequest(
            completion=c.text, reference=item.reference, answer_format=answer_format, options=item.options,
            finish_reason=c.finish_reason, prompt=item.question, check_answer_present=answer_present,
        )
        for item, _, _, c in flat
    ])
    return [
        SampleRecord(
            task=plan.task.name, item_id=item.id, sample_index=index, question=item.question, prompt=prompt,
            completion=c.text, finish_reason=c.finish_reason, num_tokens=c.num_tokens,
            reference=item.reference, answer_format=answer_format, options=item.options,
            extracted=verdict.extracted, verdict=verdict, metadata=item.metadata,
        )
        for (item, prompt, index, c), verdict in zip(flat, verdicts, strict=True)
    ]


# ---------------------------------------------------------------- results


def build_results(
    *,
    run_name: str,
    model: str,
    backend: str,
    score_mode: ScoreMode,
    seed: int,
    records_by_task: dict[str, list[SampleRecord]],
    task_settings: dict[str, TaskSettings] | None = None,
    settings: dict[str, Any] | None = None,
) -> RunResults:
    """Compute every benchmark's metrics into a ``RunResults``."""
    return RunResults(
        run_name=run_name,
        model=model,
        backend=backend,
        score_mode=score_mode,
        settings=settings or {},
        task_settings=task_settings or {},
        seeds={"generation": seed, "bootstrap": seed},
        versions=package_versions(),
        verifier_fingerprint=verifier_fingerprint(),
        tasks={
            task: summarize_task(task, records, mode=score_mode, seed=seed)
            for task, records in records_by_task.items()
            if records
        },
    )


def write_outputs(
    out: Path,
    results: RunResults,
    records_by_task: dict[str, list[SampleRecord]],
    *,
    extra_markdown: str = "",
    extra_html: str = "",
) -> AgreementReport | None:
    """Write results.json, report.md and report.html into the run directory.

    Records carrying another tool's verdicts (rescored outputs) add agreement.json, disagreements.jsonl
    and an agreement section to both reports; that agreement is returned (None without such records).
    """
    from rlvr_eval.scoring.agreement import agreement_report
    from rlvr_eval.scoring.report_html import render_html
    from rlvr_eval.scoring.report_md import render_run_markdown

    agreement = agreement_report(records_by_task, results.score_mode)
    if agreement is not None:
        agreement.write(out)
        extra_markdown, extra_html = extra_markdown + agreement.markdown(), extra_html + agreement.html()
    save_results(results, out / RESULTS_FILE)
    (out / REPORT_MD_FILE).write_text(render_run_markdown(results) + extra_markdown, encoding="utf-8")
    html = render_html(results, records_by_task, extra_sections=extra_html)
    (out / REPORT_HTML_FILE).write_text(html, encoding="utf-8")
    return agreement


def score(
    config: EvalConfig,
    *,
    backend: Backend | None = None,
    verifier: VerifyFn | None = None,
    show_progress: bool | None = None,
) -> RunResults:
    """Evaluate ``config.model`` on ``config.tasks``, resuming from the run directory if it has samples."""
    if backend is None and backend_name(config) == "predictions":
        from rlvr_eval.saved_outputs.regrade import needs_matching, score_saved_outputs

        if needs_matching(Path(config.model).expanduser()):  # another tool's files: match rows to items
            return score_saved_outputs(config, verifier=verifier, show_progress=show_progress)
    out = Path(config.output_dir).expanduser()
    plans = plan_tasks(config)
    out.mkdir(parents=True, exist_ok=True)
    with locked_run_dir(out):
        return _score_locked(out, plans, config, backend, verifier, show_progress)


def _score_locked(
    out: Path, plans: list[TaskPlan], config: EvalConfig, backend: Backend | None,
    verifier: VerifyFn | None, show_progress: bool | None,
) -> RunResults:
    check_run_dir(out, config)
    verify = verifier or batch_verifier(
        timeout=config.verify_timeout, workers=config.verify_workers, lenient_fallback=config.lenient_fallback
    )
    samples_path = out / SAMPLES_FILE
    existing = load_records(samples_path)
    lazy = LazyBackend(config, backend)
    try:
        for plan in plans:
            _run_task(plan, config, existing, lazy, verify, samples_path, show_progress)
    finally:
        lazy.close()
    records_by_task = {
        plan.task.name: [
            existing[(plan.task.name, item.id, i)] for item in plan.items for i in range(plan.settings.n)
        ]
        for plan in plans
    }
    results = build_results(
        run_name=config.name,
        model=config.model,
        backend=backend.name if backend is not None else backend_name(config),
        score_mode=config.score_mode,
        seed=config.seed,
        records_by_task=records_by_task,
        task_settings={plan.task.name: plan.settings for plan in plans},
        settings=config.model_dump(),
    )
    write_outputs(out, results, records_by_task)
    return results


def rescore(
    run_dir: str | Path,
    *,
    verifier: VerifyFn | None = None,
    timeout: float | None = None,
    workers: int | None = None,
    score_mode: ScoreMode | None = None,
    lenient_fallback: LenientFallback | None = None,
    answer_present: bool | None = None,
) -> RunResults:
    """Re-verify every saved completion of a run and rewrite samples.jsonl, results.json and reports.

    ``lenient_fallback`` None keeps the run's own setting; a value is recorded in the results' settings.
    ``answer_present`` None checks it unless the run was scored without it; samples saved before
    rlvr checked it get it now.
    """
    out = Path(run_dir).expanduser()
    if timeout is not None:
        check_seconds(timeout)
    with contextlib.ExitStack() as stack:
        if (out / SAMPLES_FILE).is_file():  # a run directory: ours to lock and repair
            stack.enter_context(locked_run_dir(out))
        stack.enter_context(gc_paused())  # 100k records and verdicts: see gc_paused
        return _rescore(out, verifier, timeout, workers, score_mode, lenient_fallback, answer_present)


def _rescore(out: Path, verifier: VerifyFn | None, timeout: float | None, workers: int | None,
             score_mode: ScoreMode | None, lenient_fallback: LenientFallback | None,
             answer_present: bool | None) -> RunResults:
    samples_path = out / SAMPLES_FILE
    if not samples_path.is_file():
        raise FileNotFoundError(f"no {SAMPLES_FILE} in {out}: not a run directory")
    records = list(load_records(samples_path).values())
    if not records:
        raise ValueError(f"{samples_path} holds no readable samples")
    previous = load_results(out) if (out / RESULTS_FILE).exists() else None
    settings: dict[str, Any] = dict(previous.settings) if previous else _read_run_config(out)
    if timeout is None:
        timeout = float(settings.get("verify_timeout", 3.0))
    if workers is None:
        workers = settings.get("verify_workers")
    if lenient_fallback is not None:
        settings["lenient_fallback"] = lenient_fallback  # it changes lenient scores: the results say so
    fallback = settings.get("lenient_fallback", "none")
    if answer_present is not None:
        settings["answer_present"] = answer_present
    present = bool(settings.get("answer_present", True))
    verify = verifier or batch_verifier(timeout=timeout, workers=workers, lenient_fallback=fallback)
    verdicts = verify([
        VerifyRequest(
            completion=r.completion, reference=r.reference, answer_format=r.answer_format, options=r.options,
            finish_reason=r.finish_reason, prompt=r.question, check_answer_present=present,
        )
        for r in records
    ])
    changed = 0
    for r, v in zip(records, verdicts, strict=True):
        if v != r.verdict:
            changed += 1
            # In place through __dict__ (the model's own storage): copies or validated assignment of
            # 100k records cost seconds, and a verdict from the verifier needs no re-validation.
            r.__dict__.update(verdict=v, extracted=v.extracted)
    if changed:
        rewrite_records(samples_path, records)

    task_settings = dict(previous.task_settings) if previous else {}
    order = list(previous.tasks) if previous else []
    records_by_task: dict[str, list[SampleRecord]] = {t: [] for t in order}
    for r in records:
        n = task_settings[r.task].n if r.task in task_settings else None
        if n is None or r.sample_index < n:
            records_by_task.setdefault(r.task, []).append(r)
    model = previous.model if previous else str(settings.get("model", out.name))
    results = build_results(
        run_name=previous.run_name if previous else (settings.get("run_name") or Path(model).name),
        model=model,
        backend=previous.backend if previous else str(settings.get("backend") or "unknown"),
        score_mode=score_mode or (previous.score_mode if previous else settings.get("score_mode", "lenient")),
        seed=int(settings.get("seed", 0)),
        records_by_task=records_by_task,
        task_settings=task_settings,
        settings=settings,
    )
    write_outputs(out, results, records_by_task)
    return results


def _read_run_config(out: Path) -> dict[str, Any]:
    """The settings a run directory was started with ({} if none, or unreadable)."""
    try:
        data = json.loads((out / RUN_CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
