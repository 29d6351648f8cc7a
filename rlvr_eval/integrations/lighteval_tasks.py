"""lighteval custom tasks: rlvr's benchmarks, graded by rlvr's verifier.

    lighteval vllm "model_name=Qwen/Qwen2.5-Math-1.5B" "rlvr:math500|0" \\
        --custom-tasks rlvr_eval.integrations.lighteval_tasks
    lighteval vllm "model_name=..." "rlvr|0" --custom-tasks ...   # every rlvr benchmark

One ``LightevalTaskConfig`` per rlvr benchmark, named ``rlvr:<task>`` (``rlvr-eval tasks`` lists them).
Rows become items with the benchmark's own rlvr adapter, so references, equivalence options and
answer formats are the ones ``rlvr-eval`` uses. With ``RLVR_DATA_DIR`` set, data is read from
``$RLVR_DATA_DIR/<task>/test.jsonl``; otherwise from the benchmark's Hugging Face dataset.

Metrics, per document averaged over its samples, then over documents: ``rlvr_strict`` (correct
and in the requested format: ``rlvr-eval``'s strict accuracy), ``rlvr_lenient`` (the content equals
the reference wherever the answer was found) and ``rlvr_format`` (the requested format was found).
Each is `rlvr_eval.verify` on the raw generation with the item's reference, options and question,
exactly as ``rlvr-eval score`` / ``rescore`` grade it.

The version conflict, and how it is avoided: lighteval 0.13 pins ``latex2sympy2_extended==1.0.6``,
rlvr needs 1.11.0 (rlvr's symbolic comparison fails on 1.0.6). If this interpreter has the version
rlvr was built against, grading runs here. Otherwise it runs in another interpreter whose
environment has rlvr installed normally, named by ``RLVR_PYTHON`` (``RLVR_PYTHON=~/rlvr/bin/python``):
one persistent ``python -m rlvr_eval.integrations.lighteval_tasks --grade`` process speaking JSON
lines. Without either, the first grade fails with a message saying so, never a silently wrong score.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from rlvr_eval.tasks import TASKS, Item, get_task
from rlvr_eval.verifier.schema import AnswerFormat, EquivalenceOptions, Verdict

__all__ = [
    "INSTRUCTION",
    "METRIC_NAMES",
    "PYTHON_ENV",
    "TASKS_TABLE",
    "GradeRequest",
    "grade",
    "grader_problem",
    "task_config",
]

#: The instruction of rlvr's evaluation prompt (qwen25-math-cot system line), appended to the question.
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
PYTHON_ENV = "RLVR_PYTHON"
TASK_PREFIX = "rlvr:"
METRIC_NAMES = ("rlvr_strict", "rlvr_lenient", "rlvr_format")
_LIBRARY = "latex2sympy2_extended"

GradeRequest = dict[str, Any]
"""``{"completion", "reference", "answer_format", "options", "prompt", "finish_reason"}`` (JSON-able)."""


# ---------------------------------------------------------------------------- grading


def grader_problem() -> str | None:
    """Why rlvr cannot grade in this interpreter (None if it can): the installed latex2sympy2_extended
    differs from the version the installed rlvr requires."""
    from importlib.metadata import PackageNotFoundError, requires, version

    try:
        installed = version(_LIBRARY)
    except PackageNotFoundError:
        return f"{_LIBRARY} is not installed"
    try:
        needed = [r for r in (requires("rlvr") or []) if r.replace("-", "_").startswith(f"{_LIBRARY}==")]
    except PackageNotFoundError:
        return None  # rlvr run from a source tree: trust the environment
    wanted = needed[0].split("==", 1)[1].split(";")[0].strip() if needed else installed
    if installed != wanted:
        return f"rlvr needs {_LIBRARY}=={wanted} but this environment has {installed} (lighteval's pin)"
    return None


def _grade_here(request: Mapping[str, Any]) -> Verdict:
    from rlvr_eval import verify

    return verify(
        request["completion"],
        request["reference"],
        answer_format=request.get("answer_format", "boxed"),
        options=EquivalenceOptions.model_validate(request.get("options") or {}),
        prompt=request.get("prompt"),
        finish_reason=request.get("finish_reason"),
    )


class _ExternalGrader:
    """A persistent ``--grade`` process in rlvr's own environment; one JSON line each way per request."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.lock = threading.Lock()  # lighteval may call metrics from threads; one exchange at a time
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            cmd = [self.python, "-m", "rlvr_eval.integrations.lighteval_tasks", "--grade"]
            try:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                             encoding="utf-8", bufsize=1)
            except OSError as err:
                raise RuntimeError(f"{PYTHON_ENV}={self.python} cannot be started: {err}") from err
        return self.proc

    def grade(self, request: Mapping[str, Any]) -> Verdict:
        with self.lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        if not line:
            where = f"{PYTHON_ENV}={self.python}"
            raise RuntimeError(f"the rlvr grader ({where}) exited; is rlvr installed there?")
        reply = json.loads(line)
        if "error" in reply:
            raise ValueError(f"rlvr grader: {reply['error']}")
        return Verdict.model_validate(reply)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


