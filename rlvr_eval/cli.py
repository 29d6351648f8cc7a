"""``rlvr-eval``: score a model, rescore a run, compare runs, verify one answer, list benchmarks.

    rlvr-eval score Qwen/Qwen2.5-Math-1.5B --tasks math500,aime24 --output-dir runs/base
    rlvr-eval rescore runs/base
    rlvr-eval rescore qwen_outputs/ --output-dir runs/qwen-rescored   # another tool's outputs
    rlvr-eval compare runs/base runs/pi1 --output delta.md
    rlvr-eval verify --reference '\\frac{1}{2}' --completion 'so \\boxed{0.5}'
    rlvr-eval verify --reference '[2,9)' --completion 'so $t \\in [2, 9)$' --lenient --explain
    rlvr-eval tasks
    rlvr-eval download data/ --tasks paper  # hub datasets -> data/<task>/test.jsonl, for offline runs
    rlvr-eval serve-reward --port 5000      # OpenRLHF remote reward model protocol
    rlvr-eval sweep runs/pi1                # score every checkpoint of a training run, pick the paper's

Expected failures (unknown benchmark, missing data, bad model path, port in use...) print one line
``rlvr-eval: error: ...`` and exit with status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, get_args

from rlvr_eval.config import seconds_arg
from rlvr_eval.integrations.reward_server import add_serve_reward_parser, cmd_serve_reward
from rlvr_eval.verifier.schema import AnswerFormat, AnswerType

PROG = "rlvr-eval"
EXIT_ERROR = 2
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
# rlvr_eval.saved_outputs.FORMATS, spelled out: importing that package here would slow every command.
SAVED_OUTPUT_FORMATS = ("rlvr", "qwen", "lm-eval", "lighteval", "jsonl")


class UsageError(ValueError):
    """Bad command-line input, reported like any other expected error."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, like every other error (argparse would print the whole usage first)."""
        raise UsageError(f"{message} (see {self.prog} --help)")


def _add_sweep(sub: Any) -> None:
    p = sub.add_parser("sweep", help="score every checkpoint of a training run and select the best one")
    p.add_argument("paths", nargs="+", metavar="RUN_DIR_OR_MODEL",
                   help="an rlvr-train run directory (its checkpoint-*), or model directories")
    p.add_argument("--every", type=int, metavar="K",
                   help="only checkpoints whose step is a multiple of K (the newest is always kept)")
    p.add_argument("--baseline", metavar="MODEL",
                   help="score this as step 0 (default: the initial model in the run's config.yaml)")
    p.add_argument("--no-baseline", action="store_true", help="do not score the initial model")
    _add_score_options(p, run_name_help="title of the sweep reports (default: the run directory's name)",
                       output_dir_help="sweep directory: one score run per model, sweep.json/md/html "
                       "(default RUN_DIR/sweep)")


def _add_score(sub: Any) -> None:
    p = sub.add_parser("score", help="generate, verify and score a model on benchmarks")
    p.add_argument("model", nargs="?", help="model path or hub id (predictions backend: the file)")
    _add_score_options(p)


