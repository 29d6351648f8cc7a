"""rlvr's verifier as the reward or metric of other RL and eval frameworks.

Every adapter is a thin shell around `rlvr_eval.verify` / `rlvr_eval.verify_batch`, so a reward
computed inside TRL, verl or OpenRLHF, or a score computed by lighteval, is the verdict rlvr's own
trainer and ``rlvr-eval`` would give on the same text:

- ``rlvr_eval.integrations.trl``: ``accuracy_reward`` / ``format_reward`` for ``GRPOTrainer``;
- ``rlvr_eval.integrations.verl``: ``compute_score`` for verl's custom reward function;
- ``rlvr_eval.integrations.openrlhf``: ``reward_func`` for OpenRLHF's custom reward hook;
- ``rlvr_eval.integrations.reward_server``: ``rlvr-eval serve-reward``, OpenRLHF's remote reward model;
- ``rlvr_eval.integrations.lighteval_tasks``: ``lighteval ... --custom-tasks`` module.

This package imports none of those frameworks: each adapter module imports only what it needs, and
the helpers below are shared by all of them (one place decides what a completion or a reference is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rlvr_eval.verifier.schema import Verdict

__all__ = ["completion_text", "reference_value", "verdict_fields"]


def _content_text(content: Any) -> str:
    """A message's content: a string, or a list of parts (``{"type": "text", "text": ...}``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            part.get("text") or "" if isinstance(part, Mapping) else str(part)
            for part in content
            if not isinstance(part, Mapping) or part.get("type", "text") == "text"
        )
    return "" if content is None else str(content)


def completion_text(completion: Any) -> str:
    """The text to grade: a plain string, or the last assistant turn of a chat message list.

    Only the last assistant turn holds the final answer (earlier turns in tool-calling rollouts are
    intermediate), so it alone is graded; a message list without roles uses its last message.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):  # a single message
        return _content_text(completion.get("content"))
    if isinstance(completion, Sequence):
        messages = [m for m in completion if isinstance(m, Mapping)]
        if len(messages) != len(completion):
            raise TypeError("a chat completion must be a list of message dicts")
        if not messages:
            return ""
        assistant = [m for m in messages if m.get("role", "assistant") == "assistant"]
        return _content_text((assistant or messages)[-1].get("content"))
    kind = type(completion).__name__
    raise TypeError(f"completion must be a string or a list of chat messages, got {kind}")


def reference_value(value: Any, *, column: str = "answer") -> str | list[str]:
    """A dataset value as a verifier reference: text, or a list of alternative answers.

    Numbers become text (a float such as 27.0 loses its ``.0``). A ``solution`` column holds a worked
    solution by convention (MATH, TRL's examples), so its last ``\\boxed{}`` is the reference.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{column}: {value!r} is not a reference answer")
    if isinstance(value, (list, tuple)):
        refs = [reference_value(v, column=column) for v in value]
        flat = [r for ref in refs for r in ([ref] if isinstance(ref, str) else ref)]
        if not flat:
            raise ValueError(f"{column}: empty list of reference answers")
        return flat
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if column == "solution" and ("\\boxed" in text or "\\fbox" in text):
        from rlvr_eval.verifier.extract import last_boxed_content

        boxed = last_boxed_content(text)
        if boxed:
            text = boxed.strip()
    if not text:
        raise ValueError(f"{column}: empty reference answer")
    return text


def verdict_fields(verdict: Verdict) -> dict[str, Any]:
    """The verdict as flat JSON-friendly fields (for logs, HTTP replies and framework dicts)."""
    return {
        "correct": verdict.correct,
        "format": verdict.format.value,
        "format_ok": verdict.format_ok,
        "content": verdict.content.value,
        "lenient_correct": verdict.lenient_correct,
        "extracted": verdict.extracted,
        "extraction_method": verdict.extraction_method,
    }