_GRADER: dict[str, Any] = {}
_GRADER_LOCK = threading.Lock()


def grade(request: Mapping[str, Any]) -> Verdict:
    """rlvr's verdict on one request, here or in the ``RLVR_PYTHON`` interpreter (see the module doc)."""
    with _GRADER_LOCK:
        if "mode" not in _GRADER:
            problem = grader_problem()
            python = os.environ.get(PYTHON_ENV)
            if problem is None:
                _GRADER["mode"] = "here"
            elif python:
                _GRADER["mode"], _GRADER["external"] = "external", _ExternalGrader(python)
            else:
                raise RuntimeError(
                    f"{problem}; set {PYTHON_ENV} to the python of an environment where rlvr is installed "
                    f"(pip install rlvr), or install {_LIBRARY} at rlvr's version here"
                )
    if _GRADER["mode"] == "here":
        return _grade_here(request)
    external: _ExternalGrader = _GRADER["external"]
    return external.grade(request)


def serve_grading(stdin: IO[str], stdout: IO[str]) -> None:
    """The ``--grade`` loop: a JSON request per line in, a verdict (or ``{"error": ...}``) per line out."""
    for line in stdin:
        if not line.strip():
            continue
        try:
            reply: dict[str, Any] = _grade_here(json.loads(line)).model_dump(mode="json")
        except Exception as err:  # one bad request must not end the grader
            reply = {"error": " ".join(f"{type(err).__name__}: {err}".split())[:300]}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


# ---------------------------------------------------------------------------- lighteval glue


def request_for(item: Item, completion: str, answer_format: AnswerFormat,
                finish_reason: str | None = None) -> GradeRequest:
    """What ``rlvr-eval`` passes to the verifier for one sample of ``item``."""
    return {
        "completion": completion,
        "reference": item.reference,
        "answer_format": answer_format,
        "options": item.options.model_dump(mode="json"),
        "prompt": item.question,
        "finish_reason": finish_reason,
    }


class _RowToDoc:
    """lighteval's ``prompt_function``: a dataset row -> Doc, through the benchmark's rlvr adapter.

    A class rather than a closure so lighteval can pickle it (multi-process dataset loading).
    """

    def __init__(self, task: str) -> None:
        self.task = task
        self.__name__ = f"rlvr_{task}_prompt"  # what lighteval prints for the prompt function

    def __repr__(self) -> str:
        return self.__name__

    def __call__(self, line: dict[str, Any], task_name: str | None = None) -> Any:
        from lighteval.tasks.requests import Doc

        rlvr_task = get_task(self.task)
        row = {k: v for k, v in line.items() if not k.startswith("__")}
        item = rlvr_task.row_to_item(row, int(line.get("__index", 0)))
        refs = item.reference if isinstance(item.reference, list) else [item.reference]
        return Doc(
            task_name=task_name or f"{TASK_PREFIX}{self.task}",
            query=f"{item.question}\n{INSTRUCTION}",
            choices=[", ".join(refs)],  # display only: grading uses the item in `specific`
            gold_index=0,
            specific={"rlvr_item": item.model_dump(mode="json"), "answer_format": rlvr_task.answer_format},
        )


