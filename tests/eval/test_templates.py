"""Prompt templates: exact strings (the paper's prompts), file templates, chat templates, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlvr_eval.templates import TEMPLATES, TemplateError, answer_format_for, render_prompt, template_names

QWEN_SYSTEM = (
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
)
# A LaTeX question full of braces, including a literal "{question}" that must survive untouched.
QUESTION = "Find $\\frac{a}{b}$ if {question} and $x^{2}=4$."


def test_paper_eval_prompt_is_exact() -> None:
    expected = QWEN_SYSTEM + f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n"
    assert render_prompt(QUESTION) == expected
    assert render_prompt(QUESTION, "qwen25-math-cot") == expected


def test_paper_training_prompt_is_exact() -> None:
    expected = (
        QWEN_SYSTEM + "<|im_start|>user\n"
        f"{QUESTION} Let's think step by step and output the final answer within \\boxed{{}}."
        "<|im_end|>\n<|im_start|>assistant\n"
    )
    assert render_prompt(QUESTION, "qwen-boxed") == expected


def test_r1_and_plain() -> None:
    r1 = render_prompt("1+1?", "r1")
    assert r1.startswith("A conversation between User and Assistant.")
    assert "<think> </think> and <answer> </answer> tags" in r1
    assert r1.endswith("\nUser: 1+1?\nAssistant: <think>")
    assert render_prompt(QUESTION, "plain") == QUESTION


def test_every_named_template_has_one_placeholder_and_its_answer_format() -> None:
    assert set(template_names()) == {*TEMPLATES, "chat"}
    for name, text in TEMPLATES.items():
        assert text.count("{question}") == 1, name
        assert answer_format_for(name) == ("answer_tag" if "<answer>" in text else "boxed"), name
    assert answer_format_for("r1") == "answer_tag"
    assert answer_format_for("chat") == "boxed"


def test_file_template(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("Q: {question}\nA: \\boxed{", encoding="utf-8")
    assert render_prompt("2+2", str(path)) == "Q: 2+2\nA: \\boxed{"


def test_file_template_without_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("Q: {problem}", encoding="utf-8")
    with pytest.raises(TemplateError, match="placeholder"):
        render_prompt("2+2", str(path))


def test_unknown_template_lists_names() -> None:
    with pytest.raises(TemplateError, match="qwen25-math-cot"):
        render_prompt("2+2", "no-such-template")


def _tiny_tokenizer(chat_template: str | None):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", chat_template=chat_template)


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_chat_template_uses_tokenizer() -> None:
    tok = _tiny_tokenizer(CHATML)
    expected = f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n"
    assert render_prompt(QUESTION, "chat", tok) == expected


def test_chat_errors() -> None:
    with pytest.raises(TemplateError, match="needs a tokenizer"):
        render_prompt("2+2", "chat")
    with pytest.raises(TemplateError, match="no chat template"):
        render_prompt("2+2", "chat", _tiny_tokenizer(None))
