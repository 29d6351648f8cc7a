"""The versioned ``results.json`` schema: everything needed to reproduce and compare a run.

Bump ``SCHEMA_VERSION`` whenever a field changes meaning; ``load_results`` refuses files written by a
newer schema instead of misreading them.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import importlib.metadata
import platform
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from rlvr_eval.scoring.records import ScoreMode

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"


class GroupScore(BaseModel):
    """Accuracy of a slice of a benchmark (e.g. MATH500 level 5)."""

    n_items: int
    accuracy: float
    strict_accuracy: float
    lenient_accuracy: float


class TaskSettings(BaseModel):
    """The generation and grading settings one benchmark actually ran with."""

    n: int
    temperature: float
    top_p: float
    max_tokens: int
    template: str
    answer_format: str
    seed: int


class TaskMetrics(BaseModel):
    """All metrics of one benchmark. Fractions are in [0, 1]; reports print percentages."""

    task: str
    n_items: int
    n_samples: int = Field(description="Samples per item (k).")
    score_mode: ScoreMode = Field(description="Correctness behind score / pass@k / maj@k / CI.")
    score: float = Field(description="Headline: avg@k, the mean accuracy over all samples.")
    ci_low: float
    ci_high: float
    pass_at_k: dict[int, float] = Field(default_factory=dict)
    maj_at_k: float | None = None
    strict_accuracy: float
    lenient_accuracy: float
    format_rate: float
    content_accuracy_formatted: float | None = Field(
        description="Strict accuracy among completions whose requested format is ok (None if none are)."
    )
    truncation_rate: float
    repetition_rate: float
    answer_present_rate: float | None = Field(
        None, description="Share of samples that state the reference anywhere (any box, math span, answer "
        "phrase), whatever their final answer; >= lenient but for the last-number fallback. None: not "
        "checked (--no-answer-present, or results written before rlvr measured it)."
    )
    mean_tokens: float | None = None
    items_digest: str | None = Field(
        None, description="Hash of the graded items (ids and references): equal digests, same items. "
        "None in results written before rlvr recorded it."
    )
    breakdown: dict[str, dict[str, GroupScore]] = Field(
        default_factory=dict, description="e.g. {'subject': {...}, 'level': {...}} for MATH500."
    )


class RunResults(BaseModel):
    """Contents of results.json for one evaluated model."""

    model_config = ConfigDict(protected_namespaces=())

    schema_version: int = SCHEMA_VERSION
    run_name: str
    model: str
    backend: str
    score_mode: ScoreMode = "lenient"
    created_at: str = Field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat())
    settings: dict[str, Any] = Field(default_factory=dict, description="The full EvalConfig used.")
    task_settings: dict[str, TaskSettings] = Field(default_factory=dict)
    seeds: dict[str, int] = Field(default_factory=dict, description="Generation and bootstrap seeds.")
    versions: dict[str, str] = Field(default_factory=dict, description="Python and package versions.")
    verifier_fingerprint: str | None = Field(
        None, description="Hash of the verifier's code and the libraries it grades with (see "
        "verifier_fingerprint); None in results written before rlvr recorded it."
    )
    tasks: dict[str, TaskMetrics] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def average(self) -> float | None:
        """Unweighted mean of the per-benchmark scores (the paper's "Avg" column)."""
        if not self.tasks:
            return None
        return sum(m.score for m in self.tasks.values()) / len(self.tasks)


_VERSIONED_PACKAGES = ("rlvr", "pydantic", "sympy", "latex2sympy2_extended", "torch", "transformers", "vllm")


def package_versions(packages: tuple[str, ...] = _VERSIONED_PACKAGES) -> dict[str, str]:
    """Versions of the packages that can change a score, for the record (absent ones are skipped)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


_VERIFIER_LIBRARIES = ("sympy", "latex2sympy2_extended")


@functools.lru_cache(maxsize=1)
def verifier_fingerprint() -> str:
    """A short hash of what decides a verdict: the verifier's source files and its parsing libraries.

    The package version alone misses edits between releases (an editable install keeps its version
    while the code changes), so ``compare`` checks this instead: equal fingerprints grade alike.
    """
    from rlvr_eval import verifier

    digest = hashlib.sha256()
    for source in sorted(Path(verifier.__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    for name, version in sorted(package_versions(_VERIFIER_LIBRARIES).items()):
        digest.update(f"{name}={version}\0".encode())
    return digest.hexdigest()[:12]


def save_results(results: RunResults, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(results.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_results(path: Path) -> RunResults:
    """Read a results.json (a file or a run directory); a newer schema is refused, not misread."""
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {RESULTS_FILE} at {path}")
    results = RunResults.model_validate_json(path.read_text(encoding="utf-8"))
    if results.schema_version > SCHEMA_VERSION:
        raise ValueError(
            f"{path} has results schema version {results.schema_version}; this rlvr reads up to "
            f"{SCHEMA_VERSION}: upgrade rlvr"
        )
    return results
