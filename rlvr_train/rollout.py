"""Rollouts as data: sampled responses (``Rollouts``) and their packing into training tensors (``Packed``).

Sampling itself is ``rlvr_eval.generation``'s job (the same backends evaluation uses; see
``rlvr_train.engine``). Responses keep their end token: it is a sampled action like any other and gets
its share of the loss (as in verl). ``finish_reason`` is ``"stop"`` when an end token ended the
response and ``"length"`` when the token budget ran out.

Shapes: ``N`` responses, ``P`` prompt tokens (left-padded), ``R`` response tokens (right-padded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from rlvr_eval.generation import Completion


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

    def to(self, device: torch.device | str) -> Packed:
        return Packed(
            self.input_ids.to(device), self.attention_mask.to(device), self.position_ids.to(device),
            self.response_ids.to(device), self.response_mask.to(device), self.prompt_len,
        )


def pad_id_of(tokenizer: Any) -> int:
    """The id that fills padding (masked out everywhere): the pad token, else the end-of-sequence one."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad is None:
        raise ValueError("the tokenizer has neither a pad nor an end-of-sequence token")
    return int(pad)


def rollouts_from(prompt_ids: list[list[int]], completions: list[list[Completion]]) -> Rollouts:
    """Flatten a backend's completions (``n`` per prompt) into Rollouts, each group contiguous."""
    out = Rollouts([], [], [], [])
    for prompt, samples in zip(prompt_ids, completions, strict=True):
        for c in samples:
            if not c.token_ids:
                raise ValueError("the generation backend returned no token ids: it cannot serve rollouts")
            out.prompt_ids.append(prompt)
            out.response_ids.append(list(c.token_ids))
            out.texts.append(c.text)
            out.finish_reasons.append(c.finish_reason)
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
