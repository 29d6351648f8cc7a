"""``rlvr_train.trainer.train`` under ``torchrun`` with recording engines; each rank saves what it saw.

``python -m torch.distributed.run --nproc_per_node 2 engine_worker.py MODEL_DIR OUT_DIR BENCH.jsonl``
runs two short trainings with in-training evaluation in one launch:

- ``hf``: the real hf engine on the FSDP2 policy (``HFBackend.from_model``), wrapped to record every
  ``generate`` call, so the test sees which prompts each rank generated (rollouts and evaluation);
- ``live``: ``RecordingLiveEngine`` (scripted samples), so the test sees the LiveEngine calls a vLLM
  engine would get on each rank: full tensors gathered from the shards, sleep/wake around updates.

Rank r writes ``OUT_DIR/<kind>-rank<r>.json`` (the calls) and the runs go to ``OUT_DIR/<kind>-run``.
``test_distributed.py`` reads them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from fake_engine import SCRIPT_EVAL, RecordingLiveEngine

from rlvr_eval.generation import Completion, Prompt, SamplingParams
from rlvr_eval.generation.hf import HFBackend
from rlvr_train import distributed as dist
from rlvr_train.config import TrainConfig
from rlvr_train.trainer import train


class RecordingHF:
    """The real hf engine on the live policy; records each call's prompts and sampling params."""

    name = "hf"

    def __init__(self, policy: Any, tokenizer: Any) -> None:
        self.inner = HFBackend.from_model(policy, tokenizer, batch_size=8)
        self.tokenizer = tokenizer
        self.calls: list[tuple[Any, ...]] = []

    @property
    def batch_size(self) -> int:
        return self.inner.batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self.inner.batch_size = value

    def generate(self, prompts: list[Prompt], params: SamplingParams, *, progress: Any = None
                 ) -> list[list[Completion]]:
        kinds = sorted({"text" if isinstance(p, str) else "ids" for p in prompts})
        self.calls.append(("generate", kinds, [p if isinstance(p, str) else list(p) for p in prompts],
                           params.model_dump()))
        return self.inner.generate(prompts, params, progress=progress)

    def close(self) -> None:
        self.calls.append(("close",))


def config(model_dir: str, out: Path, bench: str) -> TrainConfig:
    return TrainConfig(
        model=model_dir, output_dir=str(out), problem="Say 7", answer="7", template="plain", strict=False,
        batch_size=4, rollouts=2, max_response_tokens=6, temperature=1.0, lr=1e-3, micro_batch_size=4,
        steps=1, save_every=0, eval_every=1, eval_tasks=[f"jsonl:{bench}"], eval_template="plain",
        eval_max_tokens=4, verify_workers=0, tensorboard=False,
    )


def main(model_dir: str, out_dir: str, bench: str) -> None:
    torch.set_num_threads(1)
    started = dist.init()  # one process group for both trainings (train() then leaves it alone)
    engines: dict[str, Any] = {}
    makers = {
        "hf": lambda policy, tok: engines.setdefault("hf", RecordingHF(policy, tok)),
        "live": lambda policy, tok: engines.setdefault("live", RecordingLiveEngine(tok, SCRIPT_EVAL)),
    }
    for kind, make in makers.items():
        train(config(model_dir, Path(out_dir) / f"{kind}-run", bench), progress=False, make_engine=make)
        path = Path(out_dir) / f"{kind}-rank{dist.rank()}.json"
        path.write_text(json.dumps(engines[kind].calls), encoding="utf-8")
    if started:
        dist.teardown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
