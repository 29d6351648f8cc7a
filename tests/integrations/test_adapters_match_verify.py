"""Property: every adapter's verdict is `rlvr_eval.verify`'s verdict on the same inputs.

Completions are drawn from answer phrasings that exercise every format status (boxed, phrase, last
number, empty or unbalanced box, nothing) around answers of several kinds, graded against references
that sometimes match; each adapter is called the way its framework calls it. The lighteval metric
is checked only where lighteval is installed (its own environment).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr_eval import verify
from rlvr_eval.integrations.lighteval_tasks import PYTHON_ENV, grader_problem
from rlvr_eval.integrations.openrlhf import RewardSettings, response_text, reward_func
from rlvr_eval.integrations.reward_server import create_app
from rlvr_eval.integrations.trl import make_accuracy_reward, make_format_reward
from rlvr_eval.integrations.verl import compute_score
from rlvr_eval.verifier.schema import AnswerFormat, Verdict

ANSWERS = ["2", "-3", "\\frac{1}{2}", "0.5", "x^2+1", "(1, 2)", "\\sqrt{2}", "10\\%", "B", "3.14", "[0, 1)"]
TEMPLATES = [
    "So the answer is $\\boxed{{{a}}}$.",
    "The answer is {a}.",
    "Work...\n#### {a}",
    "Final Answer: The final answer is {a}. I hope it is correct.",
    "Answer: {a}",
    "{a}",
    "First \\boxed{{{b}}}, then finally \\boxed{{{a}}}",
    "\\boxed{{}} and nothing else",
    "unbalanced \\boxed{{{a}",
    "(B) because {a}",
    "no answer at all",
]
FORMATS: list[AnswerFormat] = ["boxed", "final_answer", "answer_colon", "gsm8k", "multiple_choice"]
PROMPTS = ["What is $1+1$?", "Simplify $x^2+1$.", "Pick one: (A) 1 (B) 2", ""]

completion = st.builds(
    lambda t, a, b, noise: noise + t.format(a=a, b=b),
    st.sampled_from(TEMPLATES), st.sampled_from(ANSWERS), st.sampled_from(ANSWERS),
    st.text(alphabet="ab 12$\n.", max_size=12),
)
case = st.tuples(completion, st.sampled_from(ANSWERS), st.sampled_from(PROMPTS))
batch = st.lists(case, min_size=1, max_size=4)
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIMEOUT = 20.0  # generous: a timeout on one side only would be load, not a disagreement


def expected(text: str, reference: str, prompt: str, fmt: AnswerFormat, strict: bool) -> Any:
    return verify(text, reference, answer_format=fmt, strict=strict, prompt=prompt or None, timeout=TIMEOUT)


@PROPERTY
@given(batch, st.sampled_from(FORMATS), st.booleans())
def test_trl_rewards_are_verify(cases: list[tuple[str, str, str]], fmt: AnswerFormat, strict: bool) -> None:
    texts, refs, prompts = (list(x) for x in zip(*cases, strict=True))
    accuracy = make_accuracy_reward(answer_format=fmt, strict=strict, workers=0, timeout=TIMEOUT,
                                    correct_reward=1.0, incorrect_reward=-1.0)
    fmt_reward = make_format_reward(answer_format=fmt, strict=strict)
    chat = [[{"role": "assistant", "content": t}] for t in texts]  # conversational data: same verdicts
    verdicts = [expected(t, r, p, fmt, strict) for t, r, p in cases]
    keywords = {"completion_ids": [[0]] * len(texts), "trainer_state": None, "answer": refs, "level": refs}
    assert accuracy(prompts=prompts, completions=chat, **keywords) == [
        1.0 if v.correct else -1.0 for v in verdicts
    ]
    format_rewards = fmt_reward(prompts=prompts, completions=texts, **keywords)
    assert format_rewards == [float(v.format_ok) for v in verdicts]
    assert accuracy.verdicts(prompts=prompts, completions=texts, answer=refs) == verdicts


@PROPERTY
@given(case, st.sampled_from(FORMATS), st.booleans())
def test_verl_compute_score_is_verify(c: tuple[str, str, str], fmt: AnswerFormat, strict: bool) -> None:
    text, ref, prompt = c
    result = compute_score(data_source="any", solution_str=text, ground_truth=ref,
                           extra_info={"question": prompt}, answer_format=fmt, strict=strict, timeout=TIMEOUT)
    verdict = expected(text, ref, prompt, fmt, strict)
    assert result["score"] == verdict.reward and result["acc"] == float(verdict.correct)
    assert (result["format"], result["content"], result["pred"]) == (
        verdict.format.value, verdict.content.value, verdict.extracted or "")


@PROPERTY
@given(batch, st.sampled_from(FORMATS), st.booleans())
def test_openrlhf_reward_func_and_server_are_verify(
    cases: list[tuple[str, str, str]], fmt: AnswerFormat, strict: bool
) -> None:
    from starlette.testclient import TestClient

    texts, refs, prompts = (list(x) for x in zip(*cases, strict=True))
    queries = [p + t for p, t in zip(prompts, texts, strict=True)]
    responses = [response_text(q, p) for q, p in zip(queries, prompts, strict=True)]
    verdicts = [expected(t, r, p, fmt, strict) for t, r, p in zip(responses, refs, prompts, strict=True)]
    out = reward_func(queries, prompts, refs, answer_format=fmt, strict=strict, workers=0, timeout=TIMEOUT)
    assert out["rewards"].tolist() == [v.reward for v in verdicts]
    assert out["extra_logs"]["format_ok"].tolist() == [float(v.format_ok) for v in verdicts]

    app = create_app(RewardSettings(answer_format=fmt, strict=strict, workers=0, timeout=TIMEOUT))
    with TestClient(app) as client:
        reply = client.post("/get_reward", json={"query": queries, "prompts": prompts, "labels": refs}).json()
    assert reply["rewards"] == [v.reward for v in verdicts]
    assert [(d["format"], d["content"], d["extracted"]) for d in reply["verdicts"]] == [
        (v.format.value, v.content.value, v.extracted) for v in verdicts
    ]


_VERIFY_ELSEWHERE = """
import json, sys
from rlvr_eval import verify
texts, ref, question = json.load(sys.stdin)
print(json.dumps([verify(t, ref, prompt=question).model_dump(mode="json") for t in texts]))
"""


def verify_where_rlvr_grades(texts: list[str], ref: str, question: str) -> list[Any]:
    """`verify` here, or (in lighteval's environment) a plain `verify` run by $RLVR_PYTHON."""
    if grader_problem() is None:
        return [verify(t, ref, prompt=question) for t in texts]
    python = os.environ.get(PYTHON_ENV)
    if not python:
        pytest.skip(f"rlvr cannot grade in this interpreter (lighteval's pin) and {PYTHON_ENV} is not set")
    proc = subprocess.run([python, "-c", _VERIFY_ELSEWHERE], input=json.dumps([texts, ref, question]),
                          capture_output=True, text=True, timeout=120, check=True)
    return [Verdict.model_validate(v) for v in json.loads(proc.stdout)]


@pytest.mark.skipif(importlib.util.find_spec("lighteval") is None, reason="lighteval is not installed")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(completion, min_size=1, max_size=3), st.sampled_from(ANSWERS), st.sampled_from(PROMPTS))
def test_lighteval_metric_is_verify(texts: list[str], ref: str, question: str) -> None:
    from lighteval.models.model_output import ModelResponse

    from rlvr_eval.integrations.lighteval_tasks import _RowToDoc, score_doc

    question = question or "?"
    row = {"problem": question, "answer": ref, "unique_id": "x", "__index": 0}
    doc = _RowToDoc("math500")(row, "rlvr:math500")
    verdicts = verify_where_rlvr_grades(texts, ref, question)
    scores = score_doc(doc, ModelResponse(text=texts))
    n = len(texts)
    assert scores == {
        "rlvr_strict": sum(v.correct for v in verdicts) / n,
        "rlvr_lenient": sum(v.lenient_correct for v in verdicts) / n,
        "rlvr_format": sum(v.format_ok for v in verdicts) / n,
    }
