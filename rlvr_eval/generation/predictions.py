"""A backend that generates nothing: it serves completions saved by an earlier run.

This lets a new verifier re-grade old generations (``rescore``), or score completions produced by any
other tool, through the same runner code path as live generation. Records are JSON lines such as
``{"task": "math500", "item_id": "17", "sample_index": 0, "prompt": "...", "completion": "...",
"finish_reason": "stop"}``; extra fields (a verdict, timings...) are ignored, so a run's own
per-sample file loads as it is.

Other tools' files (the Qwen2.5-Math harness, lm-eval, lighteval, plain ``{question, completion}``
lines) hold no rlvr prompt or item id: ``score`` sends those to ``rlvr_eval.saved_outputs``, which
matches their rows to benchmark items by id or question text instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rlvr_eval.generation.base import (
    BackendError,
    Completion,
    FinishReason,
    ProgressCallback,
    SamplingParams,
)


class PredictionRecord(BaseModel):
    """One saved completion (``text`` is read as ``completion``, see ``_coerce``)."""

    model_config = ConfigDict(extra="ignore")

    task: str | None = None
    item_id: str | None = None
    sample_index: int = Field(0, ge=0)
    prompt: str | None = None
    completion: str
    finish_reason: FinishReason = "stop"
    num_tokens: int = Field(0, ge=0, description="0 when the producer did not record it.")

    def to_completion(self) -> Completion:
        return Completion(text=self.completion, finish_reason=self.finish_reason, num_tokens=self.num_tokens)


def _coerce(raw: dict) -> dict:
    """Accept the common spellings of other tools' files (``text``, integer ids)."""
    if "completion" not in raw and "text" in raw:
        raw = {**raw, "completion": raw["text"]}
    if isinstance(raw.get("item_id"), int):
        raw = {**raw, "item_id": str(raw["item_id"])}
    return raw


def load_predictions(path: str | Path, *, task: str | None = None) -> list[PredictionRecord]:
    """Read a JSONL file of records (optionally only one task's), with line-numbered errors."""
    path = Path(path)
    if not path.is_file():
        raise BackendError(f"predictions file does not exist: {path}")
    records = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = PredictionRecord.model_validate(_coerce(json.loads(line)))
            except (json.JSONDecodeError, ValidationError, TypeError) as err:
                reason = str(err).splitlines()[0]
                hint = "; grade other tools' outputs with rlvr-eval rescore FILE --tasks ..."
                raise BackendError(f"{path}:{line_no}: not a prediction record ({reason}){hint}") from err
            if task is None or record.task == task:
                records.append(record)
    return records


class PredictionsBackend:
    """Serves saved completions by prompt text, or by ``(task, item_id)`` through ``lookup``."""

    name = "predictions"

    def __init__(self, path: str | Path, *, task: str | None = None) -> None:
        self.path = Path(path)
        self._by_prompt: dict[str, dict[int, Completion]] = {}
        self._by_item: dict[tuple[str | None, str], dict[int, Completion]] = {}
        for record in load_predictions(path, task=task):
            completion = record.to_completion()
            if record.prompt is not None:
                self._store(self._by_prompt, record.prompt, record.sample_index, completion, "prompt")
            if record.item_id is not None:
                key = (record.task, record.item_id)
                self._store(self._by_item, key, record.sample_index, completion, "item")

    def _store(self, index: dict, key: object, sample: int, completion: Completion, what: str) -> None:
        existing = index.setdefault(key, {}).get(sample)
        if existing is not None and existing != completion:
            hint = " (pass task=... to pick one task)" if what == "prompt" else ""
            raise BackendError(
                f"{self.path}: two different completions for the same {what} and sample {sample}{hint}"
            )
        index[key][sample] = completion

    @staticmethod
    def _select(samples: dict[int, Completion], params: SamplingParams, label: str) -> list[Completion]:
        """The requested sample indices (default 0..n-1); a single greedy sample may stand for all."""
        wanted = [params.sample_index(i) for i in range(params.n)]
        if all(i in samples for i in wanted):
            return [samples[i] for i in wanted]
        if params.greedy and samples:
            return [samples[min(samples)]] * params.n
        missing = [i for i in wanted if i not in samples]
        raise BackendError(f"{len(samples)} saved samples for {label}; sample indices {missing} are missing")

    def generate(
        self, prompts: list[str], params: SamplingParams, *, progress: ProgressCallback | None = None
    ) -> list[list[Completion]]:
        """Look every prompt up; a prompt with no saved completion is an error, never a silent gap."""
        results = []
        for prompt in prompts:
            samples = self._by_prompt.get(prompt)
            if samples is None:
                preview = prompt[:60].replace("\n", "\\n")
                raise BackendError(f"{self.path}: no saved completion for prompt {preview!r}...")
            results.append(self._select(samples, params, "a prompt"))
        if progress is not None and prompts:
            progress(len(prompts))
        return results

    def lookup(self, task: str | None, item_id: str, params: SamplingParams) -> list[Completion]:
        """The saved completions of one benchmark item (for files whose prompts were not saved)."""
        samples = self._by_item.get((task, str(item_id)))
        if samples is None:
            raise BackendError(f"{self.path}: no saved completion for task {task!r} item {item_id!r}")
        return self._select(samples, params, f"task {task!r} item {item_id!r}")

    def __len__(self) -> int:
        """Number of distinct prompts with saved completions."""
        return len(self._by_prompt)

    def close(self) -> None:
        """Nothing to release."""
