"""``rlvr-eval serve-reward``: rlvr's verifier as an OpenRLHF remote reward model over HTTP.

    rlvr-eval serve-reward --host 0.0.0.0 --port 5000 --answer-format boxed
    # OpenRLHF: --remote_rm_url http://HOST:5000/get_reward --label_key answer

``POST /get_reward`` with ``{"query": [...], "prompts": [...], "labels": [...]}`` (OpenRLHF's remote
reward model request; ``query`` is prompt + response) answers ``{"rewards": [...], "scores": [...],
"extra_logs": {...}, "verdicts": [...]}`` (`rlvr_eval.integrations.openrlhf.score_queries`).
``GET /health`` answers ``{"status": "ok"}``.

A real ASGI app (Starlette) served by uvicorn. Hardening, because a training run hammers it:

1. bodies over ``max_body_bytes`` get 413 before they are read in full (Content-Length is checked,
   then the stream is counted); more than ``max_items`` queries get 413;
2. bad JSON (also JSON nested too deeply to parse) gets 400 and a well-formed body of the wrong
   shape 422 (a label that is not a string: ``labels.3: Input should be a valid string``), each with
   a one-line ``{"error": ...}``; the server never crashes on input;
3. admission control counts requests, not sockets: at most ``max_concurrency`` requests are graded
   at once, in worker threads (the event loop keeps answering); up to ``max_pending`` more wait, and
   beyond that requests get 503 at once. Open connections are not counted, so idle ones cannot lock
   valid requests out;
4. a connection must deliver its headers within ``header_timeout`` seconds and its body within
   ``body_timeout`` more, or it gets 408 and is closed (`rlvr_eval.integrations.http_deadline`):
   idle or slowloris connections cannot pile up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rlvr_eval.config import RequestTimeout, seconds_arg
from rlvr_eval.integrations.openrlhf import RewardSettings, score_queries

__all__ = [
    "RewardRequest",
    "ServerLimits",
    "ServerSetupError",
    "add_serve_reward_parser",
    "cmd_serve_reward",
    "create_app",
    "serve",
]

_MISSING_DEPS = "serve-reward needs starlette and uvicorn (pip install starlette uvicorn)"


class ServerSetupError(ValueError):
    """The service cannot start as configured (a missing dependency); a ValueError so CLIs print one line."""


class ServerLimits(BaseModel):
    """Bounds that keep one client from exhausting the server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(64 * 1024 * 1024, ge=1)  # 1k rollouts of 8k tokens are ~40 MB of JSON
    max_items: int = Field(16_384, ge=1)
    max_concurrency: int = Field(2, ge=1)
    max_pending: int = Field(64, ge=0)
    header_timeout: RequestTimeout = Field(5.0, description="Seconds from connect to complete headers.")
    body_timeout: RequestTimeout = Field(60.0, description="Seconds from complete headers to the full body.")


class RewardRequest(BaseModel):
    """OpenRLHF's remote reward model request (extra keys such as ``metas`` are ignored)."""

    model_config = ConfigDict(extra="ignore")

    query: list[str]
    prompts: list[str | None] | None = None
    labels: list[str]  # the reference answers; an object, array or number is a 422 naming its index


def _error(status: int, message: str) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"{where}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"


