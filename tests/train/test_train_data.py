"""Training data: named examples from the local data dir, inline problems, JSONL files, batching."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_train import data as data_mod
from rlvr_train.config import TrainConfig
from rlvr_train.data import TRAIN_SUFFIX, DataError, batch_indices, load_examples, read_jsonl, strip_suffix

REPO = Path(__file__).resolve().parents[2]


def _data_dir() -> Path | None:
    env = os.environ.get("RLVR_DATA_DIR")
    path = Path(env) if env else REPO.parent / "shared" / "benchmarks"
    return path if (path / "train" / "pi1.jsonl").is_file() else None


needs_data = pytest.mark.skipif(_data_dir() is None, reason="local data (train/pi1.jsonl) not found")


@needs_data
def test_pi1_from_local_data_dir() -> None:
    (ex,) = load_examples(TrainConfig(example="pi1", data_dir=str(_data_dir())))
    assert ex.index == "124" and ex.answer == "12.8"
    assert ex.question.startswith("The pressure") and ex.question.endswith("pounds.")
    assert "Let's think step by step" not in ex.question  # the template adds it back


@needs_data
@pytest.mark.parametrize(("name", "index", "answer"), [("pi2", "267", "24"), ("pi13", "682", "\\frac{4}{3}")])
def test_other_named_examples(name: str, index: str, answer: str) -> None:
    (ex,) = load_examples(TrainConfig(example=name, data_dir=str(_data_dir())))
    assert (ex.index, ex.answer) == (index, answer)


def test_named_example_missing_from_given_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"train/pi1\.jsonl"):
        load_examples(TrainConfig(example="pi1", data_dir=str(tmp_path)))


def test_hub_unreachable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("no route to host")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    monkeypatch.setattr(data_mod, "default_data_dir", lambda: None)
    with pytest.raises(DataError) as info:
        load_examples(TrainConfig(example="pi1"))
    message = str(info.value)
    assert "ypwang61/One-Shot-RLVR-Datasets" in message and "--data-dir" in message
    assert "ConnectionError" in message


def test_inline_problem_strips_training_suffix() -> None:
    (ex,) = load_examples(TrainConfig(problem=f"What is 3+4? {TRAIN_SUFFIX}", answer=" 7 "))
    assert (ex.question, ex.answer, ex.index) == ("What is 3+4?", "7", "0")


def test_strip_suffix_leaves_other_text() -> None:
    assert strip_suffix("Compute 2+2.") == "Compute 2+2."
    assert strip_suffix(f"Compute 2+2. {TRAIN_SUFFIX}\n") == "Compute 2+2."


def test_jsonl_fields_and_verl_layout(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [
        {"problem": "A?", "answer": 3.0},
        {"prompt": [{"role": "user", "content": f"B? {TRAIN_SUFFIX}"}], "reward_model": {"ground_truth": "x"},
         "extra_info": {"index": 42}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    a, b = read_jsonl(path)
    assert (a.index, a.question, a.answer) == ("0", "A?", "3")
    assert (b.index, b.question, b.answer) == ("42", "B?", "x")


@pytest.mark.parametrize(
    ("content", "needle"),
    [("", "no examples"), ("\n\n", "no examples"), ('{"prompt": "A?"}\n', "no 'answer'"),
     ('{"answer": "1"}\n', "no 'prompt'"), ("not json\n", "invalid JSON"), ("[1]\n", "JSON object")],
)
def test_bad_jsonl_files(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=needle):
        read_jsonl(path)


def test_one_example_fills_the_batch() -> None:
    assert batch_indices(1, 128, step=17, seed=3) == [0] * 128


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), batch=st.integers(1, 20), steps=st.integers(1, 6), seed=st.integers(0, 5))
def test_batches_walk_through_epochs(n: int, batch: int, steps: int, seed: int) -> None:
    stream = [i for s in range(steps) for i in batch_indices(n, batch, s, seed)]
    counts = Counter(stream)
    # a prefix of concatenated permutations: every example seen floor(L/n) or ceil(L/n) times
    assert set(counts) <= set(range(n))
    assert max(counts.values()) - min(counts.get(i, 0) for i in range(n)) <= 1
    # the batch of a step depends only on the step (resume-safe)
    assert batch_indices(n, batch, steps - 1, seed) == stream[(steps - 1) * batch :]


def test_eval_data_dir_falls_back_to_the_training_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from rlvr_train.evaluation import eval_data_dir

    monkeypatch.setattr(data_mod, "default_data_dir", lambda: Path("/elsewhere"))
    assert eval_data_dir(TrainConfig(eval_data_dir="/bench", data_dir="/data")) == "/bench"
    assert eval_data_dir(TrainConfig(data_dir="/data")) == "/data"
    assert eval_data_dir(TrainConfig()) == "/elsewhere"
