"""``rlvr-eval sweep``: score every checkpoint of a training run, then pick the paper's checkpoint.

    rlvr-eval sweep runs/pi1                     # every checkpoint-*, plus the initial model as step 0
    rlvr-eval sweep runs/pi1 --every 100 --tasks math500 aime24 --backend vllm
    rlvr-eval sweep runs/a/checkpoint-40 runs/b/checkpoint-40 --output-dir runs/ab

1. ``discover_points`` lists the models: the ``checkpoint-<step>/`` directories of an ``rlvr-train`` run
   (any directory with a model's ``config.json``; the trainer writes them atomically, so a half-saved
   one is never seen), thinned by ``--every``, plus the run's initial model from its ``config.yaml``
   as the step-0 baseline; or the model directories given.
2. ``run_sweep`` scores each with ``runner.score`` into its own run directory ``OUT/<name>/``, so every
   checkpoint resumes like any score run: a finished one (results.json with the same settings) is
   skipped without loading a model, a half-finished one generates only its missing samples. Each
   checkpoint gets its own backend, closed before the next loads (vLLM: one engine at a time).
3. After every checkpoint, sweep.json / sweep.md / sweep.html are rewritten (``scoring.sweep_report``),
   so a long sweep can be read while it runs.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rlvr_eval.config import EvalConfig, load_yaml_mapping
from rlvr_eval.generation import Backend
from rlvr_eval.runner import score
from rlvr_eval.scoring.report_md import distinct, pct, unique_names
from rlvr_eval.scoring.results import RESULTS_FILE, RunResults, load_results
from rlvr_eval.scoring.sweep_report import SweepPoint, SweepResults, build_sweep, write_sweep

CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
TRAIN_CONFIG_FILE = "config.yaml"  # written by rlvr-train into its run directory
MODEL_CONFIG_FILE = "config.json"  # every Hugging Face model directory has one
SWEEP_DIR = "sweep"
BASELINE_NAME = "base"

# EvalConfig fields that change how a run is executed, not what it measures: a finished checkpoint
# scored with other values of these is still finished.
_EXECUTION_FIELDS = frozenset({
    "output_dir", "run_name", "chunk_size", "tensor_parallel_size", "data_parallel_size", "base_url",
    "max_concurrency", "batch_size", "gpu_memory_utilization", "max_model_len", "enforce_eager",
    "verify_workers",
})


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """The run's complete checkpoint directories, by step."""
    found = []
    for path in run_dir.iterdir():
        match = CHECKPOINT_NAME.match(path.name)
        if match and (path / MODEL_CONFIG_FILE).is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def is_run_dir(path: Path) -> bool:
    """An ``rlvr-train`` run directory: it has checkpoint-* directories or the trainer's config.yaml."""
    if not path.is_dir() or (path / MODEL_CONFIG_FILE).is_file():
        return False
    return (path / TRAIN_CONFIG_FILE).is_file() or any(CHECKPOINT_NAME.match(p.name) for p in path.iterdir())


def initial_model(run_dir: Path) -> str:
    """The model a run started from, as its config.yaml records it (a path made usable from here)."""
    config = run_dir / TRAIN_CONFIG_FILE
    hint = "pass --baseline MODEL or --no-baseline"
    if not config.is_file():
        raise ValueError(f"{run_dir} has no {TRAIN_CONFIG_FILE} recording its initial model; {hint}")
    model = load_yaml_mapping(config).get("model")
    if not isinstance(model, str) or not model:
        raise ValueError(f"{config} records no initial model; {hint}")
    for candidate in (Path(model).expanduser(), run_dir / model):
        if candidate.exists():
            return str(candidate.resolve())
    if model.startswith(("/", ".", "~")):  # a local path that is not here (the run was made elsewhere)
        raise ValueError(f"the initial model {model} recorded in {config} does not exist here; {hint}")
    return model  # a hub id


def _thin(points: list[SweepPoint], every: int | None) -> list[SweepPoint]:
    """Keep steps that are multiples of ``every``, and always the newest checkpoint and unnumbered models."""
    if not every:
        return points
    last = max((p.step for p in points if p.step is not None), default=None)
    return [p for p in points if p.step is None or p.step % every == 0 or p.step == last]


