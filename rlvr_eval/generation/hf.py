"""Generation with plain transformers: slow, but needs nothing beyond the core dependencies.

Used on machines without vLLM (CPU-only CI, laptops) and as the reference the faster backends are
compared against. Sampling is done by our own seeded logits processor (see ``_SeededSampler``) so each
sample has its own random stream: the same (seed, prompt, sample index) gives the same text whatever
the batch it lands in, which a resumed or re-batched run needs.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import torch
import transformers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LogitsProcessor,
    StoppingCriteria,
)

from rlvr_eval.generation.base import (
    BackendError,
    Completion,
    ProgressCallback,
    Prompt,
    SampleCollector,
    SamplingParams,
    cut_at_stop,
)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# transformers renamed ``torch_dtype`` to ``dtype`` in 4.56; the project allows older releases too.
_TRANSFORMERS_VERSION = tuple(int(x) for x in transformers.__version__.split(".")[:2])
_DTYPE_KWARG = "dtype" if _TRANSFORMERS_VERSION >= (4, 56) else "torch_dtype"


class _SeededSampler(LogitsProcessor):
    """Samples each row with its own ``torch.Generator`` and forces that token.

    ``generate`` then runs greedily: the returned scores are 0 for the chosen token and -inf elsewhere,
    so the argmax is exactly our sample. HF's own sampling draws from one global RNG across the batch,
    which would make a sample depend on its batch neighbours.
    """

    def __init__(self, seeds: list[int], temperature: float, top_p: float) -> None:
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)  # [B, V]
        sorted_probs, sorted_ids = probs.sort(dim=-1, descending=True)  # [B, V]
        if self.top_p < 1.0:
            # Keep the smallest prefix whose mass reaches top_p (the token crossing it included).
            before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass strictly before each token
            sorted_probs = sorted_probs.masked_fill(before >= self.top_p, 0.0)
        cdf = sorted_probs.cumsum(dim=-1)  # [B, V]
        uniforms = torch.stack([torch.rand((), generator=g) for g in self.generators]).to(cdf.device)
        picks = torch.searchsorted(cdf, (uniforms * cdf[:, -1]).unsqueeze(-1))  # [B, 1]
        picks = picks.clamp_(max=cdf.shape[-1] - 1)
        tokens = sorted_ids.gather(-1, picks)  # [B, 1]
        forced = torch.full_like(scores, float("-inf")).scatter_(-1, tokens, 0.0)
        return cast(torch.FloatTensor, forced)


class _StopStrings(StoppingCriteria):
    """Ends a row once its generated text (never the prompt) contains a stop string.

    HF's own ``stop_strings`` also matches across the prompt boundary (a prompt ending in "is" plus a
    generated " is" matches "s "), unlike vLLM and the OpenAI API; this checks generated tokens only.
    Only a short tail is decoded per step: a stop string first appears at the end of the text, and
    4 tokens per character cover byte-level tokens that each hold a fragment of one character.
    """

    def __init__(self, tokenizer: Any, stops: list[str], prompt_width: int) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.prompt_width = prompt_width
        self.window = 4 * max(len(s) for s in stops) + 4

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> torch.BoolTensor:
        tails = input_ids[:, self.prompt_width :][:, -self.window :].tolist()  # [B, <= window]
        texts = self.tokenizer.batch_decode(tails, skip_special_tokens=True)
        done = [any(stop in text for stop in self.stops) for text in texts]
        return cast(torch.BoolTensor, torch.tensor(done, dtype=torch.bool, device=input_ids.device))


class HFBackend:
    """transformers ``AutoModelForCausalLM`` generation, batched with left padding.

    ``batch_size`` counts sequences per ``generate`` call: (prompt, sample) rows, so n=8 sampling of one
    prompt with batch_size=8 is one call. ``HFBackend(path)`` loads a model; ``HFBackend.from_model``
    wraps a live module (the policy being trained) and generates from its current weights.
    """

    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        device: str | None = None,
        batch_size: int = 8,
        trust_remote_code: bool = False,
    ) -> None:
        if not Path(model).exists() and not _HUB_ID.match(model):
            raise BackendError(f"model path does not exist: {model}")
        torch_dtype: Any = dtype if dtype == "auto" else getattr(torch, dtype, None)
        if torch_dtype is None:
            raise BackendError(f"unknown dtype {dtype!r}; use 'auto', 'float32', 'bfloat16' or 'float16'")
        # Typed Any: transformers' own annotations of these loaders vary between releases.
        model_loader: Any = AutoModelForCausalLM
        try:
            tokenizer: Any = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
            loaded: Any = model_loader.from_pretrained(
                model, trust_remote_code=trust_remote_code, **{_DTYPE_KWARG: torch_dtype}
            )
        except (OSError, ValueError, KeyError) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise BackendError(f"could not load model {model!r}: {first_line}") from err
        loaded.to(device or ("cuda" if torch.cuda.is_available() else "cpu")).eval()
        tokenizer.padding_side = "left"  # for callers that batch-encode with it; generate pads itself
        self._attach(loaded, tokenizer, model_name=model, batch_size=batch_size)

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, *, batch_size: int = 8, autocast: Callable[[], Any] | None = None,
    ) -> HFBackend:
        """Generate from a live module (no copy): every call samples from its weights at that moment.

        The module is switched to eval mode for a call and back afterwards. ``autocast`` wraps each
        ``generate`` (bf16 on GPU, as the training forward). Under FSDP2 the caller keeps the full
        weights gathered around a call (``rlvr_train.distributed.full_weights``).
        """
        backend = cls.__new__(cls)
        name = str(getattr(getattr(model, "config", None), "_name_or_path", "") or "live-model")
        backend._attach(model, tokenizer, model_name=name, batch_size=batch_size, autocast=autocast)
        return backend

    def _attach(
        self, model: Any, tokenizer: Any, *, model_name: str, batch_size: int,
        autocast: Callable[[], Any] | None = None,
    ) -> None:
        if batch_size < 1:
            raise BackendError(f"batch_size must be >= 1, got {batch_size}")
        self.model_name = model_name
        self.batch_size = batch_size
        self.tokenizer: Any = tokenizer
        self.model: Any = model
        self.autocast: Callable[[], Any] = autocast or contextlib.nullcontext
        pad = self.tokenizer.pad_token_id
        self.pad_id: int = pad if pad is not None else self._model_eos_ids()[0]

    @property
    def device(self) -> torch.device:
        """Where the model's weights are (a live policy may move)."""
        return next(self.model.parameters()).device

    def _model_eos_ids(self) -> list[int]:
        ids = [self.tokenizer.eos_token_id, self.model.generation_config.eos_token_id]
        flat: list[int] = []
        for item in ids:
            flat.extend(item if isinstance(item, list) else [item] if item is not None else [])
        if not flat:
            raise BackendError(f"model {self.model_name!r} defines no eos token and no pad token")
        return list(dict.fromkeys(flat))

    def _split_stops(self, stop: list[str]) -> tuple[list[int], list[str]]:
        """Special-token stops become eos ids (cheap); other stop strings go to ``_StopStrings``."""
        special = set(self.tokenizer.all_special_tokens) | set(self.tokenizer.get_added_vocab())
        eos_ids = self._model_eos_ids()
        strings = []
        for s in stop:
            if s in special:
                eos_ids.append(int(self.tokenizer.convert_tokens_to_ids(s)))
            elif s:
                strings.append(s)
        return list(dict.fromkeys(eos_ids)), strings

    def _encode(self, prompts: Sequence[Prompt]) -> list[list[int]]:
        """Token ids of every prompt: text is tokenized (in one batch), ids pass through."""
        texts = [p for p in prompts if isinstance(p, str)]
        encoded = iter(self.tokenizer(texts)["input_ids"] if texts else [])
        return [list(next(encoded)) if isinstance(p, str) else list(p) for p in prompts]

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams, *, progress: ProgressCallback | None = None
    ) -> list[list[Completion]]:
        """Generate ``params.n`` completions per prompt (greedy: one, copied n times)."""
        if self.model is None:
            raise BackendError("this HF backend is closed")
        if not prompts:
            return []
        encoded = self._encode(prompts)
        empty = next((i for i, ids in enumerate(encoded) if not ids), None)
        if empty is not None:
            raise BackendError(f"prompt {empty} is empty: there is nothing to continue from")
        collector = SampleCollector(prompts, params, progress)
        # Longest first: batches hold prompts of similar length (less padding), and an out-of-memory
        # error shows up in the first batch rather than after an hour.
        rows = sorted(collector.rows, key=lambda row: -len(encoded[row[0]]))
        eos_ids, stop_strings = self._split_stops(params.stop)
        was_training = self.model.training
        self.model.eval()  # a live policy trains between calls: no dropout while sampling
        try:
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start : start + self.batch_size]
                batch_ids = [encoded[p] for p, _, _ in batch]
                outputs = self._generate_batch(batch_ids, [seed for _, _, seed in batch], params, eos_ids,
                                               stop_strings)
                collector.store((p, s, c) for (p, s, _), c in zip(batch, outputs, strict=True))
        finally:
            if was_training:
                self.model.train()
        return collector.completions()

    @torch.inference_mode()
    def _generate_batch(
        self,
        prompt_ids: list[list[int]],
        seeds: list[int],
        params: SamplingParams,
        eos_ids: list[int],
        stop_strings: list[str],
    ) -> list[Completion]:
        width = max(len(ids) for ids in prompt_ids)
        input_ids = torch.tensor([[self.pad_id] * (width - len(ids)) + ids for ids in prompt_ids])
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in prompt_ids])
        # A fresh config, so the checkpoint's own sampling defaults (top_k, repetition penalty...) stay out.
        config = GenerationConfig(
            max_new_tokens=params.max_tokens,
            min_new_tokens=params.min_tokens or None,  # end tokens are masked until then
            do_sample=False,
            eos_token_id=eos_ids,
            pad_token_id=self.pad_id,
        )
        extra: dict[str, Any] = {}
        if stop_strings:
            extra["stopping_criteria"] = [_StopStrings(self.tokenizer, stop_strings, width)]
        if not params.greedy:
            extra["logits_processor"] = [_SeededSampler(seeds, params.temperature, params.top_p)]
        device = self.device
        with self.autocast():
            out = self.model.generate(
                input_ids=input_ids.to(device),
                attention_mask=mask.to(device),
                generation_config=config,
                **extra,
            )
        new_tokens = out[:, width:].tolist()  # [B, <= max_tokens]
        return [self._to_completion(ids, params, set(eos_ids)) for ids in new_tokens]

    def _to_completion(self, ids: list[int], params: SamplingParams, eos_ids: set[int]) -> Completion:
        end = next((i for i, tok in enumerate(ids) if tok in eos_ids), None)
        if end is not None:  # the end token is part of the sample (the trainer learns to emit it)
            text = cut_at_stop(self.tokenizer.decode(ids[:end], skip_special_tokens=True), params.stop)[0]
            return Completion(
                text=text, finish_reason="stop", num_tokens=end + 1, token_ids=tuple(ids[: end + 1])
            )
        # No eos: either a stop string ended the row (HF then pads it) or the length limit did.
        while ids and ids[-1] == self.pad_id:
            ids = ids[:-1]
        text, stopped = cut_at_stop(self.tokenizer.decode(ids, skip_special_tokens=True), params.stop)
        reason = "stop" if stopped else "length"
        return Completion(text=text, finish_reason=reason, num_tokens=len(ids), token_ids=tuple(ids))

    def close(self) -> None:
        """Drop the model reference so its memory can be reclaimed (a live policy stays with its owner)."""
        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
