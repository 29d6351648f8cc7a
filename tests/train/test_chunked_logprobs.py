"""Chunked log-probs/entropy from hidden states equal the full-logits computation: values and gradients.

The reference is ``grpo.token_log_probs_and_entropy`` on ``hidden @ W^T + b`` (whole logits, autograd).
Both run in float64 here, so any difference beyond rounding is a bug in the hand-written backward.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_train.chunked_logprobs import head_log_probs_and_entropy
from rlvr_train.grpo import token_log_probs_and_entropy

TOL = dict(rtol=1e-9, atol=1e-10)


def _inputs(m: int, r: int, h: int, v: int, seed: int, bias: bool) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    tensors = {
        "hidden": torch.randn(m, r, h, generator=gen, dtype=torch.float64) * 2,
        "weight": torch.randn(v, h, generator=gen, dtype=torch.float64),
        "tokens": torch.randint(0, v, (m, r), generator=gen),
        "g_logp": torch.randn(m, r, generator=gen, dtype=torch.float64),  # upstream gradients
        "g_ent": torch.randn(m, r, generator=gen, dtype=torch.float64),
    }
    if bias:
        tensors["bias"] = torch.randn(v, generator=gen, dtype=torch.float64)
    return tensors


def _run(
    t: dict[str, torch.Tensor], temperature: float, mask: torch.Tensor | None, chunk: int | None
) -> tuple[torch.Tensor, ...]:
    """(logp, entropy, d hidden, d weight[, d bias]); ``chunk=None`` is the full-logits reference."""
    leaves = {k: t[k].clone().requires_grad_(True) for k in ("hidden", "weight", "bias") if k in t}
    bias = leaves.get("bias")
    if chunk is None:
        logits = leaves["hidden"] @ leaves["weight"].T + (0 if bias is None else bias)  # [m, R, V]
        logp, ent = token_log_probs_and_entropy(logits, t["tokens"], temperature)
        if mask is not None:
            logp, ent = logp * mask, ent * mask
    else:
        logp, ent = head_log_probs_and_entropy(
            leaves["hidden"], leaves["weight"], t["tokens"], temperature, bias=bias, mask=mask,
            chunk_size=chunk,
        )
    (logp * t["g_logp"] + ent * t["g_ent"]).sum().backward()
    return (logp.detach(), ent.detach(), *(leaf.grad for leaf in leaves.values()))


def _assert_same(a: tuple[torch.Tensor, ...], b: tuple[torch.Tensor, ...]) -> None:
    assert len(a) == len(b)
    names = ("logp", "entropy", "d_hidden", "d_weight", "d_bias")
    for name, x, y in zip(names, a, b, strict=False):  # d_bias only when the head has a bias
        torch.testing.assert_close(x, y, **TOL, msg=name)


@pytest.mark.parametrize("chunk", [1, 3, 5, 64])  # 3 and 5 do not divide 2*7 = 14 positions; 64 > all
@pytest.mark.parametrize("temperature", [0.6, 1.0, 1.7])
def test_equals_full_logits_hand_sized(chunk: int, temperature: float) -> None:
    t = _inputs(m=2, r=7, h=5, v=11, seed=0, bias=True)
    _assert_same(_run(t, temperature, None, chunk), _run(t, temperature, None, None))


def test_mask_zeroes_padding_and_its_gradient() -> None:
    t = _inputs(m=3, r=4, h=6, v=9, seed=1, bias=False)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.float64)
    chunked = _run(t, 0.6, mask, 2)
    _assert_same(chunked, _run(t, 0.6, mask, None))
    logp, ent, d_hidden, _ = chunked
    assert torch.all(logp[mask == 0] == 0) and torch.all(ent[mask == 0] == 0)
    assert torch.all(d_hidden[mask == 0] == 0)  # padding positions get no gradient at all


def test_values_are_a_distribution_at_temperature() -> None:
    """Hand check: one position, two tokens, equal logits at any T: logp = log 1/2, entropy = log 2."""
    hidden = torch.tensor([[[1.0, 0.0]]])
    weight = torch.tensor([[0.3, 5.0], [0.3, -5.0]])  # both logits 0.3
    logp, ent = head_log_probs_and_entropy(hidden, weight, torch.tensor([[1]]), 0.6)
    assert logp.item() == pytest.approx(-0.6931472, abs=1e-6) and ent.item() == pytest.approx(0.6931472)


def test_no_grad_reference_path_and_bf16_compute() -> None:
    """Under no_grad (the frozen reference) it returns values only; a bf16 matmul stays close to fp32."""
    t = _inputs(m=2, r=6, h=8, v=13, seed=2, bias=False)
    hidden, weight = t["hidden"].float(), t["weight"].float()
    with torch.no_grad():
        logp, ent = head_log_probs_and_entropy(hidden, weight, t["tokens"], 0.6, chunk_size=4)
        logp16, ent16 = head_log_probs_and_entropy(hidden, weight, t["tokens"], 0.6, chunk_size=4,
                                                   compute_dtype=torch.bfloat16)
    assert not logp.requires_grad and logp.dtype == logp16.dtype == torch.float32
    assert (logp - logp16).abs().max() < 0.5 and (ent - ent16).abs().max() < 0.5  # bf16: ~3 digits
    assert not torch.equal(logp, logp16)  # the matmul really ran in bf16


def test_bad_arguments_are_errors() -> None:
    h, w, tok = torch.zeros(2, 3, 4), torch.zeros(5, 4), torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="temperature"):
        head_log_probs_and_entropy(h, w, tok, 0.0)
    with pytest.raises(ValueError, match="chunk_size"):
        head_log_probs_and_entropy(h, w, tok, 1.0, chunk_size=0)
    with pytest.raises(ValueError, match="do not fit"):
        head_log_probs_and_entropy(h, torch.zeros(5, 3), tok, 1.0)
    with pytest.raises(ValueError, match="mask"):
        head_log_probs_and_entropy(h, w, tok, 1.0, mask=torch.ones(2, 2))


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 3), r=st.integers(1, 9), h=st.integers(1, 6), v=st.integers(2, 17),
    chunk=st.integers(1, 12), temperature=st.sampled_from([0.3, 0.6, 1.0, 2.5]), bias=st.booleans(),
    seed=st.integers(0, 2**16), masked=st.booleans(), data=st.data(),
)
def test_equals_full_logits_property(
    m: int, r: int, h: int, v: int, chunk: int, temperature: float, bias: bool, seed: int, masked: bool,
    data: st.DataObject,
) -> None:
    t = _inputs(m, r, h, v, seed, bias)
    mask = None
    if masked:
        bits = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=m * r, max_size=m * r))
        mask = torch.tensor(bits, dtype=torch.float64).view(m, r)
    _assert_same(_run(t, temperature, mask, chunk), _run(t, temperature, mask, None))
