"""The generation contract shared by every backend (HF, vLLM, OpenAI-compatible server, saved predictions).

One layer serves evaluation and training. A prompt is either text (rendered by ``rlvr_eval.templates``;
a backend never applies a chat template of its own) or the token ids of such a text (the trainer's
rollouts, which must train on exactly the tokens that were sampled from). A ``Completion`` carries the
decoded text, the finish reason and, where the backend has them, the generated token ids. A backend
whose weights the trainer updates in place also implements ``LiveEngine``. Keeping the contract this
small is what lets the evaluation runner, the trainer's rollouts and ``rescore`` swap backends freely.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_STOP: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>")
"""The Qwen2.5(-Math) end-of-turn / end-of-text markers the paper's evaluation stops at."""

FinishReason = Literal["stop", "length"]

Prompt = str | list[int]
"""A rendered prompt as text, or as its token ids (no special tokens added by the backend)."""

ProgressCallback = Callable[[int], None]
"""Called with the number of prompts that just finished (an increment, like ``tqdm.update``)."""


class BackendError(RuntimeError):
    """A backend could not be built or could not serve a request; the message is one line."""


class Completion(BaseModel):
    """One sampled continuation of a prompt."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="Generated text, cut before the first stop string.")
    finish_reason: FinishReason = Field(
        description="'stop': a stop string / end-of-sequence token ended it; 'length': max_tokens was hit."
    )
    num_tokens: int = Field(ge=0, description="Generated tokens (0 when unknown, e.g. old predictions).")
    token_ids: tuple[int, ...] = Field(
        (),
        description="Generated token ids, the end token included when one ended the sample (it is a "
        "sampled action the trainer learns from); empty when the backend does not report ids.",
    )


class SamplingParams(BaseModel):
    """Sampling settings; the defaults are the paper's greedy evaluation (max 3072 new tokens, seed 0)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(1, ge=1, description="Samples per prompt.")
    temperature: float = Field(0.0, ge=0.0, description="0 means greedy (then the n samples are equal).")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(3072, ge=1, description="Maximum new tokens per sample.")
    min_tokens: int = Field(
        0, ge=0, description="Minimum new tokens before an end token may stop a sample (benchmarks force "
        "full-length samples with min_tokens = max_tokens)."
    )
    seed: int = Field(0, ge=0, description="Base seed; per-sample seeds are derived from it.")
    stop: list[str] = Field(default_factory=lambda: list(DEFAULT_STOP), description="Stop strings.")
    sample_indices: list[int] | None = Field(
        None,
        description="Which sample indices the n samples are (default 0..n-1). A resumed run that only "
        "needs samples 5..7 passes [5, 6, 7] with n=3 and gets exactly the samples 5..7 of a full run.",
    )
    occurrences: list[int] | None = Field(
        None,
        description="Per prompt, how many identical prompts precede it in the whole request this call "
        "is a share of (default: counted within the call). A rank generating its share of a batch passes "
        "the counts from the whole batch, so it draws exactly the samples one process would have drawn.",
    )

    @model_validator(mode="after")
    def _indices_match_n(self) -> SamplingParams:
        if self.min_tokens > self.max_tokens:
            raise ValueError(f"min_tokens={self.min_tokens} exceeds max_tokens={self.max_tokens}")
        if self.sample_indices is not None and (
            len(self.sample_indices) != self.n or min(self.sample_indices, default=0) < 0
        ):
            raise ValueError(f"sample_indices must hold n={self.n} non-negative indices")
        if self.occurrences is not None and min(self.occurrences, default=0) < 0:
            raise ValueError("occurrences must be non-negative")
        return self

    def sample_index(self, position: int) -> int:
        """The sample index (for seeding) of the ``position``-th of the n requested samples."""
        return self.sample_indices[position] if self.sample_indices is not None else position

    @property
    def greedy(self) -> bool:
        """Greedy decoding: every sample of a prompt is the same, so backends may generate once."""
        return self.temperature == 0.0


