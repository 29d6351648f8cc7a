"""rlvr_train.engine's bookkeeping: how a step's prompts map to ranks and engines, and its seeds."""

from __future__ import annotations

import pytest

from rlvr_train import distributed as dist
from rlvr_train import engine
from rlvr_train.config import TrainConfig


def as_rank(monkeypatch: pytest.MonkeyPatch, rank: int, world: int) -> None:
    monkeypatch.setattr(dist, "rank", lambda: rank)
    monkeypatch.setattr(dist, "world_size", lambda: world)
    monkeypatch.setattr(dist, "is_distributed", lambda: world > 1)


@pytest.mark.parametrize("tp", [1, 2, 4])
def test_engines_generate_their_groups_prompts_and_ranks_keep_their_own(
    monkeypatch: pytest.MonkeyPatch, tp: int
) -> None:
    batch, world = 16, 4
    owned: list[int] = []
    for rank in range(world):
        as_rank(monkeypatch, rank, world)
        positions, own = engine.my_rollout_positions(batch, tp)
        assert positions[own] == list(range(rank, batch, world))  # the trainer's split: dist.my_share
        group = range(rank - rank % tp, rank - rank % tp + tp)  # ranks sharing this rank's engine
        assert positions == [p for member in group for p in range(member, batch, world)]  # same requests
        owned += positions[own]
    assert sorted(owned) == list(range(batch))  # every prompt trained on by exactly one rank


def test_layout_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    tp2 = TrainConfig(backend="vllm", vllm_tensor_parallel_size=2)
    as_rank(monkeypatch, 0, 1)
    assert "torchrun" in (engine.check_layout(tp2) or "")
    as_rank(monkeypatch, 0, 6)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    assert "must divide the 3 ranks per node" in (engine.check_layout(tp2) or "")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert engine.check_layout(tp2) is None
    assert engine.check_layout(TrainConfig(backend="hf", vllm_tensor_parallel_size=2)) is None  # hf: 1 rank


def test_step_seeds_are_distinct_and_valid() -> None:
    seeds = {engine.step_seed(seed, step) for seed in (-1, 0, 1) for step in range(100)}
    assert len(seeds) == 300 and all(0 <= s < 2**31 - 1 for s in seeds)
