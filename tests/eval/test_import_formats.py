"""Rescoring other tools' saved outputs: each format written here, graded by the real verifier.

Every format test writes the same six MATH500 answers (the first six real items of the local data,
copied into a small data directory by the test) in one tool's layout, with that tool's own verdicts
chosen to disagree with rlvr on two samples, and checks the matching, rlvr's verdicts, the agreement
numbers and the disagreements file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rlvr_eval.saved_outputs import OutputsError, detect_format, discover, rescore_outputs
from rlvr_eval.tasks import Item, get_task

QWEN_NAME = "test_qwen25-math-cot_-1_seed0_t0.0_s0_e-1.jsonl"

# Per MATH500 item (row order): the completion's final answer, whether it is boxed, the other tool's verdict.
# rlvr (lenient) grades: right, right, right (unboxed), wrong, right, wrong.
ANSWERS = [
    ("\\left( 3, \\frac{\\pi}{2} \\right)", True, True),
    ("p - q", True, False),  # rlvr right, theirs wrong
    ("\\frac{14}{3}", False, True),  # unboxed: right for rlvr's lenient score
    ("8", True, True),  # rlvr wrong, theirs right
    ("\\text{Evelyn}", True, True),
    ("41", True, False),
]
RLVR_RIGHT = [True, True, True, False, True, False]


@pytest.fixture
def bench(tmp_path: Path, data_dir: Path) -> tuple[Path, list[Item]]:
    """A data directory with the first six MATH500 rows and first four AIME24 rows of the local data."""
    small = tmp_path / "data"
    for task, n in (("math500", 6), ("aime24", 4)):
        rows = (data_dir / task / "test.jsonl").read_text(encoding="utf-8").splitlines()[:n]
        (small / task).mkdir(parents=True)
        (small / task / "test.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return small, get_task("math500").load(small)


def completion(i: int) -> str:
    answer, boxed, _ = ANSWERS[i]
    return f"Working...\nSo the answer is $\\boxed{{{answer}}}$." if boxed else f"The answer is ${answer}$."


def qwen_rows(items: list[Item]) -> list[dict[str, Any]]:
    return [
        {"idx": i, "question": item.question, "gt_cot": "", "gt": item.reference, "level": 1,
         "code": [completion(i)], "pred": [ANSWERS[i][0]], "report": [None], "score": [ANSWERS[i][2]]}
        for i, item in enumerate(items)
    ]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_qwen(root: Path, items: list[Item]) -> Path:
    """The harness's layout: <output_dir>/math500/test_<prompt>_..._e-1.jsonl."""
    write_jsonl(root / "qwen" / "math500" / QWEN_NAME, qwen_rows(items))
    return root / "qwen"


def write_lm_eval(root: Path, items: list[Item]) -> Path:
    """samples_<task>_<date>.jsonl, two filters per document, doc_id in lm-eval's own (reversed) order."""
    rows = []
    for i, item in enumerate(items):
        doc = {"problem": item.question, "answer": item.reference, "unique_id": None}
        for flt, verdict in (("strict-match", ANSWERS[i][2]), ("flexible-extract", not ANSWERS[i][2])):
            rows.append({
                "doc_id": len(items) - 1 - i, "doc": doc, "target": str(item.reference),
                "arguments": {"gen_args_0": {"arg_0": f"Problem:\n{item.question}\nSolution:", "arg_1": {}}},
                "resps": [[completion(i)]], "filtered_resps": [ANSWERS[i][0]], "filter": flt,
                "metrics": ["exact_match"], "exact_match": float(verdict), "doc_hash": "h",
                "prompt_hash": "h", "target_hash": "h",
            })
    name = "samples_minerva_math500_2025-01-02T03-04-05.678901.jsonl"
    return write_jsonl(root / "lm" / "model__name" / name, rows)


