"""Agreement between rlvr's verdicts and another tool's, and the list of every disagreement.

When rescored outputs carry their producer's verdicts (``SampleRecord.other_grade``: the Qwen
harness's ``score``, lm-eval's or lighteval's metric), this says per benchmark how often the two
graders agree and lists each sample where they do not, with both extractions and rlvr's reason, so a
user can read exactly where and why the old grader and rlvr differ. rlvr's side is its verdict in the
run's score mode (lenient by default, which is how the Qwen harness grades: any final answer counts).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from rlvr_eval.scoring.records import SampleRecord, ScoreMode
from rlvr_eval.scoring.report_md import _table as markdown_table
from rlvr_eval.scoring.report_md import label, pct

DISAGREEMENTS_FILE = "disagreements.jsonl"
AGREEMENT_FILE = "agreement.json"
TAIL_CHARS = 800  # of the completion kept per disagreement: the final answer sits at the end
MAX_HTML_DISAGREEMENTS = 1000
# Styled like report.html's failures, under another class so the failure filters leave these alone.
_CSS = ".disagreement{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:8px 10px}" \
    ".disagreement .head{font-weight:600}"


class TaskAgreement(BaseModel):
    """One benchmark: both graders' accuracy on the samples both graded, and where they split."""

    task: str
    grader: str
    compared: int
    without_verdict: int  # samples the other tool did not grade one by one (e.g. a per-item metric)
    rlvr_accuracy: float
    their_accuracy: float
    agreement: float
    rlvr_right_theirs_wrong: int
    rlvr_wrong_theirs_right: int


class Disagreement(BaseModel):
    """One sample the two graders judge differently."""

    task: str
    item_id: str
    sample_index: int
    source: str | None
    grader: str
    reference: str | list[str]
    their_reference: str | None
    rlvr_extracted: str | None
    their_extracted: str | None
    rlvr_correct: bool
    their_correct: bool
    rlvr_format: str
    rlvr_content: str
    rlvr_reason: str
    completion_tail: str


