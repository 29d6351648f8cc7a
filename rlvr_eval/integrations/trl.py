"""TRL reward functions backed by rlvr's verifier: ``accuracy_reward`` and ``format_reward``.

    from trl import GRPOConfig, GRPOTrainer
    from rlvr_eval.integrations.trl import accuracy_reward, format_reward

    trainer = GRPOTrainer(model=..., reward_funcs=[accuracy_reward, format_reward], train_dataset=ds, ...)

``GRPOTrainer`` calls a reward function with keywords: ``prompts``, ``completions`` (strings, or
message lists for conversational data), ``completion_ids``, every dataset column except ``prompt``
by name, ``trainer_state`` and the logging hooks ``log_extra`` / ``log_metric``; it wants one float per
completion. The reference answer is read from the first of the columns ``answer``, ``solution``,
``ground_truth`` present (a ``solution`` column is a worked solution: its last ``\\boxed{}`` is used).

Rewards are `rlvr_eval.verify_batch` verdicts, the same ones ``rlvr-eval`` and ``rlvr-train`` give.
Each call also logs, through TRL's ``log_extra``/``log_metric`` hooks, the format status and the
extracted answer of every completion (columns of TRL's completions table) and the batch's
format-ok and lenient-correct rates, so format gains and content gains stay apart in TRL's logs.

Configure with `make_accuracy_reward` / `make_format_reward` (answer format, strict, reward values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rlvr_eval.integrations import completion_text, reference_value, verdict_fields
from rlvr_eval.verifier.schema import (
    AnswerFormat,
    Extraction,
    LenientFallback,
    Verdict,
    VerifyRequest,
    format_ok,
)

__all__ = [
    "REFERENCE_COLUMNS",
    "VerifierReward",
    "accuracy_reward",
    "format_reward",
    "make_accuracy_reward",
    "make_format_reward",
]

#: Dataset columns that may hold the reference answer, in order of preference.
REFERENCE_COLUMNS = ("answer", "solution", "ground_truth")

RewardKind = Literal["accuracy", "format"]

# Keywords GRPOTrainer passes that are not dataset columns.
_TRL_KEYWORDS = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})


def _prompt_text(prompt: Any) -> str | None:
    """The question the verifier checks restated answers against: the prompt, or its last user turn."""
    if prompt is None or isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        if users:
            return completion_text([users[-1]])
    return None


class VerifierReward:
    """A ``GRPOTrainer`` reward function: one float per completion from rlvr's verdicts.

    A callable object rather than a closure so it pickles (TRL and accelerate may copy it to
    other processes) and so its settings are inspectable; ``__name__`` is what TRL logs it as.
    """

    def __init__(
        self,
        kind: RewardKind = "accuracy",
        *,
        answer_format: AnswerFormat = "boxed",
        strict: bool = True,
        lenient_fallback: LenientFallback = "none",
        correct_reward: float = 1.0,
        incorrect_reward: float = 0.0,
        timeout: float = 3.0,
        workers: int | None = None,
        reference_columns: Sequence[str] = REFERENCE_COLUMNS,
        truncation_length: int | None = None,
        log_verdicts: bool = True,
        name: str | None = None,
    ) -> None:
        """
        Args:
            kind: "accuracy" rewards a correct answer in the requested format; "format" rewards the
                requested format alone (no reference needed).
            answer_format, strict, lenient_fallback: as in `rlvr_eval.verify`.
            correct_reward, incorrect_reward: the reward for a pass / a fail.
            timeout: seconds per completion for the symbolic comparison.
            workers: `verify_batch` worker processes (None: one per CPU, up to 8; 0: in-process).
            reference_columns: dataset columns searched, in order, for the reference answer.
            truncation_length: set it to ``GRPOConfig.max_completion_length`` to mark completions of
                that many tokens as truncated (format TRUNCATED), as ``rlvr-eval`` does with vLLM's
                finish reason (TRL does not pass one).
            log_verdicts: log format status / extracted answer through TRL's hooks when offered.
            name: the name TRL shows for this reward (default ``rlvr_accuracy`` / ``rlvr_format``).
        """
        if kind not in ("accuracy", "format"):
            raise ValueError(f"kind must be 'accuracy' or 'format', got {kind!r}")
        if not reference_columns:
            raise ValueError("reference_columns must name at least one column")
        self.kind = kind
        self.answer_format: AnswerFormat = answer_format
        self.strict = strict
        self.lenient_fallback: LenientFallback = lenient_fallback
        self.correct_reward = float(correct_reward)
        self.incorrect_reward = float(incorrect_reward)
        self.timeout = timeout
        self.workers = workers
        self.reference_columns = tuple(reference_columns)
        self.truncation_length = truncation_length
        self.log_verdicts = log_verdicts
        self.__name__ = name or f"rlvr_{kind}"

    def __repr__(self) -> str:
        return (
            f"VerifierReward({self.kind!r}, answer_format={self.answer_format!r}, strict={self.strict}, "
            f"lenient_fallback={self.lenient_fallback!r}, "
            f"correct_reward={self.correct_reward}, incorrect_reward={self.incorrect_reward})"
        )

    # ------------------------------------------------------------------ inputs

    def references(self, n: int, columns: Mapping[str, Any]) -> list[str | list[str]]:
        """The reference of each of ``n`` completions, from the first reference column present."""
        for column in self.reference_columns:
            values = columns.get(column)
            if values is None:
                continue
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) != n:
                raise ValueError(f"column {column!r} must hold one value per completion ({n})")
            return [reference_value(v, column=column) for v in values]
        seen = ", ".join(sorted(k for k in columns if k not in _TRL_KEYWORDS)) or "none"
        wanted = ", ".join(self.reference_columns)
        raise ValueError(f"{self.__name__}: no reference column ({wanted}) in the dataset; columns: {seen}")

    def finish_reasons(self, n: int, completion_ids: Sequence[Sequence[int]] | None) -> list[str | None]:
        if self.truncation_length is None or completion_ids is None:
            return [None] * n
        return ["length" if len(ids) >= self.truncation_length else None for ids in completion_ids]

    # ------------------------------------------------------------------ grading

    def _inputs(
        self, prompts: Sequence[Any] | None, completions: Sequence[Any] | None,
        completion_ids: Sequence[Sequence[int]] | None,
    ) -> tuple[list[str], list[str | None], list[str | None]]:
        if completions is None:
            raise TypeError(f"{self.__name__}: called without completions")
        texts = [completion_text(c) for c in completions]
        n = len(texts)
        questions: list[str | None] = [None] * n
        if prompts is not None:
            questions = [_prompt_text(p) for p in prompts]
        if len(questions) != n:
            raise ValueError(f"{len(questions)} prompts for {n} completions")
        return texts, questions, self.finish_reasons(n, completion_ids)

    def verdicts(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        **columns: Any,
    ) -> list[Verdict]:
        """The verifier's verdict on each completion (what the accuracy reward is made of)."""
        from rlvr_eval import verify_batch

        texts, questions, reasons = self._inputs(prompts, completions, completion_ids)
        return verify_batch(
            texts,
            self.references(len(texts), columns),
            workers=self.workers,
            timeout=self.timeout,
            finish_reasons=reasons,
            answer_format=self.answer_format,
            strict=self.strict,
            prompts=questions,
            lenient_fallback=self.lenient_fallback,
        )

    def extractions(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
    ) -> list[Extraction]:
        """The format layer alone (what the format reward is made of): no reference, no comparison.

        The same extraction `verify` runs on the same request, so the format reward below is the
        verdict's ``format_ok`` (one rule: `rlvr_eval.verifier.schema.format_ok`).
        """
        from rlvr_eval.verifier.api import extract

        texts, questions, reasons = self._inputs(prompts, completions, completion_ids)
        return [
            extract(VerifyRequest(t, "", self.answer_format, finish_reason=r, prompt=q,
                                  lenient_fallback=self.lenient_fallback))
            for t, q, r in zip(texts, questions, reasons, strict=True)
        ]

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        hooks = (kwargs.get("log_extra"), kwargs.get("log_metric")) if self.log_verdicts else (None, None)
        if self.kind == "format":
            extractions = self.extractions(prompts, completions, completion_ids)
            passed = [format_ok(e, strict=self.strict) for e in extractions]
            self._log_format(extractions, passed, *hooks)
        else:
            columns = {k: v for k, v in kwargs.items() if k not in _TRL_KEYWORDS}
            verdicts = self.verdicts(prompts, completions, completion_ids, **columns)
            passed = [v.correct for v in verdicts]
            self._log_verdicts(verdicts, *hooks)
        return [self.correct_reward if ok else self.incorrect_reward for ok in passed]

    def _log_verdicts(self, verdicts: list[Verdict], log_extra: Any, log_metric: Any) -> None:
        """Per-completion columns and batch rates through TRL's hooks (absent in older TRL: skipped)."""
        if not verdicts:
            return
        fields = [verdict_fields(v) for v in verdicts]
        if callable(log_extra):
            log_extra(f"{self.__name__}/format", [f["format"] for f in fields])
            log_extra(f"{self.__name__}/extracted", [f["extracted"] or "" for f in fields])
            log_extra(f"{self.__name__}/content", [f["content"] for f in fields])
        if callable(log_metric):
            n = len(fields)
            log_metric(f"{self.__name__}/format_ok", sum(f["format_ok"] for f in fields) / n)
            log_metric(f"{self.__name__}/lenient_correct", sum(f["lenient_correct"] for f in fields) / n)

    def _log_format(
        self, extractions: list[Extraction], passed: list[bool], log_extra: Any, log_metric: Any
    ) -> None:
        if not extractions:
            return
        if callable(log_extra):
            log_extra(f"{self.__name__}/format", [e.format.value for e in extractions])
        if callable(log_metric):
            log_metric(f"{self.__name__}/format_ok", sum(passed) / len(passed))


def make_accuracy_reward(**settings: Any) -> VerifierReward:
    """A configured accuracy reward; keywords as `VerifierReward` (answer_format, strict, rewards...)."""
    return VerifierReward("accuracy", **settings)


def make_format_reward(**settings: Any) -> VerifierReward:
    """A configured format-only reward: ``correct_reward`` when the requested answer format is found."""
    return VerifierReward("format", **settings)


#: Default accuracy reward: 1.0 for a correct \boxed{} answer, else 0.0.
accuracy_reward = make_accuracy_reward(name="accuracy_reward")
#: Default format reward: 1.0 when the completion has a non-empty \boxed{} answer, else 0.0.
format_reward = make_format_reward(name="format_reward")