def write_lighteval(root: Path, items: list[Item], *, as_text: bool = False) -> Path:
    """0.13's details parquet: doc / model_response / metric structs (or their reprs, ``as_text``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for i, item in enumerate(items):
        doc = {"query": f"Solve the following problem.\n\n{item.question}", "choices": ["x"], "gold_index": 0,
               "id": str(len(items) - 1 - i), "task_name": "math_500|0", "original_query": None,
               "specific": None}
        response = {"text": [completion(i)], "input": doc["query"], "text_post_processed": None}
        metric = {"extractive_match": float(ANSWERS[i][2])}
        if as_text:  # lighteval casts nested cells to text in some versions: Python reprs
            doc = repr({**doc, "sampling_methods": "<SamplingMethod.GENERATIVE: 1>"}).replace(
                "'<SamplingMethod.GENERATIVE: 1>'", "[<SamplingMethod.GENERATIVE: 1>]")
            response, metric = repr(response), repr(metric)
        rows.append({"doc": doc, "metric": metric, "model_response": response})
    date = "2025-01-02T03-04-05.678901"
    path = root / "le" / "details" / "org" / "model" / date / f"details_math_500|0_{date}.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_lighteval_09(root: Path, items: list[Item]) -> Path:
    """lighteval <= 0.9: flat example / predictions / metrics columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"example": f"Question: {item.question}\nAnswer:", "full_prompt": "...",
         "predictions": [completion(i)], "gold": [str(item.reference)],
         "metrics": {"extractive_match": float(ANSWERS[i][2])}}
        for i, item in enumerate(items)
    ]
    path = root / "le09" / "details_lighteval|math_500|0_2024-06-01T00-00-00.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_plain(root: Path, items: list[Item]) -> Path:
    """Plain JSONL naming items three ways: rlvr's id, the row number, and re-spaced question text."""
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        row: dict[str, Any] = {"completion": completion(i), "correct": ANSWERS[i][2]}
        if i % 3 == 0:
            row["id"] = item.id
        elif i % 3 == 1:
            row["idx"] = i
        else:  # other whitespace, case and LaTeX spacing than the benchmark's
            row["question"] = "  " + item.question.upper().replace(" ", "\\,  \n") + " "
        rows.append(row)
    return write_jsonl(root / "plain.jsonl", rows)


WRITERS: dict[str, Callable[[Path, list[Item]], Path]] = {
    "qwen": write_qwen,
    "lm-eval": write_lm_eval,
    "lighteval": write_lighteval,
    "lighteval-text-cells": lambda root, items: write_lighteval(root, items, as_text=True),
    "lighteval-0.9": write_lighteval_09,
    "jsonl": write_plain,
}


def regrade(path: Path, data: Path, out: Path, **kwargs: Any) -> Any:
    return rescore_outputs(path, data_dir=data, output_dir=out, workers=1, show_progress=False, **kwargs)


