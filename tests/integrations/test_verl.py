"""verl adapter: ``compute_score`` under verl's documented contract, and inside verl's own reward manager.

Contract (verl 0.9 ``NaiveRewardManager`` / reward loop): ``compute_score(data_source=..., solution_str=...,
ground_truth=..., extra_info=...)`` with ``custom_reward_function.reward_kwargs`` merged in as keywords,
called in the driver or in an executor thread; a dict result needs ``score`` and the same keys on
every call. The last tests run verl itself (``pip install verl``: its naive reward manager and its
reward-loop manager, which calls from executor threads) and skip without it.
"""

from __future__ import annotations

import importlib.util
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rlvr_eval import verify
from rlvr_eval.integrations import verl as rlvr_verl
from rlvr_eval.integrations.verl import answer_format_for, compute_score

HAS_VERL = importlib.util.find_spec("verl") is not None

CASES = [  # data_source, response, ground truth, extra_info
    ("math500", "We get $\\boxed{\\frac{1}{2}}$.", "0.5", {"index": 0}),
    ("lighteval/MATH", "So the answer is 3.", "3", {"question": "What is $1+2$?"}),
    ("openai/gsm8k", "5 apples, so $\\boxed{5}$", "5", None),  # rlvr's gsm8k task asks for a box
    ("gsm8k", "5 apples.\n#### 5", "5", {"answer_format": "gsm8k"}),  # verl's gsm8k example asks for ####
    ("aime24", "\\boxed{025}", 25, {}),
    ("allenai/ai2_arc", "The answer is (B).", "B", {"split": "test"}),
    ("my_source", "\\boxed{x^2}", ["x**2", "x^2"], {"answer_format": "boxed"}),
]
KEYS = {"score", "acc", "format_ok", "lenient_acc", "format", "content", "extraction_method", "pred"}


@pytest.mark.parametrize("source,response,truth,extra", CASES)
def test_compute_score_is_verify_in_dict_form(source: str, response: str, truth: Any, extra: Any) -> None:
    result = compute_score(data_source=source, solution_str=response, ground_truth=truth, extra_info=extra)
    assert set(result) == KEYS
    reference = [str(t) for t in truth] if isinstance(truth, list) else str(truth)
    if source == "aime24":
        reference = "25"
    question = (extra or {}).get("question")
    fmt = (extra or {}).get("answer_format") or answer_format_for(source)
    verdict = verify(response, reference, answer_format=fmt, prompt=question)
    assert result["score"] == verdict.reward
    assert result["acc"] == float(verdict.correct)
    assert result["format_ok"] == float(verdict.format_ok)
    assert result["lenient_acc"] == float(verdict.lenient_correct)
    assert (result["format"], result["content"]) == (verdict.format.value, verdict.content.value)
    assert result["pred"] == (verdict.extracted or "")


def test_expected_grades() -> None:
    scores = [compute_score(s, r, t, e)["score"] for s, r, t, e in CASES]
    assert scores == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    lenient = compute_score("lighteval/MATH", "So the answer is 3.", "3", strict=False)
    assert lenient["score"] == 1.0 and lenient["lenient_acc"] == 1.0


def test_answer_format_by_data_source() -> None:
    assert answer_format_for("arc_easy") == "multiple_choice"
    assert answer_format_for("allenai/ai2_arc") == "multiple_choice"
    assert answer_format_for("HuggingFaceH4/MATH-500") == "boxed"
    assert answer_format_for(None) == "boxed"


def test_reward_kwargs_configure_it_and_unknown_keywords_are_ignored() -> None:
    # verl merges reward_kwargs over the call's keywords; later verl versions may pass more keywords.
    result = compute_score(
        data_source="x", solution_str="#### 4", ground_truth="4", extra_info={},
        answer_format="gsm8k", correct_reward=2.0, incorrect_reward=-1.0, tokenizer=None, num_turns=1,
    )
    assert result["score"] == 2.0
    assert compute_score("x", "#### 4", "5", answer_format="gsm8k", incorrect_reward=-1.0)["score"] == -1.0
    with pytest.raises(ValueError, match="unknown answer_format"):
        compute_score("x", "1", "1", answer_format="latex")  # type: ignore[arg-type]


def test_truncated_generation_from_extra_info() -> None:
    result = compute_score("math500", "\\boxed{2}", "2", {"finish_reason": "length"})
    assert result["format"] == "truncated" and result["score"] == 0.0


def test_safe_in_threads_without_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    """verl's reward loop calls compute_score in executor threads, where SIGALRM cannot work."""

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("compute_score must not use signals")

    for name in ("signal", "alarm", "setitimer"):
        monkeypatch.setattr(signal, name, forbidden)
    expected = [compute_score(s, r, t, e) for s, r, t, e in CASES]
    seen: set[str] = set()

    def score(case: tuple[str, str, Any, Any]) -> dict[str, Any]:
        seen.add(threading.current_thread().name)
        return compute_score(*case)

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="verl-reward") as pool:
        results = list(pool.map(score, CASES * 4))
    assert results == expected * 4
    assert all(name.startswith("verl-reward") for name in seen)


