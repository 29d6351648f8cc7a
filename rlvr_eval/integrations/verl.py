"""verl custom reward function backed by rlvr's verifier.

In a verl PPO/GRPO config (by module, or by this file's path)::

    reward.custom_reward_function.path=pkg://rlvr_eval.integrations.verl
    reward.custom_reward_function.name=compute_score
    # optional: reward.custom_reward_function.reward_kwargs.strict=false

verl's reward managers call ``compute_score(data_source=..., solution_str=..., ground_truth=...,
extra_info=...)`` once per response, merging ``reward_kwargs`` into the keywords, and accept a dict
with a ``score`` key; every other key becomes a per-sample column of ``reward_extra_info`` (strings
are logged, numbers are also averaged in validation metrics, ``pred`` feeds verl's majority vote).

Safe in Ray workers and executor threads: `rlvr_eval.verify` bounds slow comparisons with a killable
worker process, never with signals, so the timeout holds off the main thread (verl's own
``compute_score_timeout`` relies on SIGALRM and silently does nothing there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from rlvr_eval.integrations import reference_value, verdict_fields
from rlvr_eval.verifier.schema import AnswerFormat, LenientFallback

__all__ = ["answer_format_for", "compute_score"]

_FORMATS: tuple[AnswerFormat, ...] = get_args(AnswerFormat)


def answer_format_for(data_source: Any) -> AnswerFormat:
    """The answer format of an rlvr benchmark named by ``data_source`` ("math500", "allenai/ai2_arc"...).

    The last path component is matched against rlvr's task names; unknown sources get ``boxed``
    (the paper's training and evaluation format). rlvr's gsm8k prompt asks for a box too; verl's
    gsm8k example prompt asks for ``#### 42``, so pass ``reward_kwargs.answer_format=gsm8k`` there.
    """
    from rlvr_eval.tasks import TASKS, get_task

    name = str(data_source or "").rstrip("/").rsplit("/", 1)[-1].lower().replace("-", "_")
    if name == "ai2_arc":
        name = "arc_challenge"
    if name in TASKS:
        return get_task(name).answer_format
    return "boxed"


def _ground_truth(value: Any) -> str | list[str]:
    if hasattr(value, "tolist") and not isinstance(value, str):  # a numpy array from a parquet column
        value = value.tolist()
    return reference_value(value, column="ground_truth")


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    answer_format: AnswerFormat | None = None,
    strict: bool = True,
    lenient_fallback: LenientFallback = "none",
    timeout: float = 3.0,
    correct_reward: float = 1.0,
    incorrect_reward: float = 0.0,
    **_ignored: Any,
) -> dict[str, Any]:
    """Grade one response; verl's dict form: ``score`` plus format and correctness fields.

    Args:
        data_source: the dataset's source name; picks the answer format of a known rlvr benchmark.
        solution_str: the decoded response.
        ground_truth: ``reward_model.ground_truth`` (a string, a number, or a list of alternatives).
        extra_info: the row's ``extra_info``; ``question`` (checked for restated expressions),
            ``answer_format`` and ``finish_reason`` are used when present.
        answer_format: overrides the format (else ``extra_info["answer_format"]``, else by source).
        strict, lenient_fallback, timeout: as in `rlvr_eval.verify`.
        correct_reward, incorrect_reward: ``score`` for a pass / a fail.

    Returns:
        ``score`` (float), ``acc`` (1.0 if correct), ``format_ok`` and ``lenient_acc`` (0/1 floats),
        ``format``, ``content``, ``extraction_method`` (status strings) and ``pred`` (the extracted
        answer, "" if none). The keys are the same for every call, as verl's column logging needs.
    """
    from rlvr_eval import verify

    info = extra_info if isinstance(extra_info, Mapping) else {}
    fmt = answer_format or info.get("answer_format") or answer_format_for(data_source)
    if fmt not in _FORMATS:
        raise ValueError(f"unknown answer_format {fmt!r}; one of {', '.join(_FORMATS)}")
    question = info.get("question")
    finish_reason = info.get("finish_reason")
    verdict = verify(
        solution_str,
        _ground_truth(ground_truth),
        answer_format=fmt,
        strict=strict,
        lenient_fallback=lenient_fallback,
        timeout=timeout,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        prompt=question if isinstance(question, str) else None,
    )
    fields = verdict_fields(verdict)
    return {
        "score": float(correct_reward if verdict.correct else incorrect_reward),
        "acc": float(verdict.correct),
        "format_ok": float(verdict.format_ok),
        "lenient_acc": float(verdict.lenient_correct),
        "format": fields["format"],
        "content": fields["content"],
        "extraction_method": fields["extraction_method"],
        "pred": verdict.extracted or "",
    }