@runtime_checkable
class Backend(Protocol):
    """What the runner and the trainer need from a generation backend."""

    name: str

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams, *, progress: ProgressCallback | None = None
    ) -> list[list[Completion]]:
        """Return ``params.n`` completions for each prompt, outer list in prompt order.

        Backends that only take text (``openai``, ``predictions``) raise ``BackendError`` on token-id
        prompts."""
        ...

    def close(self) -> None:
        """Release the model / connections; the backend is unusable afterwards."""
        ...


@runtime_checkable
class LiveEngine(Protocol):
    """A backend whose weights the trainer replaces between rollouts (a colocated vLLM engine).

    The trainer calls ``sleep`` before its update (the engine frees its KV cache, where it can),
    ``wake_up`` before the next rollout, and ``load_weights`` with the policy's new parameters in
    between, one tensor at a time, so no second full copy of the model is ever held.
    """

    def load_weights(self, weights: Iterable[tuple[str, Any]]) -> None:
        """Copy ``(name, tensor)`` pairs (Hugging Face parameter names) into the engine's model."""
        ...

    def sleep(self) -> None:
        """Free generation memory (KV cache) until ``wake_up``; a no-op where unsupported."""
        ...

    def wake_up(self) -> None:
        """Undo ``sleep`` before the next ``generate``."""
        ...


def prompt_key(prompt: Prompt) -> str:
    """A text key for a prompt: itself, or its token ids spelled out (token ids never collide with text)."""
    return prompt if isinstance(prompt, str) else "\x01ids:" + ",".join(map(str, prompt))


def derive_seed(seed: int, prompt: Prompt, occurrence: int, sample_index: int) -> int:
    """A per-sample seed that depends on the prompt text, not on its position in a call.

    Keyed by the prompt's content (plus how many identical prompts preceded it in the call, so
    duplicates still get distinct samples) instead of its index: a resumed run that generates only the
    missing items, or a different batch size, then draws exactly the same samples as an uninterrupted
    run. The result fits a signed 32-bit int, which every backend's seed argument accepts.
    """
    key = f"{seed}\x00{occurrence}\x00{sample_index}\x00{prompt_key(prompt)}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % (2**31 - 1)


def occurrences(prompts: Sequence[Prompt]) -> list[int]:
    """For each prompt, how many identical prompts came before it in the list (for ``derive_seed``)."""
    seen: dict[str, int] = {}
    result = []
    for prompt in prompts:
        key = prompt_key(prompt)
        count = seen.get(key, 0)
        result.append(count)
        seen[key] = count + 1
    return result


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` before the earliest stop string; also say whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class SampleCollector:
    """The bookkeeping every backend's ``generate`` shares: one row per (prompt, sample) with its seed
    from `derive_seed`, results stored as rows finish, ``progress`` told of each prompt whose samples
    are all done, and greedy's single sample copied ``n`` times at the end."""

    def __init__(self, prompts: Sequence[Prompt], params: SamplingParams, progress: ProgressCallback | None):
        self.n = params.n
        self.samples = 1 if params.greedy else params.n  # greedy: one generation per prompt
        occ = params.occurrences if params.occurrences is not None else occurrences(prompts)
        if len(occ) != len(prompts):
            raise BackendError(f"occurrences has {len(occ)} entries for {len(prompts)} prompts")
        #: (prompt index, sample index, seed) for every generation to run
        self.rows = [
            (p, s, derive_seed(params.seed, prompts[p], occ[p], params.sample_index(s)))
            for p in range(len(prompts))
            for s in range(self.samples)
        ]
        self._results: list[list[Completion | None]] = [[None] * self.samples for _ in prompts]
        self._pending = [self.samples] * len(prompts)
        self._progress = progress

    def store(self, done: Iterable[tuple[int, int, Completion]]) -> None:
        """Record finished (prompt, sample, completion) triples and report fully finished prompts."""
        finished = 0
        for p, s, completion in done:
            self._results[p][s] = completion
            self._pending[p] -= 1
            finished += self._pending[p] == 0
        if self._progress is not None and finished:
            self._progress(finished)

    def completions(self) -> list[list[Completion]]:
        """``n`` completions per prompt, in prompt order."""
        return [[c for c in row if c is not None] * (self.n // self.samples) for row in self._results]
