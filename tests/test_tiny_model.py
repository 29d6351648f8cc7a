"""The shared tiny-model fixture: it must load like a real Qwen2 chat model and tokenize math losslessly."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import cast

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, PreTrainedTokenizerBase

from rlvr_train.tiny_model import DEFAULT_SYSTEM, build_tiny_model, build_tokenizer

# REFERENCE.md section 1: the paper's training prompt rendered with the Qwen2.5-Math chat template.
QUESTION = "What is $2^{11}$? Let's think step by step and output the final answer within \\boxed{}."
PAPER_PROMPT = (
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
    f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n"
)
LATEX_TEXTS = [
    "\\boxed{\\frac{4}{3}}",
    "The answer is $\\sqrt[3]{2048} \\approx 12.7$, not 12.8.",
    "Let's think step by step.\n\n1. $x^2 - 5x + 6 = 0$\n2. so $x \\in \\{2, 3\\}$ .",
    "  leading and trailing spaces , kept  ",
    "unicode: π ≈ 3.14159, ∞, α+β, 10{,}000, 50\\%",
    "\\left( \\dfrac{1}{2}, -\\infty \\right] \\text{ cm}^2",
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_chat_template_renders_the_qwen25_math_format(tokenizer: PreTrainedTokenizerBase) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    assert tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == PAPER_PROMPT
    # An explicit system turn replaces the default one; no generation prompt -> no trailing assistant turn.
    rendered = tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, *messages, {"role": "assistant", "content": "2048"}],
        tokenize=False,
    )
    assert rendered == (
        f"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n{QUESTION}<|im_end|>\n"
        "<|im_start|>assistant\n2048<|im_end|>\n"
    )
    assert DEFAULT_SYSTEM in PAPER_PROMPT


def test_special_tokens_are_single_ids_and_roles_are_set(tokenizer: PreTrainedTokenizerBase) -> None:
    markers = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in markers}
    assert len(set(ids.values())) == 3
    for token, token_id in ids.items():
        assert tokenizer(token, add_special_tokens=False).input_ids == [token_id]
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.bos_token is None
    # A prompt starts with <|im_start|> and nothing is prepended (Qwen has no BOS).
    assert tokenizer(PAPER_PROMPT).input_ids[0] == ids["<|im_start|>"]
    # Special tokens are dropped by skip_special_tokens, as generation backends rely on.
    plain = tokenizer.decode(tokenizer(PAPER_PROMPT).input_ids, skip_special_tokens=True)
    assert isinstance(plain, str) and plain.startswith("system\nPlease reason") and "<|im_end|>" not in plain


@pytest.mark.parametrize("text", LATEX_TEXTS)
def test_encode_decode_round_trip(tokenizer: PreTrainedTokenizerBase, text: str) -> None:
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == text


def test_digits_are_single_tokens_and_reload_matches_the_build(tokenizer: PreTrainedTokenizerBase) -> None:
    assert tokenizer.tokenize("2048") == ["2", "0", "4", "8"]  # Qwen splits numbers digit by digit
    built = build_tokenizer()
    for text in [*LATEX_TEXTS, PAPER_PROMPT]:
        assert tokenizer(text).input_ids == built(text).input_ids


def test_model_config_and_generation(tiny_model_dir: Path, tokenizer: PreTrainedTokenizerBase) -> None:
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    cfg = model.config
    assert cfg.model_type == "qwen2" and cfg.tie_word_embeddings
    assert cfg.hidden_size // cfg.num_attention_heads == 64  # vLLM's CPU attention needs head_dim 64
    assert (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.num_hidden_layers) == (2, 1, 2)
    assert cfg.vocab_size == len(tokenizer) == 512
    eos = {tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")}
    assert set(GenerationConfig.from_pretrained(tiny_model_dir).eos_token_id) == eos
    inputs = tokenizer(PAPER_PROMPT, return_tensors="pt")
    prompt_len = inputs.input_ids.shape[1]
    first = cast(torch.Tensor, model.generate(**inputs, max_new_tokens=6, min_new_tokens=6, do_sample=False))
    again = cast(torch.Tensor, model.generate(**inputs, max_new_tokens=6, min_new_tokens=6, do_sample=False))
    assert first.shape == (1, prompt_len + 6)
    assert torch.equal(first, again)
    assert torch.equal(first[0, :prompt_len], inputs.input_ids[0])
    assert int(first.max()) < len(tokenizer)


def test_build_is_fast_deterministic_and_seed_dependent(tmp_path: Path) -> None:
    start = time.perf_counter()
    a = build_tiny_model(tmp_path / "a", seed=0)
    elapsed = time.perf_counter() - start
    b = build_tiny_model(tmp_path / "b", seed=0)
    c = build_tiny_model(tmp_path / "c", seed=1)
    assert elapsed < 10.0, f"tiny model build took {elapsed:.1f} s"
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()
    assert json.loads((a / "config.json").read_text())["vocab_size"] == 512
    # Building does not reseed the caller's global RNG.
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_model(tmp_path / "d")
    assert torch.equal(torch.rand(3), expected)