def _add_score_options(
    p: argparse.ArgumentParser,
    run_name_help: str = "row label in reports (default: the model's basename)",
    output_dir_help: str = "run directory (default runs/eval)",
) -> None:
    """The settings of a score run, shared by ``score`` and ``sweep``."""
    p.add_argument("--config", help="YAML file of EvalConfig settings; flags override it")
    add_tasks_argument(p)
    p.add_argument("--backend", choices=["vllm", "hf", "openai", "predictions"])
    p.add_argument("--run-name", help=run_name_help)
    p.add_argument("--n", type=int, help="samples per item (default: per benchmark)")
    p.add_argument("--temperature", type=float, help="sampling temperature (default: per benchmark)")
    p.add_argument("--top-p", type=float)
    p.add_argument("--max-tokens", type=int, help="max new tokens (default: per benchmark, 3072)")
    p.add_argument("--seed", type=int)
    p.add_argument("--template", help="prompt template name or file (default qwen25-math-cot)")
    p.add_argument("--score-mode", choices=["strict", "lenient"], help="headline score (default lenient)")
    p.add_argument("--limit", type=int, help="only the first N items of each benchmark")
    p.add_argument("--output-dir", help=output_dir_help)
    p.add_argument("--data-dir", help="benchmark files <dir>/<task>/test.jsonl (default $RLVR_DATA_DIR)")
    p.add_argument("--chunk-size", type=int, help="prompts generated between two saves")
    p.add_argument("--tensor-parallel-size", type=int)
    p.add_argument("--data-parallel-size", type=int)
    p.add_argument("--base-url", nargs="+", help="openai backend: server URL(s)")
    p.add_argument("--max-concurrency", type=int, help="openai backend: requests in flight")
    p.add_argument("--request-timeout", type=float, help="openai backend: seconds per request (default 600)")
    p.add_argument("--max-retries", type=int, help="openai backend: retries of a failed request (default 5)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--dtype")
    p.add_argument("--gpu-memory-utilization", type=float, help="vLLM: memory share (RAM on its CPU build)")
    p.add_argument("--max-model-len", type=int, help="vLLM: context length")
    p.add_argument("--enforce-eager", action="store_true", default=None, help="vLLM: no CUDA graphs")
    p.add_argument("--verify-timeout", type=seconds_arg, help="seconds per comparison (default 3)")
    p.add_argument("--verify-workers", type=int)
    _add_lenient_fallback(p)
    _add_no_answer_present(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_no_answer_present(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-answer-present", dest="answer_present", action="store_false", default=None,
        help="skip the answer-present check (is the reference stated anywhere in a completion whose "
        "final answer is wrong?), a second verifier pass",
    )


def _add_lenient_fallback(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lenient-fallback", choices=["none", "last_number"],
        help="lenient extraction when a completion states no answer: none (default) or last_number "
        "(the paper's harness: the last number in the text); changes lenient scores",
    )


def add_tasks_argument(parser: argparse.ArgumentParser, flag: str = "--tasks") -> None:
    """``--tasks`` as lm-eval and lighteval users type it: ``a,b``, ``"a b"``, ``a b``, repeated flags,
    groups (``paper``, ``all``). Names are expanded and checked by the config (``expand_task_names``)."""
    parser.add_argument(
        flag, nargs="+", action="extend", metavar="TASK",
        help="benchmarks, separated by commas or spaces, or a group: paper (the paper's six math "
        "benchmarks, the default), all; see `rlvr-eval tasks`",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Evaluate math reasoning models with the rlvr verifier.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_score(sub)
    _add_sweep(sub)

    p = sub.add_parser(
        "rescore", help="re-verify a run's saved completions, or grade another tool's saved outputs"
    )
    p.add_argument("path", metavar="PATH",
                   help="an rlvr run directory (rewritten in place), or other tools' output file or folder")
    add_tasks_argument(p)  # for other tools' outputs: the benchmarks they answer (default: from file names)
    p.add_argument("--format", dest="source_format", choices=SAVED_OUTPUT_FORMATS,
                   help="force the outputs' format (default: detected per file)")
    p.add_argument("--output-dir", help="new run directory for other tools' outputs (runs/rescore-NAME)")
    p.add_argument("--data-dir", help="benchmark files <dir>/<task>/test.jsonl (default $RLVR_DATA_DIR)")
    p.add_argument("--allow-missing", action="store_true",
                   help="score the items that have completions when some have none")
    p.add_argument("--run-name", help="row label in reports (default: the outputs' name)")
    p.add_argument("--verify-timeout", type=seconds_arg)
    p.add_argument("--verify-workers", type=int)
    p.add_argument("--score-mode", choices=["strict", "lenient"])
    _add_lenient_fallback(p)
    _add_no_answer_present(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("compare", help="per-benchmark deltas of runs against the first (baseline)")
    p.add_argument("runs", nargs="+", help="run directories or results.json files; the first is the baseline")
    p.add_argument("--output", help="also write the markdown table to this file")
    p.add_argument("--output-dir", help="write compare.md and compare.html (with a transitions chart) here")
    p.add_argument("--run-name", nargs="+", help="labels of the runs, one per run (default: directory names)")
    p.add_argument("--force", action="store_true",
                   help="compare runs whose settings differ (items, n, temperature, template, max tokens, "
                   "verifier, score mode); the differences are printed above the table")

    p = sub.add_parser("verify", help="grade one completion; exit 0 if correct, 1 if not")
    p.add_argument("--reference", required=True)
    p.add_argument("--completion", required=True, help="the completion text, or - to read stdin")
    p.add_argument("--format", default="boxed", dest="answer_format", choices=list(get_args(AnswerFormat)))
    p.add_argument("--lenient", action="store_true", help="accept answers outside the requested format")
    p.add_argument("--lenient-fallback", choices=["none", "last_number"], default="none",
                   help="when the completion states no answer: none, or the last number in the text")
    p.add_argument("--answer-type", choices=list(get_args(AnswerType)), default="auto",
                   help="what kind of answer the reference is (default: inferred)")
    p.add_argument("--multiple-answers", action="store_true", help="the reference lists several answers")
    p.add_argument("--prompt", help="the question (an answer that only restates it is not credited)")
    p.add_argument("--timeout", type=seconds_arg, default=3.0)
    p.add_argument("--answer-present", action="store_true",
                   help="also say whether the reference is stated anywhere in the completion")
    p.add_argument("--explain", action="store_true",
                   help="print the extraction, both parsed answers and the rule that decided")

    sub.add_parser("tasks", help="list the benchmarks, groups and their data sources")

    p = sub.add_parser("download", help="save hub datasets as DIR/<task>/test.jsonl (for --data-dir)")
    p.add_argument("dir", help="data directory to write (use it later as --data-dir or $RLVR_DATA_DIR)")
    add_tasks_argument(p)
    add_serve_reward_parser(sub)  # OpenRLHF remote reward service (rlvr_eval/integrations)
    return parser


# ---------------------------------------------------------------- commands


def _score_config(args: argparse.Namespace) -> Any:
    from rlvr_eval.config import EvalConfig

    overrides = {
        "model": args.model, "tasks": args.tasks, "backend": args.backend, "run_name": args.run_name,
        "n": args.n, "temperature": args.temperature, "top_p": args.top_p, "max_tokens": args.max_tokens,
        "seed": args.seed, "template": args.template, "score_mode": args.score_mode, "limit": args.limit,
        "output_dir": args.output_dir, "data_dir": args.data_dir, "chunk_size": args.chunk_size,
        "tensor_parallel_size": args.tensor_parallel_size, "data_parallel_size": args.data_parallel_size,
        "base_url": args.base_url, "max_concurrency": args.max_concurrency, "batch_size": args.batch_size,
        "request_timeout": args.request_timeout, "max_retries": args.max_retries,
        "dtype": args.dtype, "verify_timeout": args.verify_timeout, "verify_workers": args.verify_workers,
        "gpu_memory_utilization": args.gpu_memory_utilization, "max_model_len": args.max_model_len,
        "enforce_eager": args.enforce_eager, "lenient_fallback": args.lenient_fallback,
        "answer_present": args.answer_present,
    }
    if args.config:
        return EvalConfig.from_yaml(args.config, **overrides)
    if args.model is None:
        raise UsageError("score needs a MODEL (or --config FILE with a model)")
    return EvalConfig.model_validate({k: v for k, v in overrides.items() if v is not None})


def check_model(model: str, backend: str) -> None:
    """Fail before any data loads when a local model path (or predictions file) does not exist."""
    if Path(model).expanduser().exists():
        return
    if backend == "predictions":
        raise UsageError(f"predictions file does not exist: {model}")
    looks_local = model.startswith(("/", ".", "~")) or not _HUB_ID.fullmatch(model)
    if backend in ("hf", "vllm") and looks_local:
        raise UsageError(f"model path does not exist: {model}")


def cmd_score(args: argparse.Namespace) -> int:
    from rlvr_eval.runner import backend_name, score
    from rlvr_eval.scoring.report_md import render_score_table

    config = _score_config(args)
    check_model(config.model, backend_name(config))
    results = score(config, show_progress=False if args.no_progress else None)
    print(render_score_table([results]))
    print(f"\nwrote {Path(config.output_dir) / 'results.json'}, report.md, report.html")
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    from rlvr_eval.runner import rescore
    from rlvr_eval.saved_outputs.discover import is_run_dir
    from rlvr_eval.scoring.report_md import render_score_table

    path = Path(args.path).expanduser()
    if args.source_format in (None, "rlvr") and is_run_dir(path):
        for flag, value in (("--output-dir", args.output_dir), ("--tasks", args.tasks),
                            ("--data-dir", args.data_dir), ("--run-name", args.run_name)):
            if value is not None:
                raise UsageError(f"{flag} is for other tools' outputs; {path} is rescored in place")
        results = rescore(
            path, timeout=args.verify_timeout, workers=args.verify_workers, score_mode=args.score_mode,
            lenient_fallback=args.lenient_fallback, answer_present=args.answer_present,
        )
        print(render_score_table([results]))
        return 0
    return _rescore_other_outputs(args, path)


def _rescore_other_outputs(args: argparse.Namespace, path: Path) -> int:
    from rlvr_eval.config import task_list
    from rlvr_eval.saved_outputs import rescore_outputs
    from rlvr_eval.scoring.agreement import DISAGREEMENTS_FILE
    from rlvr_eval.scoring.report_md import render_score_table

    regraded = rescore_outputs(
        path, tasks=task_list(args.tasks) if args.tasks else None, fmt=args.source_format,
        output_dir=args.output_dir, data_dir=args.data_dir,
        allow_missing=args.allow_missing, score_mode=args.score_mode or "lenient",
        timeout=args.verify_timeout if args.verify_timeout is not None else 3.0, workers=args.verify_workers,
        run_name=args.run_name, show_progress=False if args.no_progress else None,
        lenient_fallback=args.lenient_fallback or "none",
        answer_present=args.answer_present is not False,
    )
    print(render_score_table([regraded.results]))
    for note in regraded.notes:
        print(f"note: {note}")
    out = regraded.output_dir
    if regraded.agreement is not None:
        print("\n" + "\n".join(regraded.agreement.summary_lines()))
        print(f"disagreements: {out / DISAGREEMENTS_FILE}")
    print(f"\nwrote {out / 'results.json'}, report.md, report.html")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from rlvr_eval.scoring.compare import load_comparison, render_compare_markdown, write_compare_reports

    if len(args.runs) < 2:
        raise UsageError("compare needs at least two runs (the first is the baseline)")
    comparison = load_comparison([Path(r) for r in args.runs], args.run_name, force=args.force)
    for warning in comparison.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    text = render_compare_markdown(comparison)
    print(text, end="")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    if args.output_dir:
        written = write_compare_reports(comparison, Path(args.output_dir))
        print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from rlvr_eval.runner import backend_name
    from rlvr_eval.scoring.sweep_report import SWEEP_JSON_FILE, render_sweep_table, selection_summary
    from rlvr_eval.sweep import default_output_dir, discover_points, run_sweep

    paths = [Path(p).expanduser() for p in args.paths]
    points = discover_points(paths, every=args.every, baseline=args.baseline, no_baseline=args.no_baseline)
    out = Path(args.output_dir).expanduser() if args.output_dir else default_output_dir(paths)
    # The score settings shared by every point; each point replaces the model, name and directory.
    shared = argparse.Namespace(**{**vars(args), "model": points[0].model, "run_name": None})
    settings = _score_config(shared)
    for point in points:
        check_model(point.model, backend_name(settings))
    title = args.run_name or (paths[0].resolve().name if len(paths) == 1 else out.resolve().name)
    sweep = run_sweep(points, settings, out, title=title, show_progress=False if args.no_progress else None)
    print(render_sweep_table(sweep))
    print(f"\n{selection_summary(sweep)}")
    print(f"\nwrote {out / SWEEP_JSON_FILE}, sweep.md, sweep.html")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    import json

    from rlvr_eval.verifier.api import verify_request
    from rlvr_eval.verifier.explain import explain, render
    from rlvr_eval.verifier.schema import EquivalenceOptions, VerifyRequest

    completion = sys.stdin.read() if args.completion == "-" else args.completion
    options = EquivalenceOptions(answer_type=args.answer_type, multiple_answers=args.multiple_answers)
    request = VerifyRequest(
        completion, args.reference, answer_format=args.answer_format, options=options, prompt=args.prompt,
        strict=not args.lenient, timeout=args.timeout, lenient_fallback=args.lenient_fallback,
        check_answer_present=args.answer_present,
    )
    if args.explain:
        explanation = explain(request)
        print(render(explanation))
        return 0 if explanation.verdict.correct else 1
    verdict = verify_request(request)
    payload = {**verdict.model_dump(mode="json"), "lenient_correct": verdict.lenient_correct}
    print(json.dumps(payload, indent=2))
    return 0 if verdict.correct else 1


def cmd_tasks(args: argparse.Namespace) -> int:
    import os

    from rlvr_eval.tasks import PAPER_MATH_TASKS, TASK_GROUPS, get_task, task_names

    data_dir = os.environ.get("RLVR_DATA_DIR")
    print(f"{'name':<15} {'n':>2} {'temp':>4} {'format':<16} {'source':<32} description")
    for name in task_names():
        t = get_task(name)
        source = f"{t.hf_dataset}:{t.hf_split}" if t.hf_dataset else "-"
        mark = "*" if name in PAPER_MATH_TASKS else " "
        print(f"{name:<14}{mark} {t.default_n:>2} {t.default_temperature:>4} {t.answer_format:<16} "
              f"{source:<32} {t.description}")
    print("\n* the 1-shot RLVR paper's six math benchmarks (the default --tasks).")
    for group, members in TASK_GROUPS.items():
        print(f"group {group}: {' '.join(members)}")
    print("--tasks takes names and groups separated by commas or spaces: --tasks math500,gsm8k")
    where = data_dir or "not set: the Hugging Face hub is used"
    print(f"Local data: --data-dir or $RLVR_DATA_DIR ({where}), read as <dir>/<name>/test.jsonl; "
          "also jsonl:PATH for your own file.")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from rlvr_eval.config import task_list
    from rlvr_eval.download import download_tasks
    from rlvr_eval.tasks import PAPER_MATH_TASKS

    names = task_list(args.tasks) if args.tasks else list(PAPER_MATH_TASKS)
    download_tasks(names, args.dir)
    print(f"use it with --data-dir {args.dir} (or RLVR_DATA_DIR={args.dir})")
    return 0


COMMANDS = {
    "score": cmd_score,
    "sweep": cmd_sweep,
    "rescore": cmd_rescore,
    "compare": cmd_compare,
    "verify": cmd_verify,
    "tasks": cmd_tasks,
    "download": cmd_download,
    "serve-reward": cmd_serve_reward,
}


def _expected_errors() -> tuple[type[BaseException], ...]:
    """The project's error types plus OSError/ValueError: all are the user's input, not bugs."""
    from rlvr_eval.generation import BackendError
    from rlvr_eval.tasks import TaskDataError
    from rlvr_eval.templates import TemplateError
    from rlvr_eval.verifier.errors import VerificationError

    return (BackendError, TaskDataError, TemplateError, VerificationError, OSError, ValueError, KeyError)


def _message(err: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(err, ValidationError):  # one "field: problem" per error instead of pydantic's block
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors()
        )
        return f"invalid {err.title} settings: {problems}"
    # KeyError's str() adds quotes around its message; OSError may lack a filename in its str().
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    if isinstance(err, OSError) and err.filename and str(err.filename) not in text:
        text = f"{text}: {err.filename}"
    return " ".join(str(text).split()) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rlvr-eval``; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as err:
        print(f"{PROG}: error: {_message(err)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (a score run resumes from its samples.jsonl)", file=sys.stderr)
        return 130
    except Exception as err:
        if isinstance(err, _expected_errors()):
            print(f"{PROG}: error: {_message(err)}", file=sys.stderr)
            return EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
