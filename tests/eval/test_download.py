"""``rlvr-eval download`` / ``rlvr-train download`` and where data may come from.

No hub access here: ``datasets.load_dataset`` is replaced by in-memory ``datasets.Dataset`` objects with
each hub dataset's own columns (as listed on the hub; the local files use other spellings for some).
The saved files are then read back through the task adapters' local loader and compared item by item
with what the hub rows give.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rlvr_eval.cli import main as rlvr_eval_main
from rlvr_eval.tasks import TASKS, get_task

OLYMPIAD_ROW = {
    "id": 2231, "question": "Find all $x$ with $x^2=4$.", "solution": ["..."],
    "final_answer": ["$2$", "$-2$"], "context": None, "image_1": None, "image_2": None,
    "modality": "Text-only", "difficulty": "Competition",
    "is_multiple_answer": True, "unit": None, "answer_type": "Numerical", "error": None,
    "question_type": "Open-ended", "subfield": "Algebra", "subject": "Math", "language": "English",
}
ARC_ROW = {"id": "Mercury_1", "question": "Which is a gas?",
           "choices": {"text": ["ice", "steam", "rock"], "label": ["A", "B", "C"]}, "answerKey": "B"}

# (dataset, config, split) -> rows with that hub dataset's columns.
HUB: dict[tuple[str, str | None, str], list[dict[str, Any]]] = {
    ("HuggingFaceH4/MATH-500", None, "test"): [
        {"problem": "What is $1+1$?", "solution": "$\\boxed{2}$", "answer": "2", "subject": "Algebra",
         "level": 1, "unique_id": "test/algebra/1.json"},
        {"problem": "Convert $(0,3)$.", "solution": "...", "answer": "\\left( 3, \\frac{\\pi}{2} \\right)",
         "subject": "Precalculus", "level": 2, "unique_id": "test/precalculus/807.json"},
    ],
    ("HuggingFaceH4/aime_2024", None, "train"): [
        {"id": 60, "problem": "Find t.", "solution": "...", "answer": "204", "url": "u", "year": "2024"},
        {"id": 61, "problem": "Find n.", "solution": "...", "answer": "025", "url": "u", "year": "2024"},
    ],
    ("math-ai/amc23", None, "test"): [
        {"id": 0, "question": "How many miles?", "answer": 27.0, "url": "u"},
        {"id": 1, "question": "What is $x+y$?", "answer": 36.0, "url": "u"},
    ],
    ("math-ai/minervamath", None, "test"): [
        {"question": "Find the diameter in cm.", "answer": "1.6"},
        {"question": "Find the speed.", "answer": "3 \\times 10^{8} \\mathrm{~m/s}"},
    ],
    ("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train"): [
        OLYMPIAD_ROW,
        {**OLYMPIAD_ROW, "id": 2232, "final_answer": ["$\\frac{1}{2}$"], "is_multiple_answer": False},
    ],
    ("math-ai/aime25", None, "test"): [
        {"problem": "Find the sum of bases.", "answer": "70", "id": 0},
        {"problem": "Find the angle.", "answer": "336^\\circ", "id": 1},
    ],
    ("openai/gsm8k", "main", "test"): [
        {"question": "Janet's ducks?", "answer": "16 - 3 - 4 = 9\n#### 18"},
        {"question": "How many bolts?", "answer": "2 + 1 = 3\n#### 3"},
    ],
    ("allenai/ai2_arc", "ARC-Easy", "test"): [ARC_ROW, {**ARC_ROW, "id": "Mercury_2", "answerKey": "C"}],
    ("allenai/ai2_arc", "ARC-Challenge", "test"): [
        {**ARC_ROW, "id": "Mercury_3", "choices": {"text": ["a", "b"], "label": ["1", "2"]},
         "answerKey": "2"},
    ],
}


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, str]]:
    """The hub as in-memory ``datasets.Dataset`` objects; returns the calls made."""
    import datasets

    calls: list[tuple[str, str | None, str]] = []

    def load_dataset(path: str, name: str | None = None, *, split: str) -> datasets.Dataset:
        calls.append((path, name, split))
        return datasets.Dataset.from_list(HUB[(path, name, split)])

    monkeypatch.delenv("RLVR_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_download_all_reads_back_as_the_hub_items(
    fake_hub: list, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "data"
    assert rlvr_eval_main(["download", str(out), "--tasks", "all"]) == 0
    assert sorted(call for call in fake_hub) == sorted(set(fake_hub))  # each dataset fetched once...
    assert {(p, n, s) for p, n, s in fake_hub} == set(HUB)  # ... and every one of them
    for name in TASKS:
        path = out / name / "test.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        task = get_task(name)
        assert rows == HUB[(task.hf_dataset, task.hf_config, task.hf_split)]  # nothing renamed or lost
        offline = task.load(out)  # the local loader, as score --data-dir reads it
        assert offline == task.load()  # the hub path (the fake hub): same items, same references
        assert len(offline) == len(rows)
    printed = capsys.readouterr().out
    assert "math500: 2 items" in printed and "--data-dir" in printed
    # Spot checks against the hub rows themselves (not only "both paths agree"):
    assert [i.reference for i in get_task("aime24").load(out)] == ["204", "25"]
    assert [i.reference for i in get_task("amc23").load(out)] == ["27", "36"]
    assert get_task("minerva_math").load(out)[1].reference == "3 \\times 10^{8} \\mathrm{~m/s}"
    assert get_task("olympiadbench").load(out)[0].reference == "2, -2"
    assert get_task("arc_challenge").load(out)[0].reference == "B"


def test_download_default_is_the_paper_six_and_groups_expand(fake_hub: list, tmp_path: Path) -> None:
    assert rlvr_eval_main(["download", str(tmp_path / "a")]) == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        ["math500", "aime24", "amc23", "minerva_math", "olympiadbench", "aime25"])
    assert rlvr_eval_main(["download", str(tmp_path / "b"), "--tasks", "gsm8k,arc_easy"]) == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["arc_easy", "gsm8k"]


def test_download_with_the_hub_unreachable_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach 'HuggingFaceH4/MATH-500' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    assert rlvr_eval_main(["download", str(tmp_path / "data"), "--tasks", "math500"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rlvr-eval: error: could not load HuggingFaceH4/MATH-500")
    assert not (tmp_path / "data" / "math500" / "test.jsonl").exists()


def test_train_download_reads_back_as_the_hub_examples(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The paper's hub dataset in verl's layout, pi1 only under its repeated ``_r128`` split."""
    import datasets

    from rlvr_train.config import PAPER_HUB_DATASET, TrainConfig
    from rlvr_train.data import TRAIN_SUFFIX, load_examples, load_hub

    def verl_row(index: int, problem: str, answer: str) -> dict[str, Any]:
        return {"data_source": "deepscaler", "ability": "math",
                "prompt": [{"role": "user", "content": f"{problem} {TRAIN_SUFFIX}"}],
                "reward_model": {"ground_truth": answer, "style": "rule"},
                "extra_info": {"index": index, "split": "train"}}

    splits = {"pi1_r128": [verl_row(124, "Find the wind velocity.", "12.8")] * 128,
              "pi13": [verl_row(682, "Find $k$.", "\\frac{4}{3}")]}

    def load_dataset(path: str, name: str | None = None, *, split: str) -> datasets.Dataset:
        assert path == PAPER_HUB_DATASET
        if split not in splits:
            raise ValueError(f"Unknown split {split!r}")
        return datasets.Dataset.from_list(splits[split])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.delenv("RLVR_DATA_DIR", raising=False)
    from rlvr_train.cli import main as rlvr_train_main

    out = tmp_path / "data"
    assert rlvr_train_main(["download", str(out), "--examples", "pi1,pi13"]) == 0
    for name in ("pi1", "pi13"):
        local = load_examples(TrainConfig(example=name, data_dir=str(out)))
        hub = load_hub(name, PAPER_HUB_DATASET)
        assert [(e.index, e.question, e.answer) for e in local] == [
            (e.index, e.question, e.answer) for e in hub]
    assert len(load_examples(TrainConfig(example="pi1", data_dir=str(out)))) == 1  # 128 copies: one example
    assert rlvr_train_main(["download", str(tmp_path / "x"), "--examples", "pi2"]) == 2  # not on the hub
    assert "could not download example 'pi2' from ypwang61/One-Shot-RLVR-Datasets" in capsys.readouterr().err


