"""lighteval custom tasks: loaded by a real lighteval, scoring a predictions set exactly like ``rlvr-eval``.

Needs lighteval (its own environment: lighteval 0.13 pins latex2sympy2_extended 1.0.6, rlvr 1.11.0).
There rlvr grades through ``RLVR_PYTHON`` (the python of an environment with rlvr installed normally);
the end-to-end test skips unless grading works in this interpreter or ``RLVR_PYTHON`` is set.
The grader tests at the top need only rlvr.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rlvr_eval import verify
from rlvr_eval.integrations import lighteval_tasks as lt
from rlvr_eval.tasks import TASKS, get_task

HAS_LIGHTEVAL = importlib.util.find_spec("lighteval") is not None
needs_lighteval = pytest.mark.skipif(not HAS_LIGHTEVAL, reason="lighteval is not installed (its own env)")


def rlvr_python() -> str | None:
    """An interpreter that grades with rlvr's pinned dependencies: this one, else $RLVR_PYTHON."""
    if lt.grader_problem() is None:
        return sys.executable
    return os.environ.get(lt.PYTHON_ENV) or None


REQUESTS = [
    {"completion": "so $\\boxed{\\int_0^1 x\\,dx}$", "reference": "\\frac{1}{2}",
     "answer_format": "boxed", "options": {}, "prompt": "Compute the area.", "finish_reason": None},
    {"completion": "The answer is (C).", "reference": "C", "answer_format": "multiple_choice",
     "options": {"answer_type": "choice", "choices": ["A", "B", "C", "D"]}, "prompt": None,
     "finish_reason": None},
    {"completion": "\\boxed{3 cm}", "reference": "3", "answer_format": "boxed",
     "options": {"unit": "cm"}, "prompt": None, "finish_reason": "length"},
]


def direct(request: dict[str, Any]) -> Any:
    from rlvr_eval import EquivalenceOptions

    return verify(request["completion"], request["reference"], answer_format=request["answer_format"],
                  options=EquivalenceOptions(**request["options"]), prompt=request["prompt"],
                  finish_reason=request["finish_reason"])


def test_grader_problem_names_the_version_conflict() -> None:
    from importlib.metadata import version

    problem = lt.grader_problem()
    installed = version("latex2sympy2_extended")
    if problem is None:
        assert installed == "1.11.0"
    else:
        assert "rlvr needs latex2sympy2_extended==" in problem
        assert f"this environment has {installed}" in problem


def test_grade_loop_replies_with_verdicts_and_survives_bad_lines() -> None:
    if lt.grader_problem() is not None:
        pytest.skip("grading in this interpreter is what the version conflict prevents")
    lines = [json.dumps(r) for r in REQUESTS] + ["not json", "", json.dumps(REQUESTS[0])]
    stdin = io.StringIO("\n".join(lines))
    stdout = io.StringIO()
    lt.serve_grading(stdin, stdout)
    replies = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(replies) == 5 and "error" in replies[3]
    expected = [direct(r).model_dump(mode="json") for r in REQUESTS]
    assert replies[:3] == expected and replies[4] == expected[0]
    assert [r["correct"] for r in replies[:3]] == [True, True, False]  # the last one is truncated


def test_external_grader_process_equals_verify() -> None:
    python = rlvr_python()
    if python is None:
        pytest.skip(f"no interpreter with rlvr's latex2sympy2_extended (set {lt.PYTHON_ENV})")
    grader = lt._ExternalGrader(python)
    try:
        verdicts = [grader.grade(r) for r in REQUESTS]
        assert [v.correct for v in verdicts] == [True, True, False]
        assert verdicts[0].content.value == "equal"  # the symbolic path worked over there
        if python == sys.executable:
            assert verdicts == [direct(r) for r in REQUESTS]
        with pytest.raises(ValueError, match="rlvr grader: KeyError"):
            grader.grade({"reference": "1"})
        assert grader.grade(REQUESTS[1]).correct  # still serving after a bad request
    finally:
        grader.close()


def test_grade_refuses_to_guess_when_it_cannot_grade(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lt, "_GRADER", {})
    monkeypatch.setattr(lt, "grader_problem", lambda: "rlvr needs latex2sympy2_extended==1.11.0, not 1.0.6")
    monkeypatch.delenv(lt.PYTHON_ENV, raising=False)
    with pytest.raises(RuntimeError, match="set RLVR_PYTHON to the python of an environment where rlvr"):
        lt.grade(REQUESTS[0])


# ---------------------------------------------------------------------------- inside lighteval