def _finish_reason(doc: Any, response: Any, index: int) -> str | None:
    """"length" when the sample used the whole generation budget (lighteval gives no finish reason)."""
    budget = getattr(doc, "generation_size", None)
    tokens = getattr(response, "output_tokens", None) or []
    if budget and index < len(tokens) and len(tokens[index]) >= budget:
        return "length"
    return None


def score_doc(doc: Any, response: Any) -> dict[str, float]:
    """The three rlvr metrics of one document, each averaged over its samples."""
    specific = doc.specific or {}
    item = Item.model_validate(specific["rlvr_item"])
    texts = list(response.text or [])
    if not texts:
        return dict.fromkeys(METRIC_NAMES, 0.0)
    answer_format = specific.get("answer_format", "boxed")
    verdicts = [
        grade(request_for(item, text, answer_format, _finish_reason(doc, response, i)))
        for i, text in enumerate(texts)
    ]
    n = len(verdicts)
    return {
        "rlvr_strict": sum(v.correct for v in verdicts) / n,
        "rlvr_lenient": sum(v.lenient_correct for v in verdicts) / n,
        "rlvr_format": sum(v.format_ok for v in verdicts) / n,
    }


def _metric() -> Any:
    import numpy as np
    from lighteval.metrics.metrics_sample import SampleLevelComputation
    from lighteval.metrics.utils.metric_utils import SampleLevelMetricGrouping
    from lighteval.tasks.requests import SamplingMethod

    class RlvrVerifier(SampleLevelComputation):
        """rlvr's verifier (rlvr_eval.verify) on every sample of a document."""

        def compute(self, doc: Any, model_response: Any, **kwargs: Any) -> dict[str, float]:
            return score_doc(doc, model_response)

    return SampleLevelMetricGrouping(
        metric_name=list(METRIC_NAMES),
        higher_is_better=dict.fromkeys(METRIC_NAMES, True),
        category=SamplingMethod.GENERATIVE,
        sample_level_fn=RlvrVerifier(),
        corpus_level_fn=dict.fromkeys(METRIC_NAMES, np.mean),
    )


def task_config(name: str, data_dir: str | Path | None = None, metric: Any = None) -> Any:
    """The ``LightevalTaskConfig`` of rlvr benchmark ``name`` (local data if ``data_dir`` is given)."""
    from lighteval.tasks.lighteval_task import LightevalTaskConfig

    task = get_task(name)
    if data_dir is not None:
        repo, subset, split = str(Path(data_dir).expanduser() / name), "default", "test"
    elif task.hf_dataset:
        repo, subset, split = task.hf_dataset, task.hf_config or "default", task.hf_split
    else:
        raise ValueError(f"{name} has no Hugging Face dataset; set RLVR_DATA_DIR")
    return LightevalTaskConfig(
        name=f"{TASK_PREFIX}{name}",
        prompt_function=_RowToDoc(name),
        hf_repo=repo,
        hf_subset=subset,
        hf_avail_splits=[split],
        evaluation_splits=[split],
        few_shots_split=None,
        few_shots_select=None,
        generation_size=task.max_tokens,
        metrics=[metric if metric is not None else _metric()],
        version=0,
    )


def _tasks_table() -> list[Any]:
    try:
        import lighteval  # noqa: F401
    except ImportError:  # imported for the --grade loop in rlvr's own environment
        return []
    metric = _metric()
    data_dir = os.environ.get("RLVR_DATA_DIR") or None
    return [task_config(name, data_dir, metric) for name in TASKS]


TASKS_TABLE = _tasks_table()


if __name__ == "__main__":
    if sys.argv[1:] != ["--grade"]:
        sys.exit("usage: python -m rlvr_eval.integrations.lighteval_tasks --grade  (JSON lines on stdin)")
    serve_grading(sys.stdin, sys.stdout)
