"""Everyday rough edges of the ``rlvr-eval`` / ``rlvr-train`` command lines, each as a user meets it.

Task lists typed as lm-eval users type them, empty benchmarks, torn or doubled records in samples.jsonl,
two processes on one run directory, undecodable data files, and settings that must fail before a model
loads. Real subprocesses throughout; generation goes to the OpenAI-compatible stub server of
test_generation_openai (on loopback), so no model is needed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from test_cli import assert_one_line_error, cli
from test_generation_openai import StubState

from rlvr_eval.cli import _score_config, build_parser
from rlvr_eval.tasks import PAPER_MATH_TASKS, TASKS

MATH_ROWS = [{"problem": f"What is {i}+{i}?", "answer": str(2 * i), "unique_id": f"t/{i}"} for i in range(3)]
GSM_ROWS = [{"question": f"How many {i}?", "answer": f"so\n#### {i}"} for i in range(2)]


def write_data(root: Path, rows_by_task: dict[str, list[dict]]) -> Path:
    for task, rows in rows_by_task.items():
        (root / task).mkdir(parents=True, exist_ok=True)
        (root / task / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_data(tmp_path / "data", {"math500": MATH_ROWS, "gsm8k": GSM_ROWS})


def score_args(url: str, data: Path, out: Path, *extra: str) -> list[str]:
    return ["score", "tiny", "--backend", "openai", "--base-url", url, "--data-dir", str(data),
            "--output-dir", str(out), "--no-progress", "--verify-workers", "1", *extra]


def tasks_of(*argv: str) -> list[str]:
    return _score_config(build_parser().parse_args(["score", "m", *argv])).tasks


# ---------------------------------------------------------------- --tasks syntax


def test_task_lists_as_lm_eval_users_type_them(tmp_path: Path) -> None:
    assert tasks_of("--tasks", "math500,gsm8k") == ["math500", "gsm8k"]
    assert tasks_of("--tasks", "math500 gsm8k") == ["math500", "gsm8k"]
    assert tasks_of("--tasks", "math500", "gsm8k") == ["math500", "gsm8k"]
    assert tasks_of("--tasks", "math500", "--tasks", "gsm8k,arc_easy") == ["math500", "gsm8k", "arc_easy"]
    assert tasks_of("--tasks", "math500, gsm8k,,math500") == ["math500", "gsm8k"]  # repeats dropped
    assert tasks_of("--tasks", "paper") == list(PAPER_MATH_TASKS)
    assert tasks_of("--tasks", "gsm8k,paper") == ["gsm8k", *PAPER_MATH_TASKS]
    assert tasks_of("--tasks", "all") == list(TASKS) and len(TASKS) == 9
    assert tasks_of() == list(PAPER_MATH_TASKS)  # the default
    own = tmp_path / "my file, v2.jsonl"  # a user file whose name has a space and a comma: kept whole
    own.write_text('{"question": "q", "answer": "1"}\n')
    assert tasks_of("--tasks", f"jsonl:{own}", "--tasks", "math500") == [f"jsonl:{own}", "math500"]
    config = tmp_path / "run.yaml"
    config.write_text("model: m\ntasks: math500,aime24\n")
    parsed = build_parser().parse_args(["score", "--config", str(config)])
    assert _score_config(parsed).tasks == ["math500", "aime24"]


def test_unknown_task_is_one_line_listing_names_and_groups() -> None:
    proc = cli("score", "some/model", "--backend", "hf", "--tasks", "math500,gsm8", "--data-dir", "/nowhere")
    assert_one_line_error(proc, "unknown task 'gsm8'")
    assert "math500" in proc.stderr and "arc_challenge" in proc.stderr and "groups: paper (" in proc.stderr
    assert_one_line_error(cli("score", "m", "--tasks", ","), "no task given")


def test_train_eval_tasks_take_the_same_syntax() -> None:
    from rlvr_train.cli import build_parser as train_parser
    from rlvr_train.cli import resolve_config
    from rlvr_train.config import ConfigError

    def eval_tasks(*argv: str) -> list[str]:
        args = train_parser().parse_args(["one-shot", "--model", "m", "--output-dir", "o", *argv])
        return resolve_config(args).eval_tasks

    assert eval_tasks("--eval-tasks", "math500,aime24") == ["math500", "aime24"]
    assert eval_tasks("--eval-tasks", "math500", "--eval-tasks", "paper") == list(PAPER_MATH_TASKS)
    assert eval_tasks("--eval-tasks") == []  # no names: evaluation off
    with pytest.raises(ConfigError, match=r"eval_tasks: unknown task 'math5'; valid tasks: .*groups: paper"):
        eval_tasks("--eval-tasks", "math5")


# ---------------------------------------------------------------- empty benchmarks


def test_empty_benchmark_or_limit_0_is_an_error(tmp_path: Path, stub: tuple[StubState, str]) -> None:
    _, url = stub
    data = write_data(tmp_path / "data", {"math500": MATH_ROWS})
    (data / "gsm8k").mkdir()
    (data / "gsm8k" / "test.jsonl").write_text("\n\n")
    out = tmp_path / "run"
    proc = cli(*score_args(url, data, out, "--tasks", "math500,gsm8k"))
    assert_one_line_error(proc, f"gsm8k: {data / 'gsm8k' / 'test.jsonl'} holds no items")
    assert not (out / "results.json").exists()
    assert_one_line_error(cli(*score_args(url, data, out, "--tasks", "math500", "--limit", "0")), "limit")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert_one_line_error(cli(*score_args(url, data, out, "--tasks", f"jsonl:{empty}")), "holds no items")


# ---------------------------------------------------------------- samples.jsonl on resume


def sample_lines(out: Path) -> list[str]:
    return (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()


def keys_of(lines: list[str]) -> Counter:
    records = [json.loads(line) for line in lines]  # raises if any line is unparseable
    return Counter((r["task"], r["item_id"], r["sample_index"]) for r in records)


def test_torn_tail_is_repaired_on_resume(tmp_path: Path, data: Path, stub: tuple[StubState, str]) -> None:
    state, url = stub
    out = tmp_path / "run"
    args = score_args(url, data, out, "--tasks", "math500", "--n", "2", "--temperature", "0.6")
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    expected = keys_of(sample_lines(out))
    assert len(expected) == 6 and set(expected.values()) == {1}
    samples = out / "samples.jsonl"

    # 1. Cut by hand mid-line: the torn line is removed, its sample generated again, nothing left broken.
    raw = samples.read_bytes()
    samples.write_bytes(raw[: len(raw) - 40])
    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert keys_of(sample_lines(out)) == expected  # every line parses, every sample exactly once
    assert samples.read_bytes().endswith(b"\n")
    assert "repaired" in resumed.stderr and "torn last line" in resumed.stderr  # and the user is told

    # 2. The last record lost only its newline: kept as it is, not generated and written a second time.
    requests_before = len(state.bodies)
    samples.write_bytes(samples.read_bytes().rstrip(b"\n"))
    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert keys_of(sample_lines(out)) == expected
    assert len(state.bodies) == requests_before  # nothing regenerated
    assert "added the newline its last record had lost" in resumed.stderr

    # 3. A clean file: nothing said, nothing changed.
    again = cli(*args)
    assert again.returncode == 0 and "repaired" not in again.stderr
    assert keys_of(sample_lines(out)) == expected


def test_one_process_per_run_directory(tmp_path: Path, data: Path, stub: tuple[StubState, str]) -> None:
    """A second score on a busy directory fails at once; a lock left by a killed process blocks nothing."""
    state, url = stub
    out = tmp_path / "run"
    args = score_args(url, data, out, "--tasks", "math500")
    assert cli(*args, "--limit", "1").returncode == 0  # a run directory with samples already
    state.delay = 120  # the resumed run stalls generating the other items, holding the directory
    env = {k: v for k, v in os.environ.items() if k != "RLVR_DATA_DIR"}
    first = subprocess.Popen([sys.executable, "-m", "rlvr_eval.cli", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while state.in_flight == 0:  # the first run is generating, so it holds the lock
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        busy = f"another rlvr-eval process is using {out}"
        assert_one_line_error(cli(*args), busy)
        assert_one_line_error(cli("rescore", str(out)), busy)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    state.delay = 0
    assert (out / ".lock").exists()  # left behind by the killed run ...
    third = cli(*args)
    assert third.returncode == 0, third.stderr  # ... and no obstacle: flock died with its process
    keys = keys_of(sample_lines(out))
    assert set(keys.values()) == {1} and len(keys) == len(MATH_ROWS)


# ---------------------------------------------------------------- one-line errors


def test_undecodable_data_file_names_file_line_and_offset(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", {"math500": MATH_ROWS})
    path = data / "math500" / "test.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"What", b"Wh\xe9t")  # Latin-1, not UTF-8
    path.write_bytes(b"".join(lines))
    offset = len(lines[0]) + lines[1].index(b"\xe9")
    proc = cli("score", "some/model", "--backend", "hf", "--tasks", "math500", "--data-dir", str(data),
               "--output-dir", str(tmp_path / "run"))
    assert_one_line_error(proc, f"{path}:2: byte offset {offset}: not UTF-8 text (byte 0xe9)")


def test_undecodable_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_bytes(b"model: caf\xe9\n")  # Latin-1 at byte 10
    proc = cli("score", "--config", str(config))
    assert_one_line_error(proc, f"{config} is not UTF-8 text (byte offset 10)")


def test_null_answer_is_one_line(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", {"math500": [*MATH_ROWS, {**MATH_ROWS[0], "answer": None}]})
    proc = cli("score", "some/model", "--backend", "hf", "--tasks", "math500", "--data-dir", str(data),
               "--output-dir", str(tmp_path / "run"))
    assert_one_line_error(proc, "math500: bad row 3 in")
    assert "'answer' is null" in proc.stderr


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1", "1e9"])
def test_every_verify_timeout_setting_rejects_non_finite_and_non_positive(value: str) -> None:
    from pydantic import ValidationError

    from rlvr_eval.cli import UsageError
    from rlvr_eval.config import EvalConfig
    from rlvr_eval.integrations.openrlhf import RewardSettings
    from rlvr_train.config import TrainConfig

    for argv in (["score", "m", f"--verify-timeout={value}"], ["rescore", "r", f"--verify-timeout={value}"],
                 ["verify", "--reference", "1", "--completion", "1", f"--timeout={value}"],
                 ["serve-reward", f"--timeout={value}"]):
        with pytest.raises(UsageError, match="must be a finite number of seconds"):
            build_parser().parse_args(argv)
    for build in (lambda: EvalConfig(model="m", verify_timeout=float(value)),
                  lambda: TrainConfig(verify_timeout=float(value)),
                  lambda: RewardSettings(timeout=float(value))):
        with pytest.raises(ValidationError, match="must be a finite number of seconds"):
            build()
    assert EvalConfig(model="m", verify_timeout=0.5).verify_timeout == 0.5  # a sane value still passes


def test_infinite_verify_timeout_is_one_line_before_anything_loads(tmp_path: Path) -> None:
    missing_model = str(tmp_path / "no-such-model")  # would be the next error if the timeout passed
    assert_one_line_error(cli("score", missing_model, "--backend", "hf", "--verify-timeout", "inf"),
                          "--verify-timeout: must be a finite number of seconds")
    config = tmp_path / "run.yaml"
    config.write_text(f"model: {missing_model}\nbackend: hf\nverify_timeout: .inf\n")
    assert_one_line_error(cli("score", "--config", str(config)),
                          "verify_timeout: must be a finite number of seconds")
    train = tmp_path / "train.yaml"
    train.write_text("model: m\noutput_dir: o\nverify_timeout: .nan\n")
    proc = subprocess.run(
        [sys.executable, "-m", "rlvr_train.cli", "run", "--config", str(train), "--dry-run"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "verify_timeout: must be a finite number of seconds" in proc.stderr


@pytest.mark.parametrize("port,fragment", [("70000", "port must be 0-65535"), ("-1", "port must be 0-65535"),
                                           ("http", "not a port number")])
def test_serve_reward_bad_port_is_one_line(port: str, fragment: str) -> None:
    assert_one_line_error(cli("serve-reward", "--port", port), fragment)


def test_openai_request_timeout_and_retries_are_flags(
    tmp_path: Path, data: Path, stub: tuple[StubState, str]
) -> None:
    state, url = stub
    state.delay = 60  # a server that accepts requests and never answers in time
    started = time.monotonic()
    proc = cli(*score_args(url, data, tmp_path / "run", "--tasks", "math500", "--request-timeout", "0.5",
                           "--max-retries", "1"))
    assert_one_line_error(proc, "request failed after 2 attempts")  # 1 try + 1 retry, each cut at 0.5 s
    assert time.monotonic() - started < 30
    assert_one_line_error(cli("score", "m", "--request-timeout", "inf"), "request_timeout: must be a finite")
    assert_one_line_error(cli("score", "m", "--max-retries", "-1"), "max_retries")