@needs_lighteval
def test_custom_tasks_module_as_lighteval_loads_it(tmp_path: Path) -> None:
    """lighteval's registry import of the module gives one config per rlvr benchmark, with our metric."""
    from lighteval.tasks.lighteval_task import LightevalTask
    from lighteval.tasks.registry import Registry

    module = Registry.create_custom_tasks_module("rlvr_eval.integrations.lighteval_tasks")
    configs = Registry._extract_configs(module)
    assert set(configs) == {f"rlvr:{name}" for name in TASKS}
    math = configs["rlvr:math500"]
    assert [m.metric_name for m in math.metrics] == [list(lt.METRIC_NAMES)]
    assert math.generation_size == get_task("math500").max_tokens

    data = write_data(tmp_path)
    task = LightevalTask(lt.task_config("math500", data))
    docs = task.eval_docs()
    items = get_task("math500").load(data_dir=data)
    assert [d.specific["rlvr_item"]["id"] for d in docs] == [i.id for i in items]
    assert [d.specific["rlvr_item"]["reference"] for d in docs] == [i.reference for i in items]
    assert docs[0].query == f"{items[0].question}\n{lt.INSTRUCTION}"


@needs_lighteval
def test_every_benchmark_loads_through_lighteval_as_rlvr_items(data_dir: Path) -> None:
    """lighteval's own dataset loading + our prompt function give exactly ``rlvr-eval``'s items."""
    from lighteval.tasks.lighteval_task import LightevalTask

    for name in TASKS:
        docs = LightevalTask(lt.task_config(name, data_dir)).eval_docs()
        items = get_task(name).load(data_dir=data_dir)
        assert [d.specific["rlvr_item"] for d in docs] == [i.model_dump(mode="json") for i in items], name
        assert {d.specific["answer_format"] for d in docs} == {get_task(name).answer_format}


# ---------------------------------------------------------------------------- end to end

ROWS = [  # math500's schema, made up here (questions need not be real: only grading is compared)
    ("What is $\\int_0^1 x\\,dx$?", "\\frac{1}{2}", "so $\\boxed{0.5}$"),
    ("Area of the triangle?", "\\frac{1}{2}", "area $= \\boxed{\\int_0^1 t\\,dt}$"),  # symbolic path
    ("Simplify $\\sin^2 x + \\cos^2 x$.", "1", "The answer is 1."),  # right but unboxed
    ("Solve $x^2=4$.", "2, -2", "\\boxed{-2, 2}"),
    ("What is $2+3$?", "5", "\\boxed{6}"),
    ("Interval?", "[1, 2)", "\\boxed{[1,2)}"),
    ("Expand $(x+1)^2$.", "x^2+2x+1", "\\boxed{(x+1)(x+1)}"),
    ("Give $\\sqrt{8}$ simplified.", "2\\sqrt{2}", "I think $\\boxed{\\sqrt{8}}$"),
]

LAUNCHER = '''"""lighteval's own CLI, offline: two of its built-in task modules go online at import."""
import sys
import huggingface_hub
import requests

_get = requests.get


def _offline_get(url, *args, **kwargs):
    if "tinyBenchmarks" in str(url):  # tiny_benchmarks downloads a pickle at import time
        response = requests.Response()
        response.status_code = 404
        return response
    return _get(url, *args, **kwargs)


requests.get = _offline_get
huggingface_hub.HfApi.list_models = lambda self, *a, **k: iter([object()])  # mt_bench's judge check
from lighteval.__main__ import app

sys.argv[0] = "lighteval"
sys.exit(app())
'''

PREDICTIONS_MODEL = '''"""A lighteval model that answers with saved completions (by task and item id)."""
import json
import os

from lighteval.models.abstract_model import LightevalModel
from lighteval.models.model_output import ModelResponse
from lighteval.utils.cache_management import SampleCache


class PredictionsModel(LightevalModel):
    def __init__(self, config):
        self.config = config
        self._cache = SampleCache(config)  # the pipeline wants one; greedy_until is not @cached
        self.completions = {}
        with open(os.environ["RLVR_TEST_PREDICTIONS"], encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                self.completions.setdefault((row["task"], row["item_id"]), []).append(row["completion"])

    @property
    def tokenizer(self):
        return None

    @property
    def add_special_tokens(self):
        return False

    @property
    def max_length(self):
        return 4096

    def greedy_until(self, docs):
        items = [doc.specific["rlvr_item"] for doc in docs]
        return [ModelResponse(text=self.completions[(item["task"], item["id"])]) for item in items]

    def loglikelihood(self, docs):
        raise NotImplementedError

    def loglikelihood_rolling(self, docs):
        raise NotImplementedError
'''


