"""rlvr's lenient verdict on real model completions agrees with our reading of them (issue 8).

The completions file (``dev.jsonl``: 3,705 real completions with the recording projects' labels) lives
outside the repository; point ``RLVR_DEV_COMPLETIONS`` at it, else these tests skip. Its labels are wrong
in places, so the truth used here is ``corpus/dev_checked.jsonl``: rows we read, with our verdict
(label right or wrong) and the true correctness. Each checked row is one test, named by its row id
(``<line>-<sha1 prefix of the line>``, so an edited file is noticed rather than misread). Grading is
what ``rlvr-eval`` reports as lenient: ``verify(completion, reference, strict=False, prompt=question)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus import CheckedRow, DevRow, load_checked, read_dev_rows

from rlvr_eval import verify

CHECKED = load_checked()
ENV = "RLVR_DEV_COMPLETIONS"


@pytest.fixture(scope="module")
def dev_rows() -> dict[str, DevRow]:
    configured = os.environ.get(ENV)
    if not configured:
        pytest.skip(f"{ENV} is not set (path of a dev.jsonl real-completions file)")
    path = Path(configured)
    if not path.is_file():
        pytest.skip(f"{ENV}={configured} does not exist")
    return {row.row_id: row for row in read_dev_rows(path)}


@pytest.mark.parametrize("checked", CHECKED, ids=[c.row_id for c in CHECKED])
def test_lenient_verdict_matches_reading(checked: CheckedRow, dev_rows: dict[str, DevRow]) -> None:
    row = dev_rows.get(checked.row_id)
    assert row is not None, f"row {checked.row_id} not in {os.environ[ENV]} (file changed?)"
    # The table is consistent with the file: "label_right" keeps the label, "label_wrong" flips it.
    assert (checked.correct == row.label) == (checked.verdict == "label_right")
    verdict = verify(row.completion, row.reference, strict=False, prompt=row.problem)
    assert verdict.correct == checked.correct, (
        f"{checked.row_id} ({row.benchmark}, {checked.verdict}: {checked.reason}); reference "
        f"{row.reference!r}; rlvr extracted {verdict.extracted!r} ({verdict.extraction_method}): "
        f"{verdict.reason}"
    )


def test_checked_table_holds_both_kinds() -> None:
    # Rows whose label we overturned and rows whose label we confirmed; each kind guards something.
    kinds = {c.verdict for c in CHECKED}
    assert kinds == {"label_right", "label_wrong"}
    assert len({c.row_id for c in CHECKED}) == len(CHECKED)
