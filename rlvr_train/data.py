"""Training examples and the per-step prompt batch.

Sources, in the order ``load_examples`` tries them:

1. ``problem`` + ``answer`` given inline;
2. ``data``: a JSONL file, one row per example (``prompt`` | ``problem`` | ``question``, and ``answer``);
3. ``example``: a name such as ``pi1``, read from ``<data_dir>/train/pi1.jsonl`` (or ``<data_dir>/pi1.jsonl``;
   ``data_dir`` defaults to ``$RLVR_DATA_DIR``)
4. otherwise the paper's Hub dataset (``ypwang61/One-Shot-RLVR-Datasets``) through ``datasets``.

An example row of the local files (``benchmarks/train/pi1.jsonl``)::

    {"index": 124, "prompt": "The pressure \\( P \\) exerted by wind ... Let's think step by step and
     output the final answer within \\boxed{}.", "answer": "12.8", "data_source": "deepscaler"}

The paper's rows already end with the training suffix, and the ``qwen-boxed`` template adds it again,
so the suffix is stripped on load: ``Example.question`` is always the bare problem.

Batches (paper §3.1): one example is repeated to fill the batch, each copy its own GRPO group.
Several examples are drawn epoch by epoch from a permutation seeded by (seed, epoch), so the batch of
a step depends only on the step number: resuming repeats and skips nothing.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from rlvr_eval.tasks.base import TaskDataError
from rlvr_eval.tasks.base import read_jsonl as read_task_jsonl
from rlvr_train.config import TrainConfig

TRAIN_SUFFIX = "Let's think step by step and output the final answer within \\boxed{}."


class DataError(ValueError):
    """Training data cannot be found or read; the message is one line that says why."""


class Example(BaseModel):
    """One training problem with its reference answer."""

    index: str = Field(description="Stable id, used to key per-example accuracy (for `rlvr-train rank`).")
    question: str = Field(description="The problem without the training suffix.")
    answer: str = Field(description="Reference answer given to the verifier.")
    source: str = Field("", description="Where the row came from (file, hub split, inline).")


def strip_suffix(prompt: str) -> str:
    """Remove the paper's training suffix (and the space before it) if the prompt ends with it."""
    text = prompt.rstrip()
    if text.endswith(TRAIN_SUFFIX):
        text = text[: -len(TRAIN_SUFFIX)].rstrip()
    return text


def _question_of(row: dict[str, Any]) -> str | None:
    for key in ("prompt", "problem", "question"):
        value = row.get(key)
        if isinstance(value, str):
            return value
        # verl parquet rows hold the prompt as chat messages; the problem is the user turn
        if isinstance(value, list):
            users = [m.get("content") for m in value if isinstance(m, dict) and m.get("role") == "user"]
            if users and isinstance(users[-1], str):
                return users[-1]
    return None


def _answer_of(row: dict[str, Any]) -> str | None:
    value = row.get("answer")
    if value is None and isinstance(row.get("reward_model"), dict):
        value = row["reward_model"].get("ground_truth")  # verl layout
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def example_from_row(row: dict[str, Any], *, default_index: str, source: str) -> Example:
    """Turn one data row into an ``Example``, or raise ``DataError`` naming the missing field."""
    question = _question_of(row)
    if question is None:
        raise DataError(f"{source}: row {default_index} has no 'prompt', 'problem' or 'question' text")
    answer = _answer_of(row)
    if answer is None or not answer.strip():
        problem = "'answer' is null" if "answer" in row and row["answer"] is None else "has no 'answer'"
        raise DataError(f"{source}: row {default_index} {problem}")
    index = row.get("index", row.get("id", default_index))
    if isinstance(row.get("extra_info"), dict) and "index" in row["extra_info"]:
        index = row["extra_info"]["index"]
    return Example(index=str(index), question=strip_suffix(question), answer=answer.strip(), source=source)


