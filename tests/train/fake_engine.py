"""Stand-in generation engines for trainer tests: scripted completions, and every call recorded.

``ScriptedEngine`` answers every prompt with the same script of (text, finish reason) samples, tokenized
by the real tokenizer (a "stop" sample ends with the end token), so the trainer grades, packs and trains
on known responses. ``RecordingLiveEngine`` also implements the ``LiveEngine`` protocol and records
the weights it receives (name, shape, sum), as a vLLM engine would get them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rlvr_eval.generation import Completion, Prompt, SamplingParams

Script = list[tuple[str, str]]

SCRIPT_EVAL: Script = [("so \\boxed{7}", "stop"), ("\\boxed{3} and on", "length")]
"""Two samples: enough for rollouts with signal and for a greedy evaluation (sample 0 only)."""


class ScriptedEngine:
    """Sample k of every prompt is ``script[k % len(script)]``; ``calls`` lists what was asked."""

    name = "scripted"

    def __init__(self, tokenizer: Any, script: Script) -> None:
        self.tokenizer = tokenizer
        self.script = script
        self.end_id = int(tokenizer.convert_tokens_to_ids("<|im_end|>"))
        self.calls: list[tuple[Any, ...]] = []

    def sample(self, k: int) -> Completion:
        text, reason = self.script[k % len(self.script)]
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if reason == "stop":
            ids.append(self.end_id)
        return Completion(text=text, finish_reason=reason, num_tokens=len(ids), token_ids=tuple(ids))  # type: ignore[arg-type]

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams, *, progress: Any = None
    ) -> list[list[Completion]]:
        kinds = sorted({"text" if isinstance(p, str) else "ids" for p in prompts})
        self.calls.append(("generate", kinds, [p if isinstance(p, str) else list(p) for p in prompts],
                           params.model_dump()))
        if progress is not None:
            progress(len(prompts))
        return [[self.sample(k) for k in range(params.n)] for _ in prompts]

    def close(self) -> None:
        self.calls.append(("close",))


class RecordingLiveEngine(ScriptedEngine):
    """A scripted engine that the trainer treats as a live engine (like vLLM): weights are pushed."""

    name = "recording-live"

    def load_weights(self, weights: Iterable[tuple[str, Any]]) -> None:
        received = [(name, list(t.shape), float(t.double().sum())) for name, t in weights]
        self.calls.append(("load_weights", received))

    def sleep(self) -> None:
        self.calls.append(("sleep",))

    def wake_up(self) -> None:
        self.calls.append(("wake_up",))
