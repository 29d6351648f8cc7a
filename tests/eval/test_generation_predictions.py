"""PredictionsBackend (saved completions) and the backend registry; no model needed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr_eval.generation import (
    BACKENDS,
    Backend,
    BackendError,
    SamplingParams,
    default_backend_name,
    derive_seed,
    get_backend,
)
from rlvr_eval.generation.base import cut_at_stop, occurrences
from rlvr_eval.generation.predictions import PredictionsBackend


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    rows = [
        # Written out of sample order on purpose: the backend must order by sample_index.
        {"task": "aime24", "item_id": "1", "sample_index": 1, "prompt": "P1", "completion": "b",
         "finish_reason": "length", "num_tokens": 9, "verdict": {"correct": False}},
        {"task": "aime24", "item_id": "1", "sample_index": 0, "prompt": "P1", "completion": "a"},
        {"task": "math500", "item_id": 7, "sample_index": 0, "prompt": "P2", "text": "\\boxed{2}"},
    ]
    return write_jsonl(tmp_path / "samples.jsonl", rows)


def test_serves_by_prompt_in_sample_order(saved: Path) -> None:
    backend = PredictionsBackend(saved)
    out = backend.generate(["P2", "P1"], SamplingParams(n=1))
    assert [c.text for c in out[0]] == ["\\boxed{2}"]
    assert [c.text for c in out[1]] == ["a"]
    two = backend.generate(["P1"], SamplingParams(n=2, temperature=0.6))[0]
    assert [(c.text, c.finish_reason, c.num_tokens) for c in two] == [("a", "stop", 0), ("b", "length", 9)]


def test_sample_indices_pick_saved_samples(saved: Path) -> None:
    backend = PredictionsBackend(saved)
    params = SamplingParams(n=1, temperature=0.6, sample_indices=[1])
    assert backend.generate(["P1"], params)[0][0].text == "b"
    assert backend.lookup("aime24", "1", params)[0].text == "b"


def test_lookup_by_task_and_item(saved: Path) -> None:
    backend = PredictionsBackend(saved)
    assert backend.lookup("math500", "7", SamplingParams())[0].text == "\\boxed{2}"
    with pytest.raises(BackendError, match="no saved completion for task 'math500' item '8'"):
        backend.lookup("math500", "8", SamplingParams())


def test_too_few_samples_is_an_error_unless_greedy(saved: Path) -> None:
    backend = PredictionsBackend(saved)
    with pytest.raises(BackendError, match=r"sample indices \[1, 2, 3\] are missing"):
        backend.generate(["P2"], SamplingParams(n=4, temperature=0.6))
    greedy = backend.generate(["P2"], SamplingParams(n=4))[0]
    assert len(greedy) == 4 and len({c.text for c in greedy}) == 1


def test_unknown_prompt_is_an_error(saved: Path) -> None:
    with pytest.raises(BackendError, match="no saved completion for prompt 'P3"):
        PredictionsBackend(saved).generate(["P3"], SamplingParams())


def test_task_filter_and_conflicts(tmp_path: Path) -> None:
    rows = [
        {"task": "a", "item_id": "1", "prompt": "same", "completion": "x"},
        {"task": "b", "item_id": "1", "prompt": "same", "completion": "y"},
    ]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    with pytest.raises(BackendError, match="pass task="):
        PredictionsBackend(path)
    assert PredictionsBackend(path, task="b").generate(["same"], SamplingParams())[0][0].text == "y"


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json\n", ":1: not a prediction record"), ('{"prompt": "p"}\n', ":1: not a prediction record")],
)
def test_bad_files_give_line_numbered_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BackendError, match=message):
        PredictionsBackend(path)
    with pytest.raises(BackendError, match="does not exist"):
        PredictionsBackend(tmp_path / "missing.jsonl")


def test_progress_and_protocol(saved: Path) -> None:
    backend = get_backend("predictions", path=saved)
    assert isinstance(backend, Backend)
    seen: list[int] = []
    backend.generate(["P1", "P2"], SamplingParams(), progress=seen.append)
    assert sum(seen) == 2


def test_registry() -> None:
    assert set(BACKENDS) == {"vllm", "hf", "openai", "predictions"}
    with pytest.raises(BackendError, match="unknown generation backend 'nope'"):
        get_backend("nope")
    expected = "vllm" if importlib.util.find_spec("vllm") is not None else "hf"
    assert default_backend_name() == expected


def test_derive_seed_depends_on_every_part() -> None:
    base = derive_seed(0, "prompt", 0, 0)
    assert base == derive_seed(0, "prompt", 0, 0)
    variants = {derive_seed(1, "prompt", 0, 0), derive_seed(0, "prompt2", 0, 0),
                derive_seed(0, "prompt", 1, 0), derive_seed(0, "prompt", 0, 1)}
    assert base not in variants and len(variants) == 4
    assert all(0 <= s < 2**31 for s in [*variants, base])
    assert occurrences(["a", "b", "a", "a"]) == [0, 0, 1, 2]


@given(st.text(max_size=40), st.lists(st.text(min_size=1, max_size=4), max_size=3))
def test_cut_at_stop_properties(text: str, stops: list[str]) -> None:
    cut, found = cut_at_stop(text, stops)
    assert text.startswith(cut)
    assert found == any(s in text for s in stops)
    assert not any(s in cut for s in stops)  # the earliest stop is cut, so no stop survives in the prefix


def test_cut_at_stop_uses_earliest_stop() -> None:
    assert cut_at_stop("x<|im_end|>y<|endoftext|>", ["<|endoftext|>", "<|im_end|>"]) == ("x", True)
    assert cut_at_stop("no stop here", ["<|im_end|>", ""]) == ("no stop here", False)


def test_sampling_params_validation() -> None:
    assert SamplingParams().greedy and SamplingParams().stop == ["<|im_end|>", "<|endoftext|>"]
    with pytest.raises(ValueError):
        SamplingParams(n=0)
    with pytest.raises(ValueError):
        SamplingParams(top_p=0.0)
    with pytest.raises(ValueError, match="sample_indices"):
        SamplingParams(n=2, sample_indices=[3])
    params = SamplingParams(n=2, sample_indices=[5, 7])
    assert [params.sample_index(i) for i in range(2)] == [5, 7]
    assert [SamplingParams(n=3).sample_index(i) for i in range(3)] == [0, 1, 2]