def read_jsonl(path: str | Path) -> list[Example]:
    """All examples of a JSONL file; a missing, malformed or empty file is a ``DataError``."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file not found: {p}")
    try:  # one JSONL reader for the project: the benchmark adapters' (same errors, same skipping)
        rows = list(read_task_jsonl(p))
    except TaskDataError as exc:
        raise DataError(str(exc)) from None
    examples = [example_from_row(row, default_index=str(i), source=str(p)) for i, row in enumerate(rows)]
    if not examples:
        raise DataError(f"data file {p} holds no examples")
    return examples


def default_data_dir() -> Path | None:
    """``$RLVR_DATA_DIR``, else None (the hub). Never a folder guessed from where the code lives:
    ``rlvr-eval download DIR`` / ``rlvr-train download DIR`` make a directory to point this at."""
    env = os.environ.get("RLVR_DATA_DIR")
    return Path(env) if env else None


def find_named(name: str, data_dir: str | Path | None) -> Path | None:
    """The local JSONL file of a named example, or None if there is none."""
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    if base is None:
        return None
    for path in (base / "train" / f"{name}.jsonl", base / f"{name}.jsonl"):
        if path.is_file():
            return path
    return None


def load_hub(name: str, hub_dataset: str, *, downloading: bool = False) -> list[Example]:
    """Examples of split ``name`` (or ``<name>_r128``, the paper's repeated one-shot file) from the Hub.

    The ``_r128`` splits repeat one row 128 times; duplicates are dropped here because batching
    repeats examples itself.
    """
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a core dependency
        raise DataError("the 'datasets' package is needed to load training data from the Hub") from None
    errors = []
    for split in (name, f"{name}_r128"):
        try:
            rows = datasets.load_dataset(hub_dataset, split=split)
        except Exception as exc:  # network, auth, missing split: all mean "not here"
            errors.append(f"{split}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        seen: dict[tuple[str, str], Example] = {}
        for i, row in enumerate(rows):
            ex = example_from_row(dict(row), default_index=str(i), source=f"{hub_dataset}:{split}")
            seen.setdefault((ex.question, ex.answer), ex)
        if not seen:
            raise DataError(f"hub dataset {hub_dataset} split {split} holds no examples")
        return list(seen.values())
    reasons = "; ".join(errors)
    if downloading:
        raise DataError(f"could not download example {name!r} from {hub_dataset} ({reasons})")
    raise DataError(
        f"example {name!r} not found locally and the hub dataset {hub_dataset} could not be loaded "
        f"({reasons}); pass --data-dir DIR with train/{name}.jsonl or --data FILE.jsonl"
    )


def download_examples(names: list[str], out_dir: str | Path, hub_dataset: str) -> list[Path]:
    """Save named examples from the hub as ``out_dir/train/<name>.jsonl`` (``rlvr-train download``).

    Rows are written in the local files' layout (index, prompt with the training suffix, answer,
    data_source) and read back with ``read_jsonl``: they must give the hub's examples again.
    """
    from rlvr_eval.download import write_jsonl_atomically

    paths = []
    for name in names:
        examples = load_hub(name, hub_dataset, downloading=True)
        path = Path(out_dir).expanduser() / "train" / f"{name}.jsonl"
        rows = [{"index": ex.index, "prompt": f"{ex.question} {TRAIN_SUFFIX}", "answer": ex.answer,
                 "data_source": ex.source} for ex in examples]
        write_jsonl_atomically(path, rows, f"{hub_dataset}:{name}")
        fields = [(e.index, e.question, e.answer) for e in examples]
        if [(e.index, e.question, e.answer) for e in read_jsonl(path)] != fields:
            path.unlink()
            raise DataError(f"{path} does not read back as the hub's examples; not saved")
        print(f"{name}: {len(examples)} example(s) -> {path}")
        paths.append(path)
    return paths


def load_examples(cfg: TrainConfig) -> list[Example]:
    """The training examples a config asks for (see the module docstring for the order)."""
    if cfg.problem is not None and cfg.answer is not None:
        if not cfg.problem.strip() or not cfg.answer.strip():
            raise DataError("--problem and --answer must not be empty")
        question = strip_suffix(cfg.problem)
        return [Example(index="0", question=question, answer=cfg.answer.strip(), source="inline")]
    if cfg.data is not None:
        return read_jsonl(cfg.data)
    name = cfg.example or "pi1"
    local = find_named(name, cfg.data_dir)
    if local is not None:
        return read_jsonl(local)
    if cfg.data_dir is not None:
        raise DataError(f"example {name!r} not found in {cfg.data_dir} (looked for train/{name}.jsonl)")
    return load_hub(name, cfg.hub_dataset)


def batch_indices(num_examples: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Indices of the examples in step ``step``'s batch (0-based), a pure function of its arguments.

    The stream of indices is epoch permutations concatenated; step s takes items
    [s * batch_size, (s + 1) * batch_size). With one example every index is 0 (the paper's one-shot
    batch); with fewer examples than the batch, each is repeated about equally.
    """
    if num_examples < 1:
        raise ValueError("num_examples must be >= 1")
    start = step * batch_size
    out: list[int] = []
    pos = start
    while len(out) < batch_size:
        epoch, offset = divmod(pos, num_examples)
        perm = list(range(num_examples))
        random.Random(f"{seed}:{epoch}").shuffle(perm)  # str seeds hash stably across runs
        take = min(num_examples - offset, batch_size - len(out))
        out.extend(perm[offset : offset + take])
        pos += take
    return out
