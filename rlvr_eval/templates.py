"""Prompt templates: how a benchmark question becomes the exact string a model sees.

Scores move by many points with the prompt, so templates are named, exact strings kept in one
dict (no per-benchmark prompt copies). ``qwen25-math-cot`` is the evaluation prompt of the 1-shot
RLVR paper (arXiv 2504.20571, via the Qwen2.5-Math evaluation harness); ``qwen-boxed`` is its
*training* prompt (the problem plus "Let's think step by step ..." under the same system line).

A template is either a name from ``TEMPLATES``, ``"chat"`` (the tokenizer's own chat template), or a
path to a text file containing the placeholder ``{question}``. The placeholder is filled with
``str.replace``, never ``str.format``: questions are LaTeX and full of braces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlvr_eval.verifier.schema import AnswerFormat

PLACEHOLDER = "{question}"

_QWEN_SYSTEM = (
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
)

TEMPLATES: dict[str, str] = {
    # Paper evaluation prompt (Qwen2.5-Math harness "qwen25-math-cot").
    "qwen25-math-cot": _QWEN_SYSTEM + "<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n",
    # Paper training prompt: the verl data files append this suffix to every problem.
    "qwen-boxed": _QWEN_SYSTEM
    + "<|im_start|>user\n{question} Let's think step by step and output the final answer within \\boxed{}."
    "<|im_end|>\n<|im_start|>assistant\n",
    # DeepSeek-R1-Zero style (arXiv 2501.12948, Table 1), as used by R1-Zero replications.
    "r1": "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The reasoning process and answer are enclosed within <think> </think> and "
    "<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> "
    "<answer> answer here </answer>.\nUser: {question}\nAssistant: <think>",
    # The bare question, for base models probed without any scaffolding.
    "plain": "{question}",
}

CHAT = "chat"
"""Pseudo-template name: render with ``tokenizer.apply_chat_template`` (user turn + generation prompt)."""


class TemplateError(ValueError):
    """A template name, file or tokenizer cannot be used; the message says which and why."""


def template_names() -> list[str]:
    """All named templates, including ``chat``."""
    return [*TEMPLATES, CHAT]


def load_template(template: str) -> str:
    """Return the template text for a name or a file path (not for ``chat``, which needs a tokenizer).

    Resolve once and reuse when rendering many prompts from a file template.
    """
    if template in TEMPLATES:
        return TEMPLATES[template]
    if template == CHAT:
        raise TemplateError("template 'chat' has no fixed text; it is rendered by the tokenizer")
    path = Path(template).expanduser()
    if not path.is_file():
        raise TemplateError(
            f"unknown template {template!r}: not one of {', '.join(template_names())} nor an existing file"
        )
    text = path.read_text(encoding="utf-8")
    if PLACEHOLDER not in text:
        raise TemplateError(f"template file {str(path)!r} does not contain the placeholder {PLACEHOLDER}")
    return text


def render_prompt(question: str, template: str = "qwen25-math-cot", tokenizer: Any = None) -> str:
    """Render ``question`` with a named template, a template file, or the tokenizer's chat template."""
    if template == CHAT:
        return _render_chat(question, tokenizer)
    return load_template(template).replace(PLACEHOLDER, question)


def _render_chat(question: str, tokenizer: Any) -> str:
    if tokenizer is None:
        raise TemplateError("template 'chat' needs a tokenizer (its chat template renders the prompt)")
    if not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
        raise TemplateError(f"template 'chat': tokenizer {name!r} has no chat template; use a named template")
    messages = [{"role": "user", "content": question}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if not isinstance(text, str):  # some tokenizer versions return a list for batched input
        raise TemplateError(f"template 'chat': apply_chat_template returned {type(text).__name__}, not str")
    return text


def answer_format_for(template: str) -> AnswerFormat:
    """The answer format a template asks for: ``answer_tag`` for one whose text asks for ``<answer>`` tags
    (r1, or such a template file; a box inside the tags is read too), else ``boxed``."""
    if template == CHAT:
        return "boxed"
    try:
        text = load_template(template)
    except (TemplateError, OSError, UnicodeDecodeError):
        return "boxed"  # not a usable template: rendering reports that, with the reason
    return "answer_tag" if "<answer>" in text else "boxed"


def run_answer_format(task_format: AnswerFormat, template: str) -> AnswerFormat:
    """The format a run grades a benchmark's answers in: the template's where it asks for one other than
    the box every benchmark prompt assumes (r1's ``<answer>`` tags), else the benchmark's own.

    Without this an ``--template r1`` run would be graded for boxes it never asked for (strict 0).
    """
    asked = answer_format_for(template)
    return asked if asked != "boxed" else task_format
