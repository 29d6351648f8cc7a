"""OpenRLHF reward backed by rlvr's verifier: the custom ``reward_func`` hook and the shared scoring core.

Custom reward function (OpenRLHF loads a Python file given as ``--remote_rm_url`` and calls its
``reward_func``)::

    # my_reward.py
    from rlvr_eval.integrations.openrlhf import reward_func  # noqa: F401

    # train:  --remote_rm_url my_reward.py --label_key answer

Remote reward model: ``rlvr-eval serve-reward --port 5000`` and ``--remote_rm_url
http://HOST:5000/get_reward`` (see `rlvr_eval.integrations.reward_server`).

OpenRLHF's protocol, both ways: ``queries`` are prompt + response as decoded text, ``prompts`` the
prompts alone, ``labels`` the ``--label_key`` column (the reference answer); the reply is
``{"rewards": [...], "scores": [...], "extra_logs": {name: [...]}}``. ``rewards`` feed the
advantages, ``scores`` (0/1 here) OpenRLHF's dynamic filtering, ``extra_logs`` its logger.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rlvr_eval.config import VerifyTimeout
from rlvr_eval.integrations import reference_value, verdict_fields
from rlvr_eval.verifier.schema import AnswerFormat, LenientFallback, Verdict

__all__ = ["RewardSettings", "response_text", "reward_func", "score_queries"]


class RewardSettings(BaseModel):
    """How queries are graded and rewarded (shared by `reward_func` and the HTTP service)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_format: AnswerFormat = Field("boxed", description="Where the prompt asked for the final answer.")
    strict: bool = Field(True, description="Only the requested format counts as well-formatted.")
    lenient_fallback: LenientFallback = Field(
        "none", description="Lenient extraction when no answer is stated: none, or the last number."
    )
    timeout: VerifyTimeout = Field(3.0, description="Seconds per item for the symbolic comparison.")
    workers: int | None = Field(None, ge=0, description="verify_batch processes (None: per CPU; 0: here).")
    correct_reward: float = Field(1.0, description="Reward of a correct answer.")
    incorrect_reward: float = Field(0.0, description="Reward of a wrong or unformatted answer.")


def response_text(query: str, prompt: str | None) -> str:
    """The response part of an OpenRLHF query (prompt + response).

    The prompt is cut off where it occurs (a BOS token or template prefix may precede it after
    decoding); if it does not occur, the whole query is graded with the prompt passed to the
    verifier, which then ignores a ``\\boxed{}`` placeholder copied from it.
    """
    if not prompt:
        return query
    at = query.find(prompt)
    return query[at + len(prompt) :] if at >= 0 else query


def verdicts_for(
    queries: Sequence[str],
    prompts: Sequence[str | None] | None,
    labels: Sequence[Any],
    settings: RewardSettings,
) -> list[Verdict]:
    """One verdict per query; raises ValueError/TypeError with a one-line message on malformed input."""
    from rlvr_eval import verify_batch

    n = len(queries)
    if not all(isinstance(q, str) for q in queries):
        raise TypeError("every query must be a string")
    if prompts is None:
        prompts = [None] * n
    if len(prompts) != n or len(labels) != n:
        counts = f"{n} queries, {len(prompts)} prompts and {len(labels)} labels"
        raise ValueError(f"got {counts}; lengths must match")
    if not all(p is None or isinstance(p, str) for p in prompts):
        raise TypeError("every prompt must be a string")
    references = [reference_value(label, column="label") for label in labels]
    return verify_batch(
        [response_text(q, p) for q, p in zip(queries, prompts, strict=True)],
        references,
        workers=settings.workers,
        timeout=settings.timeout,
        answer_format=settings.answer_format,
        strict=settings.strict,
        prompts=[p or None for p in prompts],
        lenient_fallback=settings.lenient_fallback,
    )


def score_queries(
    queries: Sequence[str],
    prompts: Sequence[str | None] | None,
    labels: Sequence[Any],
    settings: RewardSettings,
) -> dict[str, Any]:
    """OpenRLHF's reply as plain lists: ``rewards``, ``scores``, ``extra_logs`` and per-item ``verdicts``."""
    verdicts = verdicts_for(queries, prompts, labels, settings)
    fields = [verdict_fields(v) for v in verdicts]
    return {
        "rewards": [settings.correct_reward if v.correct else settings.incorrect_reward for v in verdicts],
        "scores": [float(v.correct) for v in verdicts],
        "extra_logs": {
            "format_ok": [float(f["format_ok"]) for f in fields],
            "lenient_correct": [float(f["lenient_correct"]) for f in fields],
        },
        "verdicts": fields,
    }


def reward_func(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any
) -> dict[str, Any]:
    """OpenRLHF's custom reward hook: rewards, scores and extra logs as tensors.

    Keyword settings (``answer_format``, ``strict``, ``lenient_fallback``, ``timeout``, ``workers``,
    ``correct_reward``, ``incorrect_reward``) configure the grading; OpenRLHF's own extra keywords
    (``metas``...) are ignored. Without torch the values stay lists.
    """
    fields = set(RewardSettings.model_fields)
    settings = RewardSettings(**{k: v for k, v in kwargs.items() if k in fields})
    reply = score_queries(list(queries), list(prompts), list(labels), settings)
    try:
        import torch
    except ImportError:  # OpenRLHF always has torch; plain callers may not
        return {k: reply[k] for k in ("rewards", "scores", "extra_logs")}
    return {
        "rewards": torch.tensor(reply["rewards"], dtype=torch.float32),
        "scores": torch.tensor(reply["scores"], dtype=torch.float32),
        "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in reply["extra_logs"].items()},
    }