class AgreementReport(BaseModel):
    score_mode: ScoreMode
    tasks: dict[str, TaskAgreement]
    disagreements: list[Disagreement]

    def write(self, out: Path) -> None:
        """agreement.json (the per-benchmark numbers) and disagreements.jsonl (one line per sample)."""
        summary = self.model_dump(mode="json", exclude={"disagreements"})
        (out / AGREEMENT_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        with (out / DISAGREEMENTS_FILE).open("w", encoding="utf-8") as fh:
            fh.writelines(d.model_dump_json() + "\n" for d in self.disagreements)

    def summary_lines(self) -> list[str]:
        """One line per benchmark, as the CLI prints it."""
        return [
            f"{label(a.task)}: {a.grader} {pct(a.their_accuracy)}%, rlvr ({self.score_mode}) "
            f"{pct(a.rlvr_accuracy)}% on {a.compared} samples; agree {pct(a.agreement)}% "
            f"(rlvr right/theirs wrong {a.rlvr_right_theirs_wrong}, rlvr wrong/theirs right "
            f"{a.rlvr_wrong_theirs_right})"
            for a in self.tasks.values()
        ]

    def markdown(self) -> str:
        header = ["Benchmark", "Their grader", "Samples", "Theirs", f"rlvr ({self.score_mode})", "Agree",
                  "rlvr right, theirs wrong", "rlvr wrong, theirs right"]
        rows = [
            [label(a.task), a.grader, str(a.compared), pct(a.their_accuracy), pct(a.rlvr_accuracy),
             pct(a.agreement), str(a.rlvr_right_theirs_wrong), str(a.rlvr_wrong_theirs_right)]
            for a in self.tasks.values()
        ]
        skipped = sum(a.without_verdict for a in self.tasks.values())
        note = f" {skipped} samples they graded per item only are not compared." if skipped else ""
        return "\n".join([
            "", "## Agreement with the outputs' own grader", "",
            f"rlvr's {self.score_mode} verdict against the verdict saved with the outputs (percent). "
            f"{len(self.disagreements)} disagreements are listed in `{DISAGREEMENTS_FILE}` and report.html."
            + note,
            "", markdown_table(header, rows, align_first_left=2), "",
        ])

    def html(self) -> str:
        e = _escape
        rows = "".join(
            f"<tr><td>{e(label(a.task))}</td><td>{e(a.grader)}</td><td>{a.compared}</td>"
            f"<td>{pct(a.their_accuracy)}</td><td>{pct(a.rlvr_accuracy)}</td><td>{pct(a.agreement)}</td>"
            f"<td>{a.rlvr_right_theirs_wrong}</td><td>{a.rlvr_wrong_theirs_right}</td></tr>"
            for a in self.tasks.values()
        )
        table = (
            '<table id="agreement"><tr><th>Benchmark</th><th>Their grader</th><th>Samples</th><th>Theirs</th>'
            f"<th>rlvr ({e(self.score_mode)})</th><th>Agree</th><th>rlvr right, theirs wrong</th>"
            f"<th>rlvr wrong, theirs right</th></tr>{rows}</table>"
        )
        shown = self.disagreements[:MAX_HTML_DISAGREEMENTS]
        more = len(self.disagreements) - len(shown)
        blocks = "".join(_disagreement_html(d) for d in shown)
        tail = f"<p>{more} more in {DISAGREEMENTS_FILE}.</p>" if more else ""
        return (
            f"<style>{_CSS}</style><h2>Agreement with the outputs' own grader</h2>"
            f"<p>rlvr's {e(self.score_mode)} verdict against the verdict saved with the outputs "
            f"(percent of the samples both graded).</p>{table}"
            f'<h3>Disagreements ({len(self.disagreements)})</h3><div id="disagreements">{blocks}</div>{tail}'
        )


def agreement_report(
    records_by_task: Mapping[str, Sequence[SampleRecord]], mode: ScoreMode
) -> AgreementReport | None:
    """Compare every record that carries another tool's verdict; None when none does."""
    tasks: dict[str, TaskAgreement] = {}
    disagreements: list[Disagreement] = []
    for task, records in records_by_task.items():
        graded = [r for r in records if r.other_grade is not None]
        compared = [r for r in graded if r.other_grade is not None and r.other_grade.correct is not None]
        if not graded:
            continue
        ours = [r.is_correct(mode) for r in compared]
        theirs = [bool(r.other_grade.correct) for r in compared if r.other_grade is not None]
        n = len(compared)
        graders = sorted({r.other_grade.grader for r in graded if r.other_grade is not None})
        tasks[task] = TaskAgreement(
            task=task,
            grader=" / ".join(graders),
            compared=n,
            without_verdict=len(graded) - n,
            rlvr_accuracy=sum(ours) / n if n else 0.0,
            their_accuracy=sum(theirs) / n if n else 0.0,
            agreement=sum(a == b for a, b in zip(ours, theirs, strict=True)) / n if n else 0.0,
            rlvr_right_theirs_wrong=sum(a and not b for a, b in zip(ours, theirs, strict=True)),
            rlvr_wrong_theirs_right=sum(b and not a for a, b in zip(ours, theirs, strict=True)),
        )
        disagreements += [
            _disagreement(r, right) for r, right in zip(compared, ours, strict=True)
            if r.other_grade is not None and right != r.other_grade.correct
        ]
    if not tasks:
        return None
    return AgreementReport(score_mode=mode, tasks=tasks, disagreements=disagreements)


def _disagreement(record: SampleRecord, rlvr_correct: bool) -> Disagreement:
    other = record.other_grade
    assert other is not None and other.correct is not None  # the caller filtered these
    return Disagreement(
        task=record.task,
        item_id=record.item_id,
        sample_index=record.sample_index,
        source=other.source,
        grader=other.grader,
        reference=record.reference,
        their_reference=other.reference,
        rlvr_extracted=record.verdict.extracted,
        their_extracted=other.extracted,
        rlvr_correct=rlvr_correct,
        their_correct=other.correct,
        rlvr_format=record.verdict.format.value,
        rlvr_content=record.verdict.content.value,
        rlvr_reason=record.verdict.reason,
        completion_tail=record.completion[-TAIL_CHARS:],
    )


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _right(correct: bool) -> str:
    return "right" if correct else "wrong"


def _disagreement_html(d: Disagreement) -> str:
    e = _escape
    reference = d.reference if isinstance(d.reference, str) else " | ".join(d.reference)
    theirs_ref = "" if d.their_reference in (None, reference) else f" (theirs: {e(d.their_reference)})"
    verdicts = f"rlvr {_right(d.rlvr_correct)}, theirs {_right(d.their_correct)}"
    reason = f"; {e(d.rlvr_reason)}" if d.rlvr_reason else ""
    return (
        f'<div class="disagreement" data-task="{e(d.task)}"><div class="head">{e(label(d.task))} · item '
        f"{e(d.item_id)} · sample {d.sample_index}<span class=\"tag\">{e(verdicts)}</span></div>"
        f'<div class="kv"><b>reference</b><span>{e(reference)}{theirs_ref}</span>'
        f"<b>rlvr took</b><span>{e(d.rlvr_extracted if d.rlvr_extracted is not None else '(none)')}</span>"
        f"<b>they took</b><span>{e('(not saved)' if d.their_extracted is None else d.their_extracted)}</span>"
        f"<b>rlvr says</b><span>format {e(d.rlvr_format)}, content {e(d.rlvr_content)}{reason}</span>"
        f"<b>source</b><span>{e(d.source or '')}</span></div>"
        f"<details><summary>completion (last {TAIL_CHARS} characters)</summary>"
        f"<pre>{e(d.completion_tail)}</pre></details></div>"
    )
