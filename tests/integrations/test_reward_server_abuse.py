"""The real ``rlvr-eval serve-reward`` under abuse: idle and slowloris sockets, deep JSON, wrong label types.

Each test starts the server as a subprocess on a free loopback port (`start_server` from
test_openrlhf_server) and attacks it with raw sockets, while a valid request must still be graded
quickly. Its stderr must never show a traceback.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from test_openrlhf_server import Server, start_server, stop_server

HEADER_TIMEOUT = 2.0
VALID = {"query": ["Q: 1+1? \\boxed{2}"], "prompts": ["Q: 1+1?"], "labels": ["2"]}
PARTIAL_HEAD = b"POST /get_reward HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    # A small admission budget: before the fix, uvicorn's limit_concurrency (2 + 4 + 8 = 14) counted
    # open sockets, so 14 idle connections were enough to turn every valid request into a 503.
    srv = start_server("--max-concurrency", "2", "--max-pending", "4",
                       "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(HEADER_TIMEOUT))
    yield srv
    stop_server(srv)
    assert srv.proc.stderr is not None
    log = srv.proc.stderr.read()
    assert "Traceback" not in log, log[-3000:]


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def timed_valid_request(server: Server) -> float:
    started = time.monotonic()
    reply = httpx.post(server.url + "/get_reward", json=VALID, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["rewards"] == [1.0]
    return time.monotonic() - started


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True once the server closed the socket (EOF or reset, after an optional 408), before ``deadline``."""
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
            assert data.startswith(b"HTTP/1.1 408"), data[:100]
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def open_connections(server: Server, count: int) -> list[socket.socket]:
    return [socket.create_connection(address(server), timeout=5) for _ in range(count)]


def test_idle_and_slow_header_connections_do_not_lock_valid_requests_out(server: Server) -> None:
    idle = open_connections(server, 80)  # connect, send nothing
    slow = open_connections(server, 80)
    for sock in slow:
        sock.sendall(PARTIAL_HEAD)
    stop = threading.Event()

    def trickle() -> None:  # one more header byte every 0.2 s: each byte would reset a keep-alive timer
        while not stop.wait(0.2):
            for sock in slow:
                with contextlib.suppress(OSError):  # closed by the server: that is the point
                    sock.sendall(b"X")

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        for _ in range(3):  # while all 160 stay open, valid requests are graded at once
            assert timed_valid_request(server) < 5.0
        # ... and the server closes every connection that did not deliver a request in time.
        deadline = time.monotonic() + HEADER_TIMEOUT + 5
        still_open = [s for s in idle + slow if not closed_by_server(s, deadline)]
        assert not still_open, f"{len(still_open)} of 160 connections still open after the header timeout"
    finally:
        stop.set()
        trickler.join()
        for sock in idle + slow:
            sock.close()
    assert timed_valid_request(server) < 5.0


def test_a_body_that_never_arrives_is_cut_off(server: Server) -> None:
    sock = socket.create_connection(address(server), timeout=5)
    try:
        sock.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"query\": [")
        assert timed_valid_request(server) < 5.0  # the stalled body holds no grading slot
        assert closed_by_server(sock, time.monotonic() + HEADER_TIMEOUT + 5)
    finally:
        sock.close()


@pytest.mark.parametrize("body", [
    b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b', "labels": ["1"]}',
    b"[" * 100_000,  # unterminated, too
    b'{"query": ["a"], "labels": [' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"]}",
])
def test_json_nested_100000_deep_is_a_400(server: Server, body: bytes) -> None:
    reply = httpx.post(server.url + "/get_reward", content=body,
                       headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 400, reply.text
    assert "nested too deeply" in reply.json()["error"] or "not valid JSON" in reply.json()["error"]
    assert timed_valid_request(server) < 5.0


@pytest.mark.parametrize("label,kind", [
    ({"value": "2"}, "object"), (["2"], "array"), (2, "number"), (None, "null"), (True, "boolean"),
])
def test_a_label_that_is_not_a_string_is_a_422_naming_its_index(
    server: Server, label: object, kind: str
) -> None:
    body = {"query": ["\\boxed{1}", "\\boxed{2}"], "prompts": ["", ""], "labels": ["1", label]}
    reply = httpx.post(server.url + "/get_reward", json=body, timeout=30)
    assert reply.status_code == 422, (kind, reply.text)
    assert reply.json()["error"].startswith("labels.1: "), reply.json()
    assert timed_valid_request(server) < 5.0