def write_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "math500").mkdir(parents=True, exist_ok=True)
    rows = [
        {"problem": q, "solution": f"... $\\boxed{{{a}}}$", "answer": a, "subject": "Algebra", "level": 1,
         "unique_id": f"test/algebra/{i}.json"}
        for i, (q, a, _) in enumerate(ROWS)
    ]
    (data / "math500" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


@pytest.mark.slow
@needs_lighteval
def test_lighteval_cli_scores_like_rlvr_eval_rescore(tmp_path: Path) -> None:
    python = rlvr_python()
    if python is None:
        pytest.skip(f"rlvr cannot grade here (lighteval's pin) and {lt.PYTHON_ENV} is not set")
    data = write_data(tmp_path)
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(
        json.dumps({"task": "math500", "item_id": f"test/algebra/{i}.json", "completion": c}) + "\n"
        for i, (_, _, c) in enumerate(ROWS)
    ))
    env = {**os.environ, "RLVR_DATA_DIR": str(data), "RLVR_TEST_PREDICTIONS": str(predictions),
           lt.PYTHON_ENV: python, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}

    # rlvr's side: score the predictions, then rescore the run (in an interpreter that can grade).
    run = tmp_path / "run"
    score = ["score", str(predictions), "--backend", "predictions", "--tasks", "math500", "--data-dir",
             str(data), "--output-dir", str(run), "--verify-workers", "1", "--no-progress"]
    for args in (score, ["rescore", str(run), "--verify-workers", "1"]):
        proc = subprocess.run([python, "-m", "rlvr_eval.cli", *args], capture_output=True, text=True,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
    rlvr = json.loads((run / "results.json").read_text())["tasks"]["math500"]
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines() if line.strip()]
    by_item = {s["item_id"]: s["verdict"] for s in samples}

    # lighteval's side: its own CLI with the custom tasks module, as a user would run it.
    (tmp_path / "launcher.py").write_text(LAUNCHER)
    (tmp_path / "predictions_model.py").write_text(PREDICTIONS_MODEL)
    out = tmp_path / "lighteval"
    command = ["custom", "predictions", str(tmp_path / "predictions_model.py"), "rlvr:math500|0",
               "--custom-tasks", "rlvr_eval.integrations.lighteval_tasks", "--output-dir", str(out),
               "--save-details"]
    proc = subprocess.run([sys.executable, str(tmp_path / "launcher.py"), *command],
                          capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (results_file,) = out.glob("results/predictions/results_*.json")
    scores = json.loads(results_file.read_text())["results"]["rlvr:math500|0"]
    assert scores["rlvr_strict"] == pytest.approx(rlvr["strict_accuracy"])
    assert scores["rlvr_lenient"] == pytest.approx(rlvr["lenient_accuracy"])

    import pyarrow.parquet as pq

    (details_file,) = out.glob("details/predictions/*/details_rlvr:math500|0_*.parquet")
    details = pq.read_table(details_file).to_pylist()
    assert len(details) == len(ROWS)
    for row in details:
        doc, metric = _parse(row["doc"]), _parse(row["metric"])
        verdict = by_item[doc["specific"]["rlvr_item"]["id"]]
        assert metric == {"rlvr_strict": float(verdict["correct"]),
                          "rlvr_lenient": float(verdict["content"] == "equal"),
                          "rlvr_format": float(verdict["format_ok"])}
    # rlvr reads lighteval's own details file back (rescore of saved outputs): every row matches its item
    # and lighteval's saved metric (rlvr_lenient, computed by rlvr) agrees with rlvr's lenient verdict.
    rescored = tmp_path / "rescored"
    proc = subprocess.run([python, "-m", "rlvr_eval.cli", "rescore", str(details_file), "--output-dir",
                           str(rescored), "--verify-workers", "1", "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    agreement = json.loads((rescored / "agreement.json").read_text())["tasks"]["math500"]
    assert agreement["grader"] == "lighteval rlvr_lenient" and agreement["compared"] == len(ROWS)
    assert agreement["agreement"] == 1.0 and (rescored / "disagreements.jsonl").read_text() == ""
    # The symbolic-only item is graded correct on both sides (it is the one the version conflict breaks).
    assert by_item["test/algebra/1.json"]["correct"] is True
    assert 0 < rlvr["strict_accuracy"] < rlvr["lenient_accuracy"]


def _parse(value: Any) -> Any:
    return ast.literal_eval(value) if isinstance(value, str) else value
