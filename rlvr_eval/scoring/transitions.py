"""Per-item transitions between two runs (base -> trained): where a change of score came from.

Each sample of the baseline run is paired with the same (benchmark, item, sample index) of the other
run, and "right" means strict: the answer is in the requested format and equal to the reference. A pair
is then one of:

- ``format_fixed``: wrong -> right, and the baseline's content was already right (lenient-right,
  strict-wrong): only the format was missing. This is what format correction alone buys;
- ``content_fixed``: wrong -> right, and the baseline's content was wrong too; split by whether the
  baseline had nevertheless *stated* the reference somewhere (``Verdict.answer_present``: in its
  working, a corrected box, prose) into ``content_fixed_stated`` (the model had found the answer and
  now delivers it) and ``content_fixed_new`` (newly found); ``content_fixed_unchecked`` where the
  baseline's samples predate the check (rescore the baseline to split them);
- ``broken``: right -> wrong;
- ``kept_right`` / ``kept_wrong``: unchanged.

``format_fixed + content_fixed_stated`` (``already_present``) is the gain that came from delivering
answers the baseline already had; ``content_fixed_new`` the gain from answers it never stated.

``(format_fixed + content_fixed - broken) / pairs`` is the strict delta over the paired samples. With
several samples per item (avg@8), sample i of one run is paired with sample i of the other: the split
into gained and lost depends on that pairing, their net does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from rlvr_eval.scoring.records import SAMPLES_FILE, SampleRecord, load_records
from rlvr_eval.scoring.report_md import task_columns
from rlvr_eval.scoring.results import RunResults

RecordKey = tuple[str, str, int]


class Transitions(BaseModel):
    """Counts of paired samples of one benchmark by how their strict verdict moved."""

    task: str
    format_fixed: int = 0
    content_fixed: int = 0
    content_fixed_stated: int = 0  # of content_fixed: the baseline stated the reference somewhere
    content_fixed_unchecked: int = 0  # of content_fixed: the baseline's samples were not checked for it
    broken: int = 0
    kept_right: int = 0
    kept_wrong: int = 0
    unpaired: int = 0  # samples present in only one of the two runs (not counted above)

    @property
    def pairs(self) -> int:
        return self.format_fixed + self.content_fixed + self.broken + self.kept_right + self.kept_wrong

    @property
    def content_fixed_new(self) -> int:
        """Wrong -> right where the baseline never stated the reference (newly found)."""
        return self.content_fixed - self.content_fixed_stated - self.content_fixed_unchecked

    @property
    def already_present(self) -> int:
        """Wrong -> right where the baseline already had the answer (as its content, or stated on the way)."""
        return self.format_fixed + self.content_fixed_stated

    @property
    def net(self) -> int:
        """Samples gained minus samples lost: ``pairs`` times the strict delta."""
        return self.format_fixed + self.content_fixed - self.broken


def _category(before: SampleRecord, after: SampleRecord) -> str:
    was_right, now_right = before.is_correct("strict"), after.is_correct("strict")
    if was_right:
        return "kept_right" if now_right else "broken"
    if not now_right:
        return "kept_wrong"
    return "format_fixed" if before.is_correct("lenient") else "content_fixed"


def count_transitions(
    baseline: Mapping[RecordKey, SampleRecord], other: Mapping[RecordKey, SampleRecord], tasks: list[str]
) -> dict[str, Transitions]:
    """Transition counts per benchmark in ``tasks`` from the two runs' records keyed by
    (task, item id, sample index)."""
    out = {task: Transitions(task=task) for task in tasks}
    for key, before in baseline.items():
        counts = out.get(key[0])
        if counts is None:
            continue
        after = other.get(key)
        if after is None:
            counts.unpaired += 1
            continue
        name = _category(before, after)
        setattr(counts, name, getattr(counts, name) + 1)
        if name == "content_fixed":
            if before.verdict.answer_present is None:
                counts.content_fixed_unchecked += 1
            elif before.verdict.answer_present:
                counts.content_fixed_stated += 1
    for key in other.keys() - baseline.keys():
        if key[0] in out:
            out[key[0]].unpaired += 1
    return out


def scored_records(run_dir: Path, results: RunResults) -> dict[RecordKey, SampleRecord] | None:
    """The records behind a run's results (its benchmarks, samples below its n); None without a
    samples.jsonl (e.g. compare was given a bare results.json)."""
    path = run_dir / SAMPLES_FILE
    if not path.is_file():
        return None
    limits = {task: metrics.n_samples for task, metrics in results.tasks.items()}
    return {
        key: record
        for key, record in load_records(path).items()
        if key[0] in limits and key[2] < limits[key[0]]
    }


def run_transitions(
    baseline: RunResults, other: RunResults,
    baseline_records: Mapping[RecordKey, SampleRecord], other_records: Mapping[RecordKey, SampleRecord],
) -> list[Transitions]:
    """Transitions for the benchmarks both runs have, in report order."""
    common = [t for t in task_columns([baseline, other]) if t in baseline.tasks and t in other.tasks]
    return list(count_transitions(baseline_records, other_records, common).values())