def discover_points(
    paths: Sequence[Path], *, every: int | None = None, baseline: str | None = None, no_baseline: bool = False
) -> list[SweepPoint]:
    """The models to score, in row order: the baseline first, then checkpoints by step.

    ``paths`` is one ``rlvr-train`` run directory, or model directories (rows named after them; a
    ``checkpoint-<step>`` name gives the row its step, and rows are sorted by step when all have one).
    """
    if every is not None and every < 1:
        raise ValueError("--every must be at least 1")
    if not paths:
        raise ValueError("sweep needs a run directory or model directories")
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such directory: {path}")
    # Absolute model paths: a rerun from another directory (or with the path spelled differently)
    # must find its checkpoints' runs finished, not refuse them as runs of another model.
    paths = [p.resolve() for p in paths]
    runs = [p for p in paths if is_run_dir(p)]
    if runs and len(paths) > 1:
        raise ValueError(f"{runs[0]} is a training run directory: sweep takes one run directory, or a list "
                         "of model directories")
    start: str | None = baseline
    if runs:
        found = checkpoints(runs[0])
        if not found:
            raise ValueError(f"no checkpoint-<step> directories with a saved model in {runs[0]}")
        points = [SweepPoint(name=p.name, step=step, model=str(p)) for step, p in found]
        if baseline is None and not no_baseline and found[0][0] != 0:
            start = initial_model(runs[0])
    else:
        not_models = [str(p) for p in paths if not (p / MODEL_CONFIG_FILE).is_file()]
        if not_models:
            raise ValueError(f"{not_models[0]} is neither an rlvr-train run directory (no checkpoint-* "
                             "inside) nor a model directory (no config.json)")
        steps = [m.group(1) if (m := CHECKPOINT_NAME.match(p.name)) else None for p in paths]
        points = [
            SweepPoint(name=name, step=int(step) if step is not None else None, model=str(p))
            for p, name, step in zip(paths, unique_names(paths), steps, strict=True)
        ]
        if all(p.step is not None for p in points):
            points.sort(key=lambda p: p.step or 0)
    points = _thin(points, every)
    if start is not None and not no_baseline:
        points.insert(0, SweepPoint(name=BASELINE_NAME, step=0, model=start, baseline=True))
    names = distinct([p.name for p in points])
    return [p.model_copy(update={"name": n}) for p, n in zip(points, names, strict=True)]


def default_output_dir(paths: Sequence[Path]) -> Path:
    """``RUN_DIR/sweep`` for a run directory, ``runs/sweep`` for a list of models."""
    return paths[0] / SWEEP_DIR if len(paths) == 1 and is_run_dir(paths[0]) else Path("runs") / SWEEP_DIR


def finished_results(run_dir: Path, config: EvalConfig) -> RunResults | None:
    """The point's results if a previous sweep scored it with the same settings, else None."""
    if not (run_dir / RESULTS_FILE).is_file():
        return None
    try:
        results = load_results(run_dir)
    except (OSError, ValueError):  # unreadable: score it again (the samples still resume)
        return None
    wanted = {k: v for k, v in config.model_dump(mode="json").items() if k not in _EXECUTION_FIELDS}
    recorded = {k: v for k, v in results.settings.items() if k not in _EXECUTION_FIELDS}
    return results if recorded == wanted else None


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_sweep(
    points: Sequence[SweepPoint],
    settings: EvalConfig,
    out: Path,
    *,
    title: str,
    backend_factory: Callable[[EvalConfig], Backend] | None = None,
    show_progress: bool | None = None,
    log: Callable[[str], None] = _log,
) -> SweepResults:
    """Score every point with ``settings`` (its model, name and output directory replaced), writing the
    sweep reports into ``out`` after each. ``backend_factory`` builds a point's backend (tests); by
    default the runner builds it from the settings, and only if a sample is missing."""
    scored: list[tuple[SweepPoint, str, RunResults]] = []
    sweep = build_sweep(title, [])
    log(f"sweep: {len(points)} models into {out} (tasks: {', '.join(settings.tasks)})")
    for i, point in enumerate(points, 1):
        run_dir = out / point.name
        config = settings.model_copy(update={"model": point.model, "run_name": point.name,
                                             "output_dir": str(run_dir)})
        where = f"[{i}/{len(points)}] {point.name}"
        results = finished_results(run_dir, config)
        if results is not None:
            log(f"{where}: already scored (avg {pct(results.average)}), skipped")
        else:
            step = f"step {point.step}, " if point.step is not None else ""
            log(f"{where} ({step}{point.model}): scoring")
            started = time.perf_counter()
            backend = backend_factory(config) if backend_factory is not None else None
            try:
                results = score(config, backend=backend, show_progress=show_progress)
            finally:
                if backend is not None:
                    backend.close()  # the runner closes only backends it built itself
            log(f"{where}: avg {pct(results.average)} in {time.perf_counter() - started:.1f} s")
        scored.append((point, point.name, results))
        sweep = build_sweep(title, scored)
        write_sweep(sweep, out)
    return sweep