async def _read_body(request: Any, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(body: bytes) -> tuple[Any, str | None]:
    """(payload, None), or (None, the one-line reason the body is not usable JSON)."""
    try:
        return json.loads(body), None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return None, f"body is not valid JSON ({type(err).__name__}: {err})"[:300]
    except RecursionError:  # "[[[[..." 100,000 deep: the C parser gives up at the recursion limit
        return None, "body is not valid JSON: nested too deeply"


def create_app(settings: RewardSettings | None = None, limits: ServerLimits | None = None) -> Any:
    """The Starlette app (for uvicorn, or for an in-process test client)."""
    try:
        from starlette.applications import Starlette
        from starlette.requests import ClientDisconnect
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ImportError as err:
        raise ServerSetupError(_MISSING_DEPS) from err

    settings = settings or RewardSettings()
    limits = limits or ServerLimits()
    state: dict[str, Any] = {"waiting": 0, "semaphore": None}

    def semaphore() -> asyncio.Semaphore:
        # Created on first use, inside the server's event loop.
        if state["semaphore"] is None:
            state["semaphore"] = asyncio.Semaphore(limits.max_concurrency)
        sem: asyncio.Semaphore = state["semaphore"]
        return sem

    async def health(request: Any) -> Any:
        return JSONResponse({"status": "ok", "answer_format": settings.answer_format})

    async def get_reward(request: Any) -> Any:
        try:
            body = await _read_body(request, limits.max_body_bytes)
        except ClientDisconnect:  # the client left (or missed the body deadline): nobody to answer
            return _error(400, "client disconnected before sending the whole body")
        if body is None:
            return _error(413, f"request body over {limits.max_body_bytes} bytes")
        payload, problem = _parse_json(body)
        if problem is not None:
            return _error(400, problem)
        try:
            req = RewardRequest.model_validate(payload)
        except ValidationError as err:
            return _error(422, _first_error(err))
        except RecursionError:  # nested deep, though not too deep for the parser
            return _error(400, "body nested too deeply")
        if len(req.query) > limits.max_items:
            return _error(413, f"{len(req.query)} queries in one request; at most {limits.max_items}")
        sem = semaphore()
        if sem.locked() and state["waiting"] >= limits.max_pending:
            return JSONResponse({"error": "server busy; retry later"}, status_code=503,
                                headers={"Retry-After": "1"})
        state["waiting"] += 1
        try:
            await sem.acquire()
        finally:  # also when the client goes away while waiting
            state["waiting"] -= 1
        try:
            reply = await asyncio.to_thread(score_queries, req.query, req.prompts, req.labels, settings)
        except (TypeError, ValueError) as err:  # lengths differ, empty label...: the client's input
            return _error(422, " ".join(str(err).split())[:300])
        finally:
            sem.release()
        return JSONResponse(reply)

    routes = [
        Route("/get_reward", get_reward, methods=["POST"]),
        Route("/", get_reward, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def serve(
    host: str = "127.0.0.1",
    port: int = 5000,
    *,
    settings: RewardSettings | None = None,
    limits: ServerLimits | None = None,
    log_level: str = "info",
) -> None:
    """Run the reward service until SIGINT/SIGTERM (uvicorn's graceful shutdown).

    The socket is bound here, so ``port=0`` picks a free port; the listening address is printed
    on one line (``rlvr reward server listening on http://HOST:PORT/get_reward``).
    """
    try:
        import uvicorn
    except ImportError as err:
        raise ServerSetupError(_MISSING_DEPS) from err
    from rlvr_eval.integrations.http_deadline import deadline_protocol

    app = create_app(settings, limits)
    limits = limits or ServerLimits()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level=log_level, timeout_graceful_shutdown=10,
        # No limit_concurrency: uvicorn counts open connections there, so idle sockets would lock
        # valid requests out. The app admits by requests (max_concurrency + max_pending) and the
        # protocol closes connections that do not deliver a request in time.
        http=deadline_protocol(limits.header_timeout, limits.body_timeout),
    )
    print(f"rlvr reward server listening on http://{host}:{bound}/get_reward", flush=True)
    if threading.current_thread() is threading.main_thread():
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to the handler that was
        # installed before it: make that an ordinary exit (status 0), not death by signal.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    uvicorn.Server(config).run(sockets=[sock])


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)


# ---------------------------------------------------------------- command line


def add_serve_reward_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``serve-reward`` on an argparse subparsers object; dispatch to `cmd_serve_reward`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "serve-reward", help="serve the verifier as an OpenRLHF remote reward model (HTTP)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=5000, help="port (default 5000; 0 picks a free one)")
    p.add_argument("--answer-format", default="boxed",
                   choices=["boxed", "final_answer", "answer_colon", "gsm8k", "multiple_choice"])
    p.add_argument("--lenient", action="store_true", help="accept answers outside the requested format")
    p.add_argument("--lenient-fallback", choices=["none", "last_number"], default="none",
                   help="when a response states no answer: none, or the last number in the text")
    p.add_argument("--timeout", type=seconds_arg, default=3.0, help="seconds per symbolic comparison")
    p.add_argument("--workers", type=int, help="verifier processes (default: one per CPU, up to 8)")
    p.add_argument("--correct-reward", type=float, default=1.0)
    p.add_argument("--incorrect-reward", type=float, default=0.0)
    p.add_argument("--max-body-mb", type=float, default=64.0, help="largest request body (default 64 MB)")
    p.add_argument("--max-items", type=int, default=16_384, help="most queries in one request")
    p.add_argument("--max-concurrency", type=int, default=2, help="requests graded at once")
    p.add_argument("--max-pending", type=int, default=64, help="requests waiting before 503")
    p.add_argument("--header-timeout", type=float, default=5.0,
                   help="seconds a connection has to send its request headers (default 5), else 408")
    p.add_argument("--body-timeout", type=float, default=60.0,
                   help="seconds a request has to send its body after the headers (default 60), else 408")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return p


def _port(text: str) -> int:
    """argparse ``type=``: a TCP port number, so 70000 is a one-line usage error, not an OverflowError."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {port}")
    return port


def cmd_serve_reward(args: argparse.Namespace) -> int:
    """Handler of ``rlvr-eval serve-reward``; bad settings, a missing dependency (ValueError) and a busy
    port (OSError) raise the errors ``rlvr-eval`` prints as one line."""
    try:
        settings = RewardSettings(
            answer_format=args.answer_format, strict=not args.lenient, timeout=args.timeout,
            lenient_fallback=args.lenient_fallback,
            workers=args.workers, correct_reward=args.correct_reward, incorrect_reward=args.incorrect_reward,
        )
        limits = ServerLimits(
            max_body_bytes=int(args.max_body_mb * 1024 * 1024), max_items=args.max_items,
            max_concurrency=args.max_concurrency, max_pending=args.max_pending,
            header_timeout=args.header_timeout, body_timeout=args.body_timeout,
        )
    except ValidationError as err:
        raise ValueError(_first_error(err)) from err
    serve(args.host, args.port, settings=settings, limits=limits, log_level=args.log_level)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rlvr_eval.integrations.reward_server``: the same as ``rlvr-eval serve-reward``."""
    parser = argparse.ArgumentParser(prog="python -m rlvr_eval.integrations.reward_server")
    sub = parser.add_subparsers(dest="command")
    add_serve_reward_parser(sub)
    args = parser.parse_args(["serve-reward", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cmd_serve_reward(args)
    except (OSError, ValueError) as err:
        print(f"serve-reward: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
