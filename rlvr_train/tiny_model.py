"""Build a tiny, randomly initialised Qwen2 chat model on disk, so end-to-end tests never touch the hub.

``build_tiny_model(out_dir)`` trains a byte-level BPE tokenizer (``tokenizers``) on a few hundred math-ish
strings, wraps it in ``PreTrainedTokenizerFast`` with Qwen's special tokens and a Qwen2.5-Math-style chat
template, and saves it beside a 2-layer ``Qwen2ForCausalLM``. The result loads with ``AutoTokenizer`` /
``AutoModelForCausalLM`` and with vLLM's CPU backend (head_dim 64: the CPU attention kernel refuses 16).
It takes about a second. Tests use the session fixture ``tiny_model_dir`` (``tests/conftest.py``); users get
it from ``rlvr-train tiny-model DIR``, to try the whole pipeline offline on a CPU.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

IM_START, IM_END, END_OF_TEXT = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
SPECIAL_TOKENS = [END_OF_TEXT, IM_START, IM_END]

# Qwen2.5-Math's default system line: its chat template adds it when the conversation has no system turn.
DEFAULT_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."

# Qwen-style template: <|im_start|>role\ncontent<|im_end|>\n per turn, default system turn as Qwen2.5-Math,
# "<|im_start|>assistant\n" when add_generation_prompt. Written for this fixture (no tools, no images).
CHAT_TEMPLATE = (  # Jinja string literals decode backslash escapes, hence the doubled backslashes
    "{%- if not messages or messages[0]['role'] != 'system' -%}"
    "{{- '<|im_start|>system\\nPlease reason step by step, and put your final answer within "
    "\\\\boxed{}.<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

_WORDS_TEXT = (
    "integer real number prime divisor remainder sum product difference quotient fraction decimal percent "
    "triangle circle square rectangle radius diameter area perimeter volume angle degrees side length "
    "polynomial root equation inequality function sequence series term probability expected value "
    "positive negative smallest largest greatest least common multiple factor digits base modulo "
    "points line slope intercept coordinate vector matrix determinant interval domain range solution "
    "Alice Bob coins dice cards apples minutes hours dollars each total how many ways there are is of "
    "the a an and or if then let be with for to in on at by from that which when where"
)
_WORDS = _WORDS_TEXT.split()
_PHRASES = [
    "Let's think step by step.",
    "Let's think step by step and output the final answer within \\boxed{}.",
    DEFAULT_SYSTEM,
    "The answer is",
    "Therefore, the final answer is",
    "We have",
    "so",
    "Solve for $x$:",
    "What is the value of",
    "Find the remainder when",
    "Compute",
]
_LATEX = [  # str.format patterns: {{ }} are literal braces
    "\\frac{{{a}}}{{{b}}}", "\\dfrac{{{a}}}{{{b}}}", "\\sqrt{{{a}}}", "{a}^{{{b}}}", "\\boxed{{{a}}}",
    "\\boxed{{\\frac{{{a}}}{{{b}}}}}", "x^2 + {a}x - {b} = 0", "\\left( {a}, {b} \\right)", "\\pi",
    "{a} \\cdot {b} = {c}", "\\text{{cm}}^2", "[{a}, {b})", "\\sin \\theta", "\\infty", "{a}.{b}",
    "-{a}", "{a}\\%",
]


def _corpus(seed: int, size: int = 400) -> Iterator[str]:
    """Deterministic math-ish training text: phrases, numbers, LaTeX and rendered chat turns."""
    rng = random.Random(seed)
    for i in range(size):
        a, b = rng.randint(0, 2048), rng.randint(1, 99)
        latex = rng.choice(_LATEX).format(a=a, b=b, c=a * b)
        phrase = rng.choice(_PHRASES)
        words = " ".join(rng.choices(_WORDS, k=rng.randint(3, 12)))
        text = f"{phrase} {words} ${latex}$ {a} + {b} = {a + b}."
        if i % 4 == 0:  # chat-rendered turns, so role names and newlines around markers get merges
            yield (
                f"{IM_START}system\n{DEFAULT_SYSTEM}{IM_END}\n{IM_START}user\n{text}{IM_END}\n"
                f"{IM_START}assistant\n{phrase} \\boxed{{{a}}}{IM_END}{END_OF_TEXT}"
            )
        else:
            yield text


def build_tokenizer(*, seed: int = 0, vocab_size: int = 512) -> PreTrainedTokenizerFast:
    """Byte-level BPE (lossless on any text) with Qwen's special tokens, pad and eos, and chat template."""
    tokenizer = Tokenizer(models.BPE())
    # Exactly Qwen2's pipeline (NFC, Qwen's split regex with one digit per token, bytes): AutoTokenizer
    # reloads a qwen2 model's tokenizer as Qwen2Tokenizer, which rebuilds this pipeline around the saved
    # merges, so any other choice would tokenize differently after the reload than during training.
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_corpus(seed), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=IM_END,
        pad_token=END_OF_TEXT,
        additional_special_tokens=[IM_START, IM_END],
        clean_up_tokenization_spaces=False,  # keep "x ." and " ," exactly: graders see the raw text
        model_max_length=2048,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(out_dir: Path, *, seed: int = 0, vocab_size: int = 512, head_dim: int = 64) -> Path:
    """Save a tiny Qwen2 chat model (tokenizer, config, weights, generation config) into ``out_dir``.

    Args:
        out_dir: created if missing; existing files of the same names are overwritten.
        seed: fixes the tokenizer corpus and the random weights, so two builds are identical.
        vocab_size: BPE target size (special tokens and the 256 byte symbols included).
        head_dim: attention head size; hidden size is 2 heads x head_dim (64 -> 128, vLLM CPU needs 64).

    Returns:
        ``out_dir``, ready for ``from_pretrained``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(seed=seed, vocab_size=vocab_size)
    im_end, end_of_text = (tokenizer.get_vocab()[token] for token in (IM_END, END_OF_TEXT))
    hidden = 2 * head_dim
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_attention_heads=2,
        num_key_value_heads=1,
        num_hidden_layers=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=im_end,
        pad_token_id=end_of_text,
        dtype="float32",
    )
    with torch.random.fork_rng(devices=[]):  # seed the weights without disturbing the caller's RNG
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    # Stop at either marker, as the paper's evaluation does; pad with <|endoftext|> like Qwen.
    model.generation_config = GenerationConfig(eos_token_id=[im_end, end_of_text], pad_token_id=end_of_text)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
