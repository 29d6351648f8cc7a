"""Benchmark adapters: every local file reads completely and correctly; hub and user-file paths.

Local data comes from ``RLVR_DATA_DIR`` (default ``<repo>/../shared/benchmarks``); tests that need it
skip with a reason when it is absent. Hub access is never attempted: ``datasets.load_dataset`` is
monkeypatched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import datasets
import pytest

from rlvr_eval.tasks import PAPER_MATH_TASKS, TASKS, TaskDataError, get_task
from rlvr_eval.tasks.gsm8k import final_answer

_DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
DATA_DIR = Path(os.environ.get("RLVR_DATA_DIR") or _DEFAULT_DIR)
needs_data = pytest.mark.skipif(
    not (DATA_DIR / "math500" / "test.jsonl").is_file(),
    reason=f"benchmark data not found at {DATA_DIR} (set RLVR_DATA_DIR)",
)

# Row counts from the benchmarks README.
ROWS = {
    "math500": 500,
    "aime24": 30,
    "aime25": 30,
    "amc23": 40,
    "minerva_math": 272,
    "olympiadbench": 675,
    "gsm8k": 1319,
    "arc_challenge": 1172,
    "arc_easy": 2376,
}


def _load(name: str):
    return get_task(name).load(DATA_DIR)


def _by_id(name: str) -> dict[str, Any]:
    return {item.id: item for item in _load(name)}


def test_registry_and_paper_order() -> None:
    assert set(TASKS) == set(ROWS)
    assert PAPER_MATH_TASKS == ("math500", "aime24", "amc23", "minerva_math", "olympiadbench", "aime25")
    for name in TASKS:
        assert get_task(name).name == name


def test_paper_sampling_defaults() -> None:
    for name in ("aime24", "aime25", "amc23"):
        task = get_task(name)
        assert (task.default_n, task.default_temperature) == (8, 0.6)
    for name in ("math500", "minerva_math", "olympiadbench", "gsm8k", "arc_easy"):
        task = get_task(name)
        assert (task.default_n, task.default_temperature) == (1, 0.0)
    assert all(get_task(name).max_tokens == 3072 for name in TASKS)
    assert get_task("arc_challenge").answer_format == "multiple_choice"
    assert get_task("gsm8k").answer_format == "boxed"


@needs_data
@pytest.mark.parametrize("name", sorted(ROWS))
def test_reads_every_row(name: str) -> None:
    items = _load(name)
    assert len(items) == ROWS[name]
    assert len({item.id for item in items}) == len(items)
    for item in items:
        assert item.task == name and item.question.strip()
        refs = item.reference if isinstance(item.reference, list) else [item.reference]
        assert refs and all(ref.strip() for ref in refs), item.id


@needs_data
def test_limit() -> None:
    assert [item.id for item in get_task("math500").load(DATA_DIR, limit=3)] == [
        item.id for item in _load("math500")[:3]
    ]
    with pytest.raises(TaskDataError, match="math500: limit must be at least 1, got 0"):
        get_task("math500").load(DATA_DIR, limit=0)  # never a run with the benchmark silently missing


@needs_data
def test_env_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RLVR_DATA_DIR", str(DATA_DIR))
    assert len(get_task("aime24").load()) == 30


@needs_data
def test_math500_metadata() -> None:
    item = _by_id("math500")["test/precalculus/807.json"]
    assert item.reference == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert item.metadata == {"subject": "Precalculus", "level": 2, "unique_id": "test/precalculus/807.json"}


@needs_data
def test_competition_answers_are_canonical() -> None:
    amc = _by_id("amc23")
    assert amc["0"].reference == "27" and amc["17"].reference == "-1"
    assert not any(item.reference.endswith(".0") for item in amc.values())
    aime24 = _by_id("aime24")
    assert aime24["67"].reference == "25"  # stored zero-padded as "025"
    assert all(item.reference.isdigit() and int(item.reference) < 1000 for item in aime24.values())
    assert _by_id("aime25")["19"].reference == "336^\\circ"


@needs_data
def test_minerva_reference_is_last_box_of_solution() -> None:
    items = _by_id("minerva_math")
    assert items["0"].reference == "1.6"  # "\boxed{1.6} \mathrm{~cm}": the unit sits outside the box
    assert items["1"].reference == "4.5e33"
    assert all(item.options.rel_tol is None for item in items.values())


@needs_data
def test_olympiadbench_options() -> None:
    items = _load("olympiadbench")
    multi = [item for item in items if item.options.multiple_answers]
    assert len(multi) == 94
    by_id = {item.id: item for item in items}
    tuples = [item for item in multi if item.reference == "(1,8,19), (2,7,13), (4,5,7)"]
    assert len(tuples) == 1 and tuples[0].options.answer_type == "tuple"
    units = {item.options.unit for item in items if item.options.unit}
    assert {"cm^2", "km/h", "%", "^{\\circ}"} <= units
    assert {item.options.answer_type for item in items} == {"numeric", "expression", "tuple", "interval"}
    with_error = [item for item in items if item.options.rel_tol is not None]
    assert len(with_error) == 1 and with_error[0].reference == "4.2"
    assert with_error[0].options.rel_tol == pytest.approx(0.1 / 4.2)
    assert by_id["1606"].reference == "2" and not by_id["1606"].options.multiple_answers
    assert not any("$" in item.reference for item in items)  # math delimiters stripped


@needs_data
def test_gsm8k_reference() -> None:
    items = _load("gsm8k")
    assert [item.reference for item in items[:3]] == ["18", "3", "70000"]
    assert not any("," in item.reference for item in items)


@needs_data
def test_arc_choices_rendered() -> None:
    items = _by_id("arc_easy")
    first = items["Mercury_417466"]
    lines = first.question.splitlines()
    assert lines[1] == "A. Sunlight is the source of energy for nearly all ecosystems."
    assert lines[4].startswith("D. ") and "\\boxed{" in lines[-1]
    assert first.reference == "A" and first.options.answer_type == "choice"
    assert first.options.choices == ("A", "B", "C", "D")
    relabelled = [item for item in items.values() if item.metadata["source_answer_key"].isdigit()]
    assert len(relabelled) == 97
    for item in relabelled:
        assert item.options.choices == ("A", "B", "C", "D")
        assert item.reference == "ABCD"[int(item.metadata["source_answer_key"]) - 1]
        assert "\n1. " not in item.question
    five = [item for item in items.values() if item.options.choices == ("A", "B", "C", "D", "E")]
    assert len(five) == 4 and any(item.reference == "E" for item in five)
    for item in items.values():
        assert item.reference in item.options.choices
        assert all(f"\n{label}. " in item.question for label in item.options.choices)


def test_hub_failure_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLVR_DATA_DIR", raising=False)

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("Couldn't reach 'HuggingFaceH4/MATH-500' on the Hub\n(offline)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(TaskDataError) as info:
        get_task("math500").load()
    message = str(info.value)
    assert message.startswith("could not load HuggingFaceH4/MATH-500 from the Hugging Face hub (Connection")
    assert message.endswith("pass --data-dir DIR with DIR/math500/test.jsonl")
    assert "\n" not in message


def _fake_hub(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]]) -> list[tuple]:
    calls: list[tuple] = []

    def load_dataset(path: str, name: str | None = None, *, split: str) -> list[dict[str, Any]]:
        calls.append((path, name, split))
        return rows

    monkeypatch.delenv("RLVR_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_hub_rows_with_hub_column_names(monkeypatch: pytest.MonkeyPatch) -> None:
    choices = {"text": ["x", "y"], "label": ["1", "2"]}
    calls = _fake_hub(monkeypatch, [{"id": "Q1", "question": "Q?", "choices": choices, "answerKey": "2"}])
    [item] = get_task("arc_challenge").load()
    assert calls == [("allenai/ai2_arc", "ARC-Challenge", "test")]
    assert item.reference == "B" and item.question.splitlines()[1:3] == ["A. x", "B. y"]

    calls = _fake_hub(monkeypatch, [{"question": "Find x.", "answer": "5 \\mathrm{~m}"}])
    [item] = get_task("minerva_math").load()
    assert calls == [("math-ai/minervamath", None, "test")]
    assert (item.id, item.question, item.reference) == ("0", "Find x.", "5 \\mathrm{~m}")

    _fake_hub(monkeypatch, [{"question": "How many?", "answer": 12.0, "id": 7}])
    [item] = get_task("amc23").load()
    assert (item.id, item.question, item.reference) == ("7", "How many?", "12")


def test_olympiadbench_context_and_list_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    row = {"id": 1, "context": "Let $f(x)=x^2$.", "question": "Find $f(2)$ and $f(3)$.",
           "final_answer": ["$4$", "$9$"], "is_multiple_answer": True, "unit": None,
           "answer_type": "Numerical", "error": None}
    calls = _fake_hub(monkeypatch, [row])
    [item] = get_task("olympiadbench").load()
    assert calls == [("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train")]
    assert item.question == "Let $f(x)=x^2$.\n\nFind $f(2)$ and $f(3)$."
    assert item.reference == "4, 9" and item.options.multiple_answers  # both required, not "any of"
    _fake_hub(monkeypatch, [{**row, "is_multiple_answer": False, "final_answer": ["$x=1$", "$1$"]}])
    [item] = get_task("olympiadbench").load()
    assert item.reference == ["x=1", "1"] and not item.options.multiple_answers


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(TaskDataError, match=r"no data file .*aime24/test\.jsonl"):
        get_task("aime24").load(tmp_path)


def test_bad_row_names_task_and_row(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text(
        "".join(json.dumps({"question": "q", "answer": a}) + "\n" for a in ("#### 1", "7")),
        encoding="utf-8",
    )
    with pytest.raises(TaskDataError, match=r"gsm8k: bad row 1 .*'#### '"):
        get_task("gsm8k").load(tmp_path)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_jsonl_task(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "mine.jsonl", [
        {"problem": "1+1?", "answer": 2.0, "src": "a", "uid": "x"},
        {"problem": "Roots of x^2=1?", "answer": ["1", "-1"], "src": "b", "uid": "y"},
    ])
    task = get_task(f"jsonl:{path}", question_field="problem", id_field="uid", metadata_fields=["src"],
                    default_n=4, default_temperature=0.6)
    assert (task.name, task.default_n, task.default_temperature) == ("mine", 4, 0.6)
    items = task.load(data_dir=tmp_path / "ignored")  # a fixed file ignores data_dir
    assert [(i.task, i.id, i.question, i.reference, i.metadata) for i in items] == [
        ("mine", "x", "1+1?", "2", {"src": "a"}),
        ("mine", "y", "Roots of x^2=1?", ["1", "-1"], {"src": "b"}),
    ]


def test_jsonl_task_errors(tmp_path: Path) -> None:
    with pytest.raises(TaskDataError, match="no such file"):
        get_task(f"jsonl:{tmp_path / 'absent.jsonl'}")
    path = _write_jsonl(tmp_path / "t.jsonl", [{"q": "a", "answer": "1"}])
    with pytest.raises(TaskDataError, match=r"none of the fields question present"):
        get_task(f"jsonl:{path}").load()
    dup = _write_jsonl(tmp_path / "dup.jsonl", [{"question": "a", "answer": "1", "k": 1}] * 2)
    with pytest.raises(TaskDataError, match="duplicate item id '1'"):
        get_task(f"jsonl:{dup}", id_field="k").load()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "a", "answer": "1"}\n{oops\n', encoding="utf-8")
    with pytest.raises(TaskDataError, match=r"broken\.jsonl:2: invalid JSON"):
        get_task(f"jsonl:{broken}").load()


def test_unknown_task_and_options() -> None:
    with pytest.raises(KeyError, match="unknown task 'math5000'; valid tasks: aime24, aime25") as info:
        get_task("math5000")
    assert str(info.value).startswith("unknown task")  # no KeyError repr quotes in CLI messages
    assert get_task("math500", default_n=4).default_n == 4
    with pytest.raises(TypeError, match="unknown option"):
        get_task("math500", temperature=0.6)


def test_gsm8k_final_answer() -> None:
    assert final_answer("so 3,000 + 1 = 3001\n#### 3,001") == "3001"
    assert final_answer("#### -4.5") == "-4.5"
    with pytest.raises(ValueError):
        final_answer("The answer is 4")


def test_minerva_solution_without_box_is_a_bad_row(tmp_path: Path) -> None:
    (tmp_path / "minerva_math").mkdir()
    row = {"problem": "p", "solution": "so it is \\boxed{3", "type": "t", "idx": 5}
    (tmp_path / "minerva_math" / "test.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=r"minerva_math: bad row 0 .*no complete"):
        get_task("minerva_math").load(tmp_path)


@needs_data
@pytest.mark.parametrize("name", sorted(ROWS))
def test_boxed_reference_grades_correct(name: str) -> None:
    """Adapter and verifier agree: each item's own reference, boxed, is correct under its options."""
    from rlvr_eval.verifier.api import verify

    task = get_task(name)
    failures = []
    for item in task.load(DATA_DIR):
        answer = item.reference if isinstance(item.reference, str) else item.reference[0]
        verdict = verify(f"So the answer is \\boxed{{{answer}}}.", item.reference,
                         answer_format=task.answer_format, options=item.options)
        if not verdict.correct:
            failures.append((item.id, answer, verdict.content.value))
        if item.options.choices:  # and a wrong letter is not
            wrong = next(label for label in item.options.choices if label != item.reference)
            if verify(f"\\boxed{{{wrong}}}", item.reference, answer_format=task.answer_format,
                      options=item.options).correct:
                failures.append((item.id, wrong, "wrong letter accepted"))
    assert failures == []
