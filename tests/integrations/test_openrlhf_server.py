"""OpenRLHF adapter: ``reward_func`` and the ``serve-reward`` HTTP service as a real process.

The service is started through the real CLI, ``python -m rlvr_eval.cli serve-reward --port 0`` (the kernel
picks a free loopback port, which the server prints), hit with real HTTP requests in OpenRLHF's
remote reward model protocol (``{"query", "prompts", "labels"}`` -> ``{"rewards", ...}``), and
stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from rlvr_eval import verify
from rlvr_eval.integrations.openrlhf import response_text, reward_func

PROMPTS = ["<|im_start|>user\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n",
           "Q: what is half of one?\nA:", "Q: 2+3?\nA:", "Q: x?\nA:"]
RESPONSES = ["It is $\\boxed{2}$.", " \\boxed{\\frac{1}{2}}", " The answer is 5.", " \\boxed{}"]
LABELS = ["2", "0.5", "5", "7"]
QUERIES = [p + r for p, r in zip(PROMPTS, RESPONSES, strict=True)]


def expected(queries: list[str], prompts: list[str], labels: list[str]) -> list:
    return [verify(response_text(q, p), label, prompt=p) for q, p, label in zip(queries, prompts, labels,
                                                                                   strict=True)]


# ---------------------------------------------------------------------------- reward_func hook


def test_reward_func_is_verify_as_tensors() -> None:
    import torch

    out = reward_func(QUERIES, PROMPTS, LABELS, metas=None)  # OpenRLHF may pass extra keywords
    verdicts = expected(QUERIES, PROMPTS, LABELS)
    assert set(out) == {"rewards", "scores", "extra_logs"}
    assert isinstance(out["rewards"], torch.Tensor)
    assert out["rewards"].tolist() == [v.reward for v in verdicts] == [1.0, 1.0, 0.0, 0.0]
    assert out["scores"].tolist() == [float(v.correct) for v in verdicts]
    assert out["extra_logs"]["format_ok"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert out["extra_logs"]["lenient_correct"].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_reward_func_settings_and_errors() -> None:
    out = reward_func(QUERIES, PROMPTS, LABELS, strict=False, correct_reward=1.0, incorrect_reward=-0.5)
    assert out["rewards"].tolist() == [1.0, 1.0, 1.0, -0.5]
    with pytest.raises(ValueError, match="lengths must match"):
        reward_func(QUERIES, PROMPTS[:2], LABELS)


def test_response_text_cuts_the_prompt_where_it_occurs() -> None:
    assert response_text("<s>Q: hi A: \\boxed{1}", "Q: hi A:") == " \\boxed{1}"
    assert response_text("no prompt here \\boxed{1}", "something else") == "no prompt here \\boxed{1}"
    assert response_text("text", "") == "text"


# ---------------------------------------------------------------------------- the HTTP service


class Server:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url


def start_server(*args: str) -> Server:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "rlvr_eval.cli", "serve-reward", "--host", "127.0.0.1", "--port", "0",
           "--workers", "0", "--log-level", "warning", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the socket is bound (or the process dies)
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)/get_reward", line)
    if not match:
        proc.kill()
        raise AssertionError(f"server did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    base = match.group(1)
    deadline = time.monotonic() + 30
    while True:  # the socket is bound before uvicorn serves: wait for /health
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return Server(proc, base)
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError("server never became healthy")
        time.sleep(0.1)


def stop_server(server: Server) -> int:
    server.proc.send_signal(signal.SIGTERM)
    try:
        return server.proc.wait(timeout=20)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = start_server("--max-body-mb", "0.05", "--max-items", "64", "--max-concurrency", "2")
    yield srv
    if srv.proc.poll() is None:
        stop_server(srv)


def post(server: Server, body: object | bytes, path: str = "/get_reward") -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.url + path, content=content, headers={"Content-Type": "application/json"},
                      timeout=60)


def test_batch_scoring_matches_verify(server: Server) -> None:
    reply = post(server, {"query": QUERIES, "prompts": PROMPTS, "labels": LABELS, "metas": [{}] * 4})
    assert reply.status_code == 200, reply.text
    data = reply.json()
    verdicts = expected(QUERIES, PROMPTS, LABELS)
    assert data["rewards"] == [v.reward for v in verdicts] == [1.0, 1.0, 0.0, 0.0]
    assert data["scores"] == [float(v.correct) for v in verdicts]
    assert [d["format"] for d in data["verdicts"]] == [v.format.value for v in verdicts]
    assert [d["extracted"] for d in data["verdicts"]] == [v.extracted for v in verdicts]
    assert data["extra_logs"]["lenient_correct"] == [float(v.lenient_correct) for v in verdicts]
    # The root path answers the same protocol (some launchers post to the bare URL).
    assert post(server, {"query": QUERIES, "prompts": PROMPTS, "labels": LABELS}, "/").json() == data


@pytest.mark.parametrize("body,status,message", [
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
    (b"[1, 2, 3]", 422, "Input should be a valid dictionary"),
    (json.dumps({"prompts": ["a"], "labels": ["1"]}).encode(), 422, "query: Field required"),
    (json.dumps({"query": [1], "labels": ["1"]}).encode(), 422, "query.0"),
    (json.dumps({"query": ["a", "b"], "prompts": ["a"], "labels": ["1", "2"]}).encode(), 422, "lengths"),
    (json.dumps({"query": ["a"], "prompts": ["a"], "labels": [""]}).encode(), 422, "empty reference"),
])
def test_malformed_bodies_get_4xx(server: Server, body: bytes, status: int, message: str) -> None:
    reply = post(server, body)
    assert reply.status_code == status, reply.text
    assert message in reply.json()["error"]
    ok = {"query": QUERIES[:1], "prompts": PROMPTS[:1], "labels": LABELS[:1]}
    assert post(server, ok).status_code == 200  # the server lives on


def test_oversized_bodies_get_413(server: Server) -> None:
    big = {"query": ["x" * 60_000], "prompts": [""], "labels": ["1"]}  # over the 0.05 MB limit
    reply = post(server, big)
    assert reply.status_code == 413 and "request body over" in reply.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream itself is counted
        yield b'{"query": ["'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"], "labels": ["1"]}'

    streamed = httpx.post(server.url + "/get_reward", content=chunks(), timeout=60)
    assert streamed.status_code == 413
    many = {"query": ["\\boxed{1}"] * 65, "prompts": [""] * 65, "labels": ["1"] * 65}
    reply = post(server, many)
    assert reply.status_code == 413 and "at most 64" in reply.json()["error"]
    assert server.proc.poll() is None


def test_burst_of_concurrent_requests(server: Server) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as client:
            requests = [
                client.post(server.url + "/get_reward", json={
                    "query": [f"Q{i}: \\boxed{{{i}}}", f"Q{i}: {i + 1}"], "prompts": [f"Q{i}:", f"Q{i}:"],
                    "labels": [str(i), str(i + 1)],
                })
                for i in range(40)
            ]
            return await asyncio.gather(*requests)

    replies = asyncio.run(burst())
    assert [r.status_code for r in replies] == [200] * 40
    for i, reply in enumerate(replies):  # every reply belongs to its own request
        assert reply.json()["rewards"] == [1.0, 0.0]
        assert reply.json()["verdicts"][0]["extracted"] == str(i)
    assert server.proc.poll() is None


def test_requests_beyond_the_concurrency_bound_get_503() -> None:
    """One request grading at a time, none waiting: a second one is refused at once, not queued."""
    import threading

    srv = start_server("--max-concurrency", "1", "--max-pending", "0", "--max-items", "100000")
    try:
        n = 30_000  # a batch that keeps the only grading slot busy for a while
        big = {"query": [f"Q: \\boxed{{{i}}}" for i in range(n)], "prompts": ["Q:"] * n,
               "labels": [str(i) for i in range(n)]}
        result: dict[str, httpx.Response] = {}

        def send_big() -> None:
            while True:  # a small request may hold the slot when the big one arrives: then it is refused too
                result["big"] = post(srv, big)
                if result["big"].status_code != 503:
                    return
                time.sleep(0.05)

        worker = threading.Thread(target=send_big)
        worker.start()
        time.sleep(0.5)  # let the big batch reach the grading slot
        small = {"query": QUERIES[:1], "prompts": PROMPTS[:1], "labels": LABELS[:1]}
        statuses = []
        while worker.is_alive() and 503 not in statuses:
            statuses.append(post(srv, small).status_code)
            time.sleep(0.05)
        worker.join(timeout=120)
        assert 503 in statuses, statuses  # refused while the big batch was being graded
        assert set(statuses) <= {200, 503}
        assert result["big"].status_code == 200 and result["big"].json()["rewards"] == [1.0] * n
        assert post(srv, small).status_code == 200  # the slot is free again
    finally:
        stop_server(srv)


def test_clean_shutdown_on_sigterm() -> None:
    srv = start_server()
    assert post(srv, {"query": QUERIES, "prompts": PROMPTS, "labels": LABELS}).status_code == 200
    assert stop_server(srv) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(srv.url + "/health", timeout=2)
    assert srv.proc.stderr is not None
    assert "Traceback" not in srv.proc.stderr.read()


def test_bad_settings_and_busy_port_are_one_line_errors() -> None:
    bad = subprocess.run([sys.executable, "-m", "rlvr_eval.cli", "serve-reward", "--max-items", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("rlvr-eval: error: max_items") and "Traceback" not in bad.stderr
    srv = start_server()
    try:
        port = srv.url.rsplit(":", 1)[1]
        busy = subprocess.run(
            [sys.executable, "-m", "rlvr_eval.cli", "serve-reward", "--port", port],
            capture_output=True, text=True, timeout=60,
        )
        assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    finally:
        stop_server(srv)
