"""Are two runs' numbers comparable? The settings that change a score, checked before ``compare``.

A delta between two runs means something only when both graded the same items, drew the same number
of samples with the same sampling settings and prompt, and graded them with the same verifier in the
same score mode. ``setting_differences`` lists every such difference (``compare`` refuses to print
deltas over them unless ``--force``) and, separately, what it could not check because a results.json
predates the field that records it (a warning, not a refusal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rlvr_eval.scoring.report_md import label, task_columns
from rlvr_eval.scoring.results import RunResults

# Per-benchmark settings that change what a number measures (seed does not: it is sampling noise).
_TASK_SETTINGS = ("n", "temperature", "top_p", "max_tokens", "template", "answer_format")


class SettingDifference(NamedTuple):
    """One setting that differs between a baseline run and another run."""

    setting: str
    baseline: str
    other: str
    task: str | None = None  # None: the whole run (score mode, verifier)

    def describe(self) -> str:
        where = f" for {label(self.task)}" if self.task else ""
        return f"{self.setting} ({self.baseline} vs {self.other}){where}"


class IncomparableRunsError(ValueError):
    """``compare`` was asked for deltas between runs whose settings differ (without ``--force``)."""


def _verifier(run: RunResults) -> str:
    return f"rlvr {run.versions.get('rlvr', '?')} verifier {run.verifier_fingerprint}"


def _run_level(a: RunResults, b: RunResults) -> tuple[list[SettingDifference], list[str]]:
    diffs, warnings = [], []
    if a.score_mode != b.score_mode:
        diffs.append(SettingDifference("score_mode", a.score_mode, b.score_mode))
    if a.verifier_fingerprint and b.verifier_fingerprint:
        if a.verifier_fingerprint != b.verifier_fingerprint:
            diffs.append(SettingDifference("verifier", _verifier(a), _verifier(b)))
    else:
        old = a.run_name if not a.verifier_fingerprint else b.run_name
        va, vb = a.versions.get("rlvr"), b.versions.get("rlvr")
        if va and vb and va != vb:
            diffs.append(SettingDifference("verifier", f"rlvr {va}", f"rlvr {vb}"))
        else:
            warnings.append(
                f"{old}: results.json does not record its verifier fingerprint (written by an older "
                "rlvr); rescore it to record one"
            )
    return diffs, warnings


def _task_level(a: RunResults, b: RunResults, task: str) -> tuple[list[SettingDifference], set[str]]:
    """The task's differences, and which records were missing (``items_digest``, ``settings``)."""
    diffs, missing = [], set()
    ma, mb = a.tasks[task], b.tasks[task]
    if ma.items_digest and mb.items_digest:
        if ma.items_digest != mb.items_digest:
            before, after = f"{ma.n_items} items {ma.items_digest}", f"{mb.n_items} items {mb.items_digest}"
            diffs.append(SettingDifference("items", before, after, task))
    else:
        missing.add("items_digest")
        if ma.n_items != mb.n_items:
            diffs.append(SettingDifference("items", f"{ma.n_items} items", f"{mb.n_items} items", task))
    sa, sb = a.task_settings.get(task), b.task_settings.get(task)
    if sa is None or sb is None:
        missing.add("settings")
        if ma.n_samples != mb.n_samples:
            diffs.append(SettingDifference("n", str(ma.n_samples), str(mb.n_samples), task))
        return diffs, missing
    for field in _TASK_SETTINGS:
        va, vb = getattr(sa, field), getattr(sb, field)
        if va != vb:
            diffs.append(SettingDifference(field, str(va), str(vb), task))
    return diffs, missing


_MISSING_WARNINGS = {
    "items_digest": "no item digest for {tasks} (results.json written by an older rlvr): only item counts "
    "were checked; rescore the run to record one",
    "settings": "no generation settings recorded for {tasks}: only the sample count was checked",
}


def setting_differences(a: RunResults, b: RunResults) -> tuple[list[SettingDifference], list[str]]:
    """Differences between baseline ``a`` and ``b`` that make their numbers incomparable, and warnings
    about checks an older results.json cannot support. Only benchmarks both runs have are checked."""
    diffs, warnings = _run_level(a, b)
    lacking: dict[str, list[str]] = {}
    for task in task_columns([a, b]):
        if task in a.tasks and task in b.tasks:
            task_diffs, missing = _task_level(a, b, task)
            diffs += task_diffs
            for what in missing:
                lacking.setdefault(what, []).append(label(task))
    for what, tasks in lacking.items():
        note = _MISSING_WARNINGS[what].format(tasks=", ".join(tasks))
        warnings.append(f"{a.run_name} vs {b.run_name}: {note}")
    return diffs, warnings


def check_comparable(
    runs: Sequence[RunResults], *, force: bool = False
) -> tuple[dict[str, list[SettingDifference]], list[str]]:
    """Each later run's differences from the first, keyed by run name, plus warnings.

    Without ``force`` the first difference raises ``IncomparableRunsError`` with a one-line message.
    """
    baseline = runs[0]
    found: dict[str, list[SettingDifference]] = {}
    warnings: list[str] = []
    for other in runs[1:]:
        diffs, notes = setting_differences(baseline, other)
        warnings += [n for n in notes if n not in warnings]
        if not diffs:
            continue
        if not force:
            more = f" and {len(diffs) - 1} more" if len(diffs) > 1 else ""
            raise IncomparableRunsError(
                f"runs {baseline.run_name} and {other.run_name} differ in {diffs[0].describe()}{more}; "
                "--force to compare anyway"
            )
        found[other.run_name] = diffs
    return found, warnings