def test_no_data_from_a_shared_folder_next_to_the_code(tmp_path: Path) -> None:
    """A checkout with ``../shared/benchmarks`` beside it: without --data-dir / RLVR_DATA_DIR the product
    must go to the hub (offline here: a one-line error), never read that folder."""
    repo = Path(__file__).resolve().parents[2]
    checkout = tmp_path / "checkout"
    for package in ("rlvr_eval", "rlvr_train"):
        shutil.copytree(repo / package, checkout / package, ignore=shutil.ignore_patterns("__pycache__"))
    shared = tmp_path / "shared" / "benchmarks"
    (shared / "math500").mkdir(parents=True)
    math_row = HUB[("HuggingFaceH4/MATH-500", None, "test")][0]
    (shared / "math500" / "test.jsonl").write_text(json.dumps(math_row) + "\n")
    (shared / "train").mkdir()
    (shared / "train" / "pi1.jsonl").write_text(json.dumps({"index": 1, "prompt": "Q", "answer": "1"}) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "RLVR_DATA_DIR"}
    env.update({"PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    probe = ("from rlvr_train.data import default_data_dir, find_named; "
             "from rlvr_train.config import TrainConfig; from rlvr_train.evaluation import eval_data_dir; "
             "print(default_data_dir(), find_named('pi1', None), eval_data_dir(TrainConfig()))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None", "None", "None"]
    score = subprocess.run(
        [sys.executable, "-m", "rlvr_eval.cli", "score", "some/model", "--backend", "hf",
         "--tasks", "math500", "--output-dir", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert score.returncode == 2 and "could not load HuggingFaceH4/MATH-500" in score.stderr, score.stderr
