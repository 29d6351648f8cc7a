"""VLLMBackend with real vLLM (the CPU build works) on the tiny model; slow, skipped without vllm.

vLLM starts its engine with ``spawn``, so generation runs in a child script whose entry point sits
under ``if __name__ == "__main__":``; the script prints its results as JSON and the test checks them
here, against the HF backend on the same model. Set up an environment with ``scripts/setup_vllm_cpu.sh``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rlvr_eval.generation import BackendError, SamplingParams

HAS_VLLM = importlib.util.find_spec("vllm") is not None
needs_vllm = pytest.mark.skipif(not HAS_VLLM, reason="vllm is not installed (see scripts/setup_vllm_cpu.sh)")

PROMPTS = [
    "<|im_start|>user\nWhat is 3 plus 4?<|im_end|>\n<|im_start|>assistant\n",
    "What is 1",
    "a much longer prompt: what is 12 plus 19 plus 7 plus 3, and then the answer is",
]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from rlvr_eval.generation import BackendError, SamplingParams, get_backend

    def dump(outputs):
        return [[c.model_dump() for c in samples] for samples in outputs]

    if __name__ == "__main__":
        model, dp, prompts = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(model)
        ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        backend = get_backend("vllm", model=model, dtype="float32", gpu_memory_utilization=0.1,
                              enforce_eager=True, max_model_len=256, data_parallel_size=dp, chunk_size=2)
        sampled = SamplingParams(n=3, temperature=1.0, max_tokens=8, seed=11)
        seen = []
        result = {
            "greedy": dump(backend.generate(prompts, SamplingParams(n=2, max_tokens=8))),
            "short": dump(backend.generate(prompts, SamplingParams(max_tokens=3))),
            "sampled": dump(backend.generate(prompts, sampled, progress=seen.append)),
            "sampled_again": dump(backend.generate(prompts, sampled)),
            "sampled_alone": dump(backend.generate(prompts[1:2], sampled)),
            "sampled_reversed": dump(backend.generate(prompts[::-1], sampled)),
            "sampled_tail": dump(backend.generate(
                prompts, sampled.model_copy(update={"n": 2, "sample_indices": [1, 2]}))),
            "reseeded": dump(backend.generate(prompts, sampled.model_copy(update={"seed": 12}))),
            "progress": seen,
            "ids_greedy": dump(backend.generate(ids, SamplingParams(n=2, max_tokens=8))),
            "forced": dump(backend.generate(prompts, SamplingParams(max_tokens=6, min_tokens=6))),
        }
        backend.close()
        try:
            backend.generate(prompts, sampled)
            result["closed_error"] = None
        except BackendError as err:
            result["closed_error"] = str(err)
        print("RESULT " + json.dumps(result))
    """
)


def run_vllm(tmp_path: Path, model: Path, data_parallel_size: int) -> dict[str, Any]:
    script = tmp_path / "run_vllm.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(script), str(model), str(data_parallel_size), json.dumps(PROMPTS)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"vLLM script failed:\n{proc.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.fixture(scope="module")
def hf_reference(tiny_model_dir: Path) -> dict[str, Any]:
    """Greedy HF results on the same model: an independent implementation to agree with."""
    from rlvr_eval.generation.hf import HFBackend

    hf = HFBackend(str(tiny_model_dir), dtype="float32")
    greedy = hf.generate(PROMPTS, SamplingParams(max_tokens=8))
    hf.close()
    return {"greedy": [[c.model_dump() for c in samples] for samples in greedy]}


def check_results(result: dict[str, Any], hf_reference: dict[str, Any]) -> None:
    greedy = result["greedy"]
    assert [len(samples) for samples in greedy] == [2, 2, 2]
    assert all(samples[0] == samples[1] for samples in greedy)
    # Two implementations, one model: greedy text agrees (float32, 8 tokens of a random model), and so
    # do the generated token ids, the end token included (the trainer learns from them).
    assert [samples[0]["text"] for samples in greedy] == [s[0]["text"] for s in hf_reference["greedy"]]
    hf_ids = [list(s[0]["token_ids"]) for s in hf_reference["greedy"]]
    assert [samples[0]["token_ids"] for samples in greedy] == hf_ids
    assert result["ids_greedy"] == greedy  # token-id prompts: the same samples as their text
    for samples in result["forced"]:  # min_tokens = max_tokens: every sample runs to the limit
        assert samples[0]["finish_reason"] == "length" and len(samples[0]["token_ids"]) == 6
    for samples in result["short"]:
        assert samples[0]["num_tokens"] <= 3
        if samples[0]["finish_reason"] == "length":
            assert samples[0]["num_tokens"] == 3
    assert "length" in [samples[0]["finish_reason"] for samples in result["short"]]
    sampled = result["sampled"]
    assert [len(samples) for samples in sampled] == [3, 3, 3]
    assert result["sampled_again"] == sampled
    assert result["sampled_alone"] == sampled[1:2]  # per-sample seeds: independent of the batch
    assert result["sampled_reversed"] == sampled[::-1]
    assert result["sampled_tail"] == [samples[1:] for samples in sampled]  # resuming at sample 1
    assert result["reseeded"] != sampled
    assert sum(result["progress"]) == len(PROMPTS)
    assert "closed" in result["closed_error"]


@pytest.fixture(scope="module")
def single_engine(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Any]:
    return run_vllm(tmp_path_factory.mktemp("vllm1"), tiny_model_dir, 1)


@pytest.mark.slow
@needs_vllm
def test_vllm_offline_generation(single_engine: dict[str, Any], hf_reference: dict[str, Any]) -> None:
    check_results(single_engine, hf_reference)


@pytest.mark.slow
@needs_vllm
def test_vllm_data_parallel_replicas(
    tmp_path: Path, tiny_model_dir: Path, single_engine: dict[str, Any], hf_reference: dict[str, Any]
) -> None:
    # Two engine processes sharing chunks of requests: every sample equals the single engine's.
    replicas = run_vllm(tmp_path, tiny_model_dir, 2)
    check_results(replicas, hf_reference)
    assert replicas["sampled"] == single_engine["sampled"]


def test_missing_model_path(tmp_path: Path) -> None:
    from rlvr_eval.generation.vllm_backend import VLLMBackend

    with pytest.raises(BackendError, match="does not exist"):
        VLLMBackend(str(tmp_path / "nope"))


@pytest.mark.skipif(HAS_VLLM, reason="checks the error shown when vllm is missing")
def test_missing_vllm_gives_install_hint(tmp_path: Path) -> None:
    from rlvr_eval.generation import get_backend

    with pytest.raises(BackendError, match=r"pip install 'rlvr\[vllm\]'"):
        get_backend("vllm", model=str(tmp_path))  # an existing directory: the path check passes
