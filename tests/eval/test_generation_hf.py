"""HFBackend on a real (tiny, randomly initialised) Qwen2 model built locally: no hub access."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rlvr_eval.generation import BackendError, SamplingParams, get_backend
from rlvr_eval.generation.hf import HFBackend

PROMPTS = [
    "<|im_start|>user\nWhat is 3 plus 4?<|im_end|>\n<|im_start|>assistant\n",
    "What is 1",
    "a much longer prompt: what is 12 plus 19 plus 7 plus 3, and then the answer is",
]


@pytest.fixture(scope="module")
def backend(tiny_model_dir: Path) -> HFBackend:
    torch.set_num_threads(1)
    hf = HFBackend(str(tiny_model_dir), dtype="float32", batch_size=4)
    yield hf
    hf.close()


def test_shapes_and_sample_counts(backend: HFBackend) -> None:
    params = SamplingParams(n=3, temperature=1.0, max_tokens=6)
    out = backend.generate(PROMPTS, params)
    assert len(out) == len(PROMPTS)
    for samples in out:
        assert len(samples) == 3
        for completion in samples:
            assert 1 <= completion.num_tokens <= 6
            assert completion.finish_reason in ("stop", "length")
            assert all(stop not in completion.text for stop in params.stop)


def test_greedy_is_deterministic_and_copies_samples(backend: HFBackend) -> None:
    params = SamplingParams(n=2, max_tokens=8)
    first = backend.generate(PROMPTS, params)
    assert first == backend.generate(PROMPTS, params)
    for a, b in first:
        assert a == b


def test_sampling_is_reproducible_and_batch_independent(backend: HFBackend, tiny_model_dir: Path) -> None:
    params = SamplingParams(n=3, temperature=1.0, max_tokens=8, seed=7)
    batched = backend.generate(PROMPTS, params)
    assert batched == backend.generate(PROMPTS, params)
    # Same prompt alone, in another order, with another batch size: the same samples (per-sample seeds).
    alone = backend.generate([PROMPTS[1]], params)[0]
    assert alone == batched[1]
    assert backend.generate(PROMPTS[::-1], params)[::-1] == batched
    other = HFBackend(str(tiny_model_dir), dtype="float32", batch_size=1)
    assert other.generate(PROMPTS[:2], params) == batched[:2]
    # A resumed run asking only for samples 1 and 2 gets exactly those samples.
    tail = backend.generate(PROMPTS, params.model_copy(update={"n": 2, "sample_indices": [1, 2]}))
    assert tail == [samples[1:] for samples in batched]
    # A random model's 8-token samples differ between seeds and between sample indices.
    reseeded = backend.generate(PROMPTS, params.model_copy(update={"seed": 8}))
    assert reseeded != batched
    assert len({c.text for c in batched[0]}) > 1


def test_top_p_tiny_is_greedy(backend: HFBackend) -> None:
    # With top_p this small only the most likely token survives, so sampling must equal greedy decoding.
    greedy = backend.generate(PROMPTS, SamplingParams(max_tokens=8))
    nucleus = backend.generate(PROMPTS, SamplingParams(temperature=1.0, top_p=1e-6, max_tokens=8, seed=3))
    assert nucleus == greedy


def test_length_limit_reported(backend: HFBackend) -> None:
    out = backend.generate(PROMPTS, SamplingParams(max_tokens=3))
    reasons = [samples[0].finish_reason for samples in out]
    assert "length" in reasons
    for samples in out:
        if samples[0].finish_reason == "length":
            assert samples[0].num_tokens == 3


def test_stop_string_cuts_text_and_ends_early(backend: HFBackend) -> None:
    full = backend.generate([PROMPTS[2]], SamplingParams(max_tokens=16))[0][0]
    assert full.finish_reason == "length" and len(full.text) >= 4
    stop = full.text[2:4]
    cut = backend.generate([PROMPTS[2]], SamplingParams(max_tokens=16, stop=[stop]))[0][0]
    assert cut.finish_reason == "stop"
    assert cut.text == full.text[: full.text.find(stop)]
    assert cut.num_tokens < 16


def test_left_padding_batch_equals_single(backend: HFBackend) -> None:
    params = SamplingParams(max_tokens=10)
    batched = backend.generate(PROMPTS, params)
    singles = [backend.generate([p], params)[0] for p in PROMPTS]
    assert batched == singles


def test_progress_counts_every_prompt_once(backend: HFBackend) -> None:
    seen: list[int] = []
    backend.generate(PROMPTS * 2, SamplingParams(n=2, temperature=0.7, max_tokens=2), progress=seen.append)
    assert sum(seen) == 2 * len(PROMPTS)
    assert all(k > 0 for k in seen)


def test_no_prompts_and_empty_prompt(backend: HFBackend) -> None:
    assert backend.generate([], SamplingParams(n=2, temperature=1.0)) == []
    with pytest.raises(BackendError, match="prompt 1 is empty"):
        backend.generate(["x", ""], SamplingParams())


def test_registry_builds_hf(tiny_model_dir: Path) -> None:
    hf = get_backend("hf", model=str(tiny_model_dir), dtype="float32")
    assert hf.name == "hf"
    assert hf.generate(["What is 1"], SamplingParams(max_tokens=2))[0][0].num_tokens == 2
    hf.close()
    with pytest.raises(BackendError, match="closed"):
        hf.generate(["What is 1"], SamplingParams(max_tokens=2))


def test_missing_model_path_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="does not exist") as info:
        HFBackend(str(tmp_path / "no-such-model"))
    assert "\n" not in str(info.value)


def test_bad_dtype_is_rejected(tiny_model_dir: Path) -> None:
    with pytest.raises(BackendError, match="unknown dtype"):
        HFBackend(str(tiny_model_dir), dtype="float99")


def test_token_id_prompts_and_generated_ids(backend: HFBackend) -> None:
    """Token-id prompts give the samples of their text (seeds differ: the key is the prompt as given),
    and ``token_ids`` are exactly the generated tokens, the end token included when one ended it."""
    tokenizer = backend.tokenizer
    ids = [tokenizer(p)["input_ids"] for p in PROMPTS]
    greedy = SamplingParams(max_tokens=12)
    assert backend.generate(ids, greedy) == backend.generate(PROMPTS, greedy)  # greedy: no seed involved
    params = SamplingParams(n=3, temperature=1.0, max_tokens=12, seed=3)
    ends = set(backend._split_stops(params.stop)[0])
    for samples in backend.generate(ids, params):
        for c in samples:
            assert len(c.token_ids) == c.num_tokens >= 1
            assert (c.finish_reason == "stop") == (c.token_ids[-1] in ends)
            assert not ends & set(c.token_ids[:-1])  # nothing after the first end token
            assert tokenizer.decode(list(c.token_ids), skip_special_tokens=True) == c.text


def test_min_tokens_forces_full_length(backend: HFBackend) -> None:
    params = SamplingParams(n=2, temperature=1.0, max_tokens=20, min_tokens=20, seed=1)
    out = backend.generate(PROMPTS, params)
    assert all(c.finish_reason == "length" and len(c.token_ids) == 20 for samples in out for c in samples)


def test_a_share_with_whole_request_occurrences_draws_the_whole_requests_samples(backend: HFBackend) -> None:
    """A rank generating copies 1 and 3 of a prompt repeated 4 times gets the samples one process drew
    for those copies (the trainer splits a one-shot step this way)."""
    params = SamplingParams(n=2, temperature=1.0, max_tokens=8, seed=5)
    whole = backend.generate([PROMPTS[1]] * 4, params)
    assert whole[0] != whole[1]  # the copies are distinct samples
    share = backend.generate([PROMPTS[1]] * 2, params.model_copy(update={"occurrences": [1, 3]}))
    assert share == [whole[1], whole[3]]
    with pytest.raises(BackendError, match="occurrences"):
        backend.generate([PROMPTS[1]], params.model_copy(update={"occurrences": [0, 1]}))


def test_from_model_follows_the_live_weights_and_keeps_train_mode(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    live = HFBackend.from_model(model, tokenizer, batch_size=2)
    loaded = HFBackend(str(tiny_model_dir), dtype="float32", batch_size=2)
    params = SamplingParams(n=2, temperature=1.0, max_tokens=8, seed=9)
    model.train()
    assert live.generate(PROMPTS, params) == loaded.generate(PROMPTS, params)
    assert model.training  # switched to eval for the call only
    before = live.generate(PROMPTS, SamplingParams(max_tokens=8))
    with torch.no_grad():  # an optimizer step in place: the next call sees it
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(0)) * 0.5)
    assert live.generate(PROMPTS, SamplingParams(max_tokens=8)) != before
    live.close()
    assert model.training and next(model.parameters()).requires_grad  # closing leaves the policy alone