def test_loadable_by_file_path_like_verl() -> None:
    """verl's ``custom_reward_function.path`` loads the file under a made-up module name."""
    path = Path(rlvr_verl.__file__)
    spec = importlib.util.spec_from_file_location("custom_module_rlvr", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compute_score("math500", "\\boxed{2}", "2")["score"] == 1.0


# ---------------------------------------------------------------------------- verl itself


ROWS = [("math500", "What is 1+1?", "so \\boxed{2}", "2"), ("openai/gsm8k", "2+3?", "#### 6", "5"),
        ("aime24", "x?", "answer \\boxed{7} done", "7")]


def verl_batch(tokenizer: Any) -> tuple[Any, list[list[int]]]:
    """A DataProto shaped like a verl rollout batch: left-padded prompts, right-padded responses."""
    import numpy as np
    import torch
    from verl import DataProto

    prompt_ids = [tokenizer(p)["input_ids"] for _, p, _, _ in ROWS]
    response_ids = [tokenizer(r)["input_ids"] for _, _, r, _ in ROWS]
    lp, lr = max(map(len, prompt_ids)), max(map(len, response_ids))
    pad = tokenizer.pad_token_id or 0
    prompts = torch.tensor([[pad] * (lp - len(p)) + p for p in prompt_ids])
    responses = torch.tensor([r + [pad] * (lr - len(r)) for r in response_ids])
    mask = torch.tensor([[0] * (lp - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (lr - len(r))
                         for p, r in zip(prompt_ids, response_ids, strict=True)])
    data = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask,
                 "input_ids": torch.cat([prompts, responses], dim=1)},
        non_tensors={
            "data_source": np.array([s for s, _, _, _ in ROWS], dtype=object),
            "reward_model": np.array([{"ground_truth": t} for _, _, _, t in ROWS], dtype=object),
            "extra_info": np.array([{"index": i} for i in range(len(ROWS))], dtype=object),
        },
    )
    return data, response_ids


def expected_scores(tokenizer: Any, response_ids: list[list[int]]) -> list[float]:
    scores = []
    for (source, _, _, truth), ids in zip(ROWS, response_ids, strict=True):
        text = tokenizer.decode(ids, skip_special_tokens=True)
        verdict = verify(text, truth, answer_format=answer_format_for(source))
        scores.append(1.0 if verdict.correct else -1.0)
    assert scores == [1.0, -1.0, 1.0]
    return scores


def load_like_verl(path: str) -> Any:
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": path, "name": "compute_score", "reward_kwargs": {"incorrect_reward": -1.0},
    }}})
    fn = get_custom_reward_fn(config)
    assert fn is not None
    return fn


@pytest.mark.skipif(not HAS_VERL, reason="verl is not installed (pip install verl)")
@pytest.mark.parametrize("path", ["pkg://rlvr_eval.integrations.verl", rlvr_verl.__file__])
def test_verl_naive_reward_manager(tiny_model_dir: Path, path: str) -> None:
    """verl loads the function from its config and its NaiveRewardManager grades a DataProto with it."""
    from transformers import AutoTokenizer
    from verl.workers.reward_manager.naive import NaiveRewardManager

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    data, response_ids = verl_batch(tokenizer)
    manager = NaiveRewardManager(tokenizer=tokenizer, num_examine=0, compute_score=load_like_verl(path))
    out = manager(data, return_dict=True)
    tensor, info = out["reward_tensor"], out["reward_extra_info"]
    for i, score in enumerate(expected_scores(tokenizer, response_ids)):
        assert tensor[i, len(response_ids[i]) - 1].item() == score  # reward on the last response token
        assert tensor[i].abs().sum().item() == abs(score)
        assert info["score"][i] == score and info["acc"][i] == float(score > 0)
    assert info["pred"] == ["2", "6", "7"]


@pytest.mark.skipif(not HAS_VERL, reason="verl is not installed (pip install verl)")
def test_verl_reward_loop_in_executor_threads(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """verl's reward-loop manager runs compute_score in executor threads, concurrently, without signals."""
    import asyncio

    from transformers import AutoTokenizer
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    data, response_ids = verl_batch(tokenizer)
    fn = load_like_verl("pkg://rlvr_eval.integrations.verl")

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("compute_score must not use signals")

    async def run() -> list[dict[str, Any]]:
        manager = NaiveRewardManager(config=None, tokenizer=tokenizer, compute_score=fn)
        return await asyncio.gather(*(manager.run_single(data[i : i + 1]) for i in range(len(ROWS))))

    real_signal = signal.signal

    def no_alarm(signum: int, handler: Any) -> Any:  # asyncio.run itself sets a SIGINT handler: allowed
        if signum == signal.SIGALRM:
            forbidden()
        return real_signal(signum, handler)

    monkeypatch.setattr(signal, "signal", no_alarm)
    for name in ("alarm", "setitimer"):
        monkeypatch.setattr(signal, name, forbidden)
    results = asyncio.run(run())
    assert [r["reward_score"] for r in results] == expected_scores(tokenizer, response_ids)
    assert [r["reward_extra_info"]["format"] for r in results] == ["ok", "no_answer", "ok"]
