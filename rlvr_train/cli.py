"""``rlvr-train``: 1-shot RLVR training, curves and example ranking.

    rlvr-train one-shot --model Qwen/Qwen2.5-Math-1.5B --example pi1 --output-dir runs/pi1
    rlvr-train one-shot --model DIR --problem "What is 3+4?" --answer 7 --steps 50 --output-dir runs/toy
    rlvr-train run --config configs/one_shot_pi1.yaml [--resume]
    rlvr-train plot runs/pi1            # runs/pi1/curves.png
    rlvr-train rank runs/dsr_sub        # historical variance score of each example
    rlvr-train tiny-model /tmp/tiny     # a tiny random Qwen2 chat model, to try everything offline on CPU
    rlvr-train download data/           # the paper's examples -> data/train/<name>.jsonl (for --data-dir)

Settings: config defaults (the paper's) < ``--config`` YAML < flags. Bad input ends with one line
``rlvr-train: error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

PROG = "rlvr-train"

# Spellings users already type, kept beside the generated --max-response-tokens
_ALIASES = {"max_response_tokens": ["--max-tokens"]}


class UsageError(Exception):
    """Input the run cannot use; printed as one line with exit status 2."""


def _add_train_options(p: argparse.ArgumentParser) -> None:
    """``--config``, ``--quiet`` and one flag per TrainConfig field (generated: help is the field's)."""
    from rlvr_train.config import TrainConfig
    from rlvr_train.config_flags import add_model_flags

    p.add_argument("--config", help="YAML file of TrainConfig fields (flags override it)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    fields = p.add_argument_group("training settings (TrainConfig fields; YAML keys have the same names)")
    add_model_flags(fields, TrainConfig, _ALIASES)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="GRPO with verifiable rewards (1-shot RLVR).")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser(
        "one-shot", help="train on one (or a few) examples",
        usage=f"{PROG} one-shot --model M --output-dir DIR (--example NAME | --problem Q --answer A | "
        "--data FILE) [flags]",
    )
    _add_train_options(one)
    run = sub.add_parser("run", help="train from a YAML config (flags still override it)",
                         usage=f"{PROG} run --config FILE [flags]")
    _add_train_options(run)
    plot = sub.add_parser("plot", help="PNG training curves of a run")
    plot.add_argument("run_dir")
    plot.add_argument("--out", help="PNG path (default: RUN_DIR/curves.png)")
    rank = sub.add_parser("rank", help="rank examples by the variance of their training accuracy")
    rank.add_argument("run_dir")
    rank.add_argument("--top", type=int, help="show only the first K")
    download = sub.add_parser("download", help="save the paper's training examples from the hub "
                              "as DIR/train/<name>.jsonl (for --data-dir; benchmarks: rlvr-eval download)")
    download.add_argument("dir")
    download.add_argument("--examples", nargs="+", action="extend", metavar="NAME",
                          help="example names, commas or spaces (default: pi1 pi2 pi13)")
    download.add_argument("--hub-dataset", default=None, help="hub dataset (default: the paper's)")
    tiny = sub.add_parser("tiny-model", help="save a tiny random Qwen2 chat model (offline demos, tests)")
    tiny.add_argument("out_dir")
    tiny.add_argument("--seed", type=int, default=0)
    return parser


def resolve_config(args: argparse.Namespace) -> Any:
    """TrainConfig from defaults, ``--config`` and flags."""
    from rlvr_train.config import TrainConfig, load_config
    from rlvr_train.config_flags import given_values

    if args.command == "run" and not args.config:
        raise UsageError("run needs --config FILE")
    given = given_values(args, TrainConfig)
    if given.get("eval_tasks") == []:  # "--eval-tasks" with no names: switch evaluation off
        given["eval_every"] = 0
    if given.get("problem") is not None and given.get("answer") is None:
        raise UsageError("--problem needs --answer")
    if given.get("answer") is not None and given.get("problem") is None:
        raise UsageError("--answer is only used with --problem")
    cfg = load_config(args.config, given, none_is_unset=False)
    if args.command == "one-shot" and "model" not in given and not args.config:
        raise UsageError("one-shot needs --model PATH_OR_HUB_ID")
    if args.command == "one-shot" and "output_dir" not in given and not args.config:
        raise UsageError("one-shot needs --output-dir DIR")
    return cfg


def check_references(examples: Sequence[Any]) -> None:
    """Every reference must be gradable: a boxed copy of it has to verify as correct against itself.

    Otherwise every rollout would score 0 and training would silently learn nothing.
    """
    from rlvr_eval import verify

    for ex in examples:
        verdict = verify(f"\\boxed{{{ex.answer}}}", ex.answer)
        if not verdict.correct:
            raise UsageError(
                f"the verifier cannot grade reference answer {ex.answer!r} of example {ex.index} "
                f"({verdict.content.value}); fix the answer"
            )


def _train(args: argparse.Namespace) -> int:
    from rlvr_train.data import load_examples
    from rlvr_train.distributed import env_rank
    from rlvr_train.trainer import train

    cfg = resolve_config(args)
    if cfg.dry_run:
        sys.stdout.write(cfg.to_yaml())
        return 0
    examples = load_examples(cfg)
    check_references(examples)
    if cfg.eval_every and cfg.eval_tasks:  # fail now, not after the first 20 steps
        from rlvr_eval.tasks import get_task

        for name in cfg.eval_tasks:
            try:
                get_task(name)
            except KeyError as exc:
                raise UsageError(str(exc).strip("'\"")) from None
    out = train(cfg, examples=examples, progress=not args.quiet)
    if env_rank() == 0:  # under torchrun, one line for the run rather than one per rank
        print(f"{PROG}: done; checkpoints and metrics in {out}")
    return 0


def _download(args: argparse.Namespace) -> int:
    import re

    from rlvr_train.config import PAPER_HUB_DATASET
    from rlvr_train.data import download_examples

    names = [n for spec in args.examples or ["pi1 pi2 pi13"] for n in re.split(r"[,\s]+", spec) if n]
    download_examples(list(dict.fromkeys(names)), args.dir, args.hub_dataset or PAPER_HUB_DATASET)
    print(f"use it with --data-dir {args.dir}; benchmarks for evaluation: rlvr-eval download {args.dir}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from rlvr_eval.tasks import TaskDataError
    from rlvr_train.config import ConfigError
    from rlvr_train.data import DataError
    from rlvr_train.trainer import TrainError

    try:
        if args.command in ("one-shot", "run"):
            return _train(args)
        if args.command == "download":
            return _download(args)
        if args.command == "tiny-model":
            from rlvr_train.tiny_model import build_tiny_model

            print(build_tiny_model(args.out_dir, seed=args.seed))
            return 0
        if args.command == "plot":
            from rlvr_train.plot import plot_run

            print(plot_run(args.run_dir, args.out))
            return 0
        from rlvr_train.rank import format_ranking, rank_examples

        scores = rank_examples(args.run_dir)
        if not scores:
            raise UsageError(f"{args.run_dir}: no per-example accuracy in metrics.jsonl")
        print(format_ranking(scores, args.top))
        return 0
    except (UsageError, ConfigError, DataError, TrainError, TaskDataError, OSError, ValueError) as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