@pytest.mark.parametrize("kind", list(WRITERS))
def test_each_format_matches_items_and_reports_agreement(kind: str, bench, tmp_path: Path) -> None:
    data, items = bench
    source = WRITERS[kind](tmp_path, items)
    # lm-eval's task name here is lm-eval's own; plain files name no benchmark: --tasks says which.
    tasks = ["math500"] if kind == "jsonl" else None
    regraded = regrade(source, data, tmp_path / "out", tasks=tasks)

    samples = [json.loads(x) for x in (tmp_path / "out" / "samples.jsonl").read_text().splitlines()]
    assert [(s["task"], s["item_id"], s["sample_index"]) for s in samples] == [
        ("math500", item.id, 0) for item in items
    ]
    assert [s["completion"] for s in samples] == [completion(i) for i in range(6)]
    assert [s["verdict"]["content"] == "equal" for s in samples] == RLVR_RIGHT
    assert [s["verdict"]["correct"] for s in samples] == [True, True, False, False, True, False]  # strict

    metrics = regraded.results.tasks["math500"]
    assert metrics.n_items == 6 and metrics.lenient_accuracy == pytest.approx(4 / 6)
    agreement = regraded.agreement.tasks["math500"]
    assert (agreement.compared, agreement.without_verdict) == (6, 0)
    assert agreement.their_accuracy == pytest.approx(4 / 6)
    assert agreement.rlvr_accuracy == pytest.approx(4 / 6)
    assert agreement.agreement == pytest.approx(4 / 6)
    assert (agreement.rlvr_right_theirs_wrong, agreement.rlvr_wrong_theirs_right) == (1, 1)

    lines = (tmp_path / "out" / "disagreements.jsonl").read_text().splitlines()
    rows = {d["item_id"]: d for d in map(json.loads, lines)}
    assert set(rows) == {items[1].id, items[3].id}
    assert (rows[items[1].id]["rlvr_correct"], rows[items[1].id]["their_correct"]) == (True, False)
    assert (rows[items[3].id]["rlvr_correct"], rows[items[3].id]["their_correct"]) == (False, True)
    assert rows[items[3].id]["rlvr_extracted"] == "8" and rows[items[3].id]["reference"] == "9"
    assert rows[items[3].id]["completion_tail"].endswith("\\boxed{8}$.")
    assert "differs from reference" in rows[items[3].id]["rlvr_reason"]
    assert rows[items[3].id]["source"].startswith(str(tmp_path))
    if kind == "qwen":  # the harness saves its extraction and reference: both are shown
        assert rows[items[3].id]["their_extracted"] == "8" and rows[items[3].id]["their_reference"] == "9"
        assert rows[items[3].id]["grader"] == "Qwen2.5-Math harness score"
    if kind == "lm-eval":  # two filters per document: the first one's verdict, named
        assert rows[items[3].id]["grader"] == "lm-eval exact_match (filter strict-match)"

    html = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>Agreement with the outputs' own grader</h2>" in html
    assert html.count('class="disagreement"') == 2
    assert "| MATH500 |" in (tmp_path / "out" / "report.md").read_text().split("## Agreement")[1]


def test_one_shot_rlvr_repeated_rows_become_samples_of_one_item(bench, tmp_path: Path) -> None:
    """The One-Shot-RLVR fork's aime24x8: every item repeated as rows (idx past the benchmark's size)."""
    data, _ = bench
    aime = get_task("aime24").load(data)
    rows = [
        {"idx": r * len(aime) + i, "question": item.question, "gt": item.reference,
         "code": [f"\\boxed{{{item.reference if r == 0 else 1}}}"], "pred": ["?"], "score": [r == 0]}
        for r in range(2) for i, item in enumerate(aime)
    ]
    write_jsonl(tmp_path / "outs" / "aime24x8" / QWEN_NAME, rows)
    regraded = regrade(tmp_path / "outs", data, tmp_path / "out")
    metrics = regraded.results.tasks["aime24"]
    assert (metrics.n_items, metrics.n_samples, metrics.score) == (4, 2, 0.5)
    assert regraded.agreement.tasks["aime24"].agreement == 1.0


def test_rows_that_match_no_item_are_an_error_naming_them(bench, tmp_path: Path) -> None:
    data, items = bench
    stray = {"idx": 41, "question": "What is the airspeed of a swallow, unladen?", "code": ["\\boxed{11}"],
             "pred": ["11"], "score": [False]}
    rows = [*qwen_rows(items), stray]
    source = write_jsonl(tmp_path / "q" / "math500" / QWEN_NAME, rows)
    with pytest.raises(OutputsError) as err:
        regrade(source, data, tmp_path / "out")
    message = str(err.value)
    assert "1 of 7 rows" in message and "match no math500 item" in message
    assert f"{source}:record 7 (row 41, question 'What is the airspeed" in message
    assert not (tmp_path / "out").exists()  # nothing written on error


def test_missing_items_are_an_error_unless_allowed(bench, tmp_path: Path) -> None:
    data, items = bench
    source = write_jsonl(tmp_path / "q" / "math500" / QWEN_NAME, qwen_rows(items)[:4])
    with pytest.raises(OutputsError, match=f"2 of 6 math500 items have no completion .* {items[4].id}"):
        regrade(source, data, tmp_path / "out")
    regraded = regrade(source, data, tmp_path / "out", allow_missing=True)
    assert regraded.results.tasks["math500"].n_items == 4
    assert regraded.notes == ["math500: 2 of 6 items had no completion, not scored"]


