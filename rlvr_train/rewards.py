"""What the verifier's verdicts mean for training: the reward of each response, and a step's outcome metrics.

The reward is the paper's (arXiv 2504.20571; its verl reward scores the last ``\\boxed{}`` of the
decoded response): the last requested-format answer against the label, whatever the finish reason.
This is the one place where "truncated", "boxed" and "correct" are read from a ``Verdict``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from rlvr_train.config import TrainConfig
from rlvr_train.data import Example
from rlvr_train.rollout import Rollouts


def grade_responses(
    verify_fn: Callable[..., Sequence[Any]],
    texts: Sequence[str],
    examples: Sequence[Example],
    finish_reasons: Sequence[str],
    cfg: TrainConfig,
) -> Sequence[Any]:
    """Verdicts of one step's responses, graded exactly as ``rlvr-eval`` grades a benchmark item.

    The question goes with each response (``prompts``), as the evaluation runner passes it: a response
    that only restates the question's expression is not credited, and "round to the nearest tenth"
    makes a decimal reference rounded. Without it, reward and evaluation score would disagree.
    """
    return verify_fn(
        list(texts), [e.answer for e in examples], prompts=[e.question for e in examples],
        workers=cfg.verify_workers, timeout=cfg.verify_timeout, finish_reasons=list(finish_reasons),
        answer_format=cfg.answer_format, strict=cfg.strict, lenient_fallback=cfg.lenient_fallback,
    )


def step_rewards(verdicts: Sequence[Any], finish_reasons: Sequence[str], cfg: TrainConfig) -> torch.Tensor:
    """``[N]`` rewards of one step's responses (see ``reward_of``)."""
    pairs = zip(verdicts, finish_reasons, strict=True)
    rewards = [reward_of(verdict, cfg, reason == "length") for verdict, reason in pairs]
    return torch.tensor(rewards, dtype=torch.float32)


def reward_of(verdict: Any, cfg: TrainConfig, truncated: bool) -> float:
    """The scalar reward of one verdict under the configured reward mode.

    ``verifier`` is the paper's reward: 1 when the last answer in the requested format (a non-empty
    ``\\boxed{}``) equals the reference, whether or not the response ran to the token limit; with
    ``strict=False`` an answer found by the lenient fallback counts too. ``truncated_reward="zero"``
    gives a truncated response 0 instead (an overlong penalty, not the paper's rule).
    """
    if cfg.reward == "entropy":  # entropy-only ablation: no outcome signal at all
        return 0.0
    if truncated and cfg.truncated_reward == "zero":
        return 0.0
    if cfg.reward == "format":  # the paper's format-only baseline: any non-empty boxed answer earns 1
        return 1.0 if has_requested_answer(verdict) else 0.0
    if cfg.reward == "verifier":
        return 1.0 if answer_correct(verdict, cfg.strict) else 0.0
    raise ValueError(f"unknown reward mode {cfg.reward!r}")


def answer_correct(verdict: Any, strict: bool) -> bool:
    """The response's answer equals the reference, truncated or not: in the requested format when
    ``strict`` (the paper), else wherever the lenient extraction found it."""
    return bool(verdict.lenient_correct) and (has_requested_answer(verdict) or not strict)


def has_requested_answer(verdict: Any) -> bool:
    """An answer was found in the requested format (a non-empty box), whatever else went wrong.

    ``format_ok`` is not used: it is False for truncated responses even when they hold a box, and
    with ``strict=False`` it is True for unboxed fallbacks.
    """
    return bool(verdict.answered_in_format)


def step_metrics(
    step: int, rollouts: Rollouts, verdicts: Sequence[Any], rewards: torch.Tensor,
    advantages: torch.Tensor, owner: list[int], examples: list[Example], group_size: int, strict: bool = True,
) -> dict[str, Any]:
    """Outcome statistics of one step, including per-example accuracy (for ``rlvr-train rank``).

    ``accuracy`` is the share of responses whose answer is right by the training rule (truncated or
    not); ``truncated_rewarded`` the share of truncated responses that still earned reward (None when
    none was truncated).
    """
    n = len(verdicts)
    correct = [answer_correct(v, strict) for v in verdicts]
    lengths = [len(r) for r in rollouts.response_ids]
    truncated = [r == "length" for r in rollouts.finish_reasons]
    per_example: dict[str, list[bool]] = {}
    for j, ok in enumerate(correct):
        per_example.setdefault(examples[owner[j]].index, []).append(ok)
    groups = rewards.view(-1, group_size)  # [B, G]
    paid_cut = [r > 0 for r, cut in zip(rewards.tolist(), truncated, strict=True) if cut]  # truncated
    return {
        "kind": "train",
        "step": step,
        "reward_mean": float(rewards.mean()),
        "reward_std": float(rewards.std()) if n > 1 else 0.0,
        "accuracy": sum(correct) / n,
        "format_rate": sum(has_requested_answer(v) for v in verdicts) / n,
        "lenient_accuracy": sum(getattr(v, "lenient_correct", False) for v in verdicts) / n,
        "adv_mean": float(advantages.mean()),
        "adv_std": float(advantages.std()) if n > 1 else 0.0,
        "adv_abs_max": float(advantages.abs().max()),
        # groups whose rewards are all equal (all right or all wrong) get zero advantage: no signal
        "zero_std_groups": float((groups.amax(dim=1) == groups.amin(dim=1)).float().mean()),
        "response_length": sum(lengths) / n,
        "response_length_max": max(lengths),
        "truncation_rate": sum(truncated) / n,
        "truncated_rewarded": sum(paid_cut) / len(paid_cut) if paid_cut else None,
        "example_accuracy": {k: sum(v) / len(v) for k, v in per_example.items()},
    }