def test_formats_are_detected_per_file_and_directory(bench, tmp_path: Path) -> None:
    _, items = bench
    qwen_dir = write_qwen(tmp_path, items)
    assert detect_format(qwen_dir / "math500" / QWEN_NAME) == "qwen"
    assert detect_format(write_lm_eval(tmp_path, items)) == "lm-eval"
    assert detect_format(write_lighteval(tmp_path, items)) == "lighteval"
    assert detect_format(write_plain(tmp_path, items)) == "jsonl"
    (qwen_dir / "notes.jsonl").write_text('{"hello": "world"}\n')
    found = discover(qwen_dir)
    assert [(f.format, f.task) for f in found.files] == [("qwen", "math500")]
    assert found.skipped == [f"{qwen_dir / 'notes.jsonl'} (no known format)"]
    # --format forces a reading: a plain file read as the Qwen harness's fails on its first record
    with pytest.raises(OutputsError, match=r"record 1: not a Qwen2\.5-Math harness record"):
        rescore_outputs(tmp_path / "plain.jsonl", fmt="qwen", tasks=["math500"], output_dir=tmp_path / "o")


def test_unreadable_files_are_named_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "latin1.jsonl").write_bytes(b'{"question": "caf\xe9", "completion": "1"}\n')
    (tmp_path / "deep.jsonl").write_text('{"idx": 0, "code": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(OutputsError, match=r"latin1\.jsonl:1: byte offset 17: not UTF-8 text \(byte 0xe9\)"):
        rescore_outputs(tmp_path / "latin1.jsonl", tasks=["math500"], output_dir=tmp_path / "o")
    with pytest.raises(OutputsError, match=r"deep\.jsonl:1: JSON nested too deeply"):
        rescore_outputs(tmp_path / "deep.jsonl", tasks=["math500"], output_dir=tmp_path / "o")
    with pytest.raises(OutputsError, match=r"fake\.parquet: not a readable parquet file"):
        rescore_outputs(tmp_path / "fake.parquet", tasks=["math500"], output_dir=tmp_path / "o")


def test_a_file_without_a_benchmark_name_needs_tasks(bench, tmp_path: Path) -> None:
    data, items = bench
    source = write_plain(tmp_path, items)
    with pytest.raises(OutputsError, match=r"cannot tell which benchmark .*plain\.jsonl holds; pass --tasks"):
        regrade(source, data, tmp_path / "out")


def test_rescoring_the_new_run_in_place_keeps_the_other_verdicts(bench, tmp_path: Path) -> None:
    from rlvr_eval.runner import rescore

    data, items = bench
    regrade(write_qwen(tmp_path, items), data, tmp_path / "out")
    (tmp_path / "out" / "disagreements.jsonl").unlink()
    rescore(tmp_path / "out", workers=1)
    assert len((tmp_path / "out" / "disagreements.jsonl").read_text().splitlines()) == 2
    assert json.loads((tmp_path / "out" / "agreement.json").read_text())["tasks"]["math500"]["compared"] == 6


# ---------------------------------------------------------------- names, matching, command line


@pytest.mark.parametrize(("name", "fmt", "expected"), [
    ("math500", "qwen", "math500"),
    ("aime24x8", "qwen", "aime24"),  # the One-Shot-RLVR fork's repeated-rows data
    ("minerva_math", "qwen", "minerva_math"),
    ("math_500|0", "lighteval", "math500"),
    ("lighteval|math_500|0", "lighteval", "math500"),
    ("rlvr:math500|0", "lighteval", "math500"),  # rlvr's own lighteval tasks
    ("arc:challenge|25", "lighteval", "arc_challenge"),
    ("olympiad_bench:OE_TO_maths_en_COMP|0", "lighteval", "olympiadbench"),
    ("aime24_pass_avg_32", "lm-eval", "aime24"),
    ("minerva_math500", "lm-eval", "math500"),
    ("gsm8k_cot_zeroshot", "lm-eval", "gsm8k"),
    ("minerva_math_algebra", "lm-eval", None),  # lm-eval's "minerva_math" is Hendrycks MATH, not Minerva OCW
    ("mmlu_pro", "lm-eval", None),
])
def test_other_tools_benchmark_names_map_to_rlvr_tasks(name: str, fmt: Any, expected: str | None) -> None:
    from rlvr_eval.saved_outputs import task_from_name

    assert task_from_name(name, fmt) == expected


def toy_items() -> list[Item]:
    questions = ["What is $1 + 1$?", "Compute $\\frac{1}{2} + \\frac{1}{3}$ exactly, as a fraction.",
                 "Compute $\\frac{1}{2} + \\frac{1}{3}$ exactly, as a fraction, then double it."]
    return [Item(task="toy", id=f"q{i}", question=q, reference="2") for i, q in enumerate(questions)]


def test_matching_trusts_ids_only_where_the_question_agrees() -> None:
    from rlvr_eval.saved_outputs import ItemMatcher, OutputRow, normalize_question

    spaced = normalize_question("Compute $\\frac{1}{2}\\,+\\;x$ \n NOW")
    assert spaced == normalize_question("compute \\frac{1}{2}+x now")
    items = toy_items()
    matcher = ItemMatcher(items)

    def match(**where: Any) -> str | None:
        found = matcher.match(OutputRow(source="t", completions=["x"], **where))
        return found.id if found else None

    assert match(position=2) == "q2" and match(item_id="q1") == "q1"
    assert match(position=0, question=items[1].question) == "q1"  # row number and question disagree
    assert match(question="WHAT IS $1+1$ ?") == "q0"
    # a prompt around the question: the longest question inside it wins (q2 holds q1's text)
    assert match(prompt=f"<|im_start|>user\n{items[2].question}<|im_end|>") == "q2"
    assert match(prompt=f"Solve: {items[1].question} Answer:") == "q1"
    assert match(question="What is 2 + 2?") is None and match(position=7) is None


def test_cli_rescore_end_to_end_and_one_line_errors(bench, tmp_path: Path, capsys) -> None:
    import subprocess
    import sys

    from rlvr_eval.cli import main

    data, items = bench
    source = write_qwen(tmp_path, items)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "rlvr_eval.cli", "rescore", str(source), "--output-dir", str(out),
         "--data-dir", str(data), "--verify-workers", "1", "--no-progress"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "| qwen | 66.7 | 66.7 |" in proc.stdout
    assert ("MATH500: Qwen2.5-Math harness score 66.7%, rlvr (lenient) 66.7% on 6 samples; agree 66.7% "
            "(rlvr right/theirs wrong 1, rlvr wrong/theirs right 1)") in proc.stdout
    assert f"disagreements: {out / 'disagreements.jsonl'}" in proc.stdout
    assert json.loads((out / "results.json").read_text())["backend"] == "saved:qwen"

    # score --backend predictions takes the same files
    assert main(["score", str(source), "--backend", "predictions", "--tasks", "math500", "--data-dir",
                 str(data), "--output-dir", str(tmp_path / "scored"), "--verify-workers", "1",
                 "--no-progress"]) == 0
    scored = json.loads((tmp_path / "scored" / "results.json").read_text())["tasks"]["math500"]
    assert scored["lenient_accuracy"] == pytest.approx(4 / 6)
    capsys.readouterr()

    def error(*args: str) -> str:
        assert main(list(args)) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rlvr-eval: error: ")
        return lines[0]

    plain = write_plain(tmp_path, items)
    assert "pass --tasks NAME" in error("rescore", str(plain), "--data-dir", str(data))
    assert "already holds other results" in error("rescore", str(plain), "--tasks", "math500", "--output-dir",
                                                   str(tmp_path / "scored"), "--data-dir", str(data))
    assert "match no aime24 item" in error("rescore", str(plain), "--tasks", "aime24", "--data-dir",
                                           str(data), "--output-dir", str(tmp_path / "o2"))
    assert "--output-dir is for other tools' outputs" in error("rescore", str(out), "--output-dir", "x")


def test_cli_format_choices_are_the_readers_formats() -> None:
    from rlvr_eval.cli import SAVED_OUTPUT_FORMATS
    from rlvr_eval.saved_outputs import FORMATS

    assert SAVED_OUTPUT_FORMATS == FORMATS
