"""Generation through OpenAI-compatible ``/v1/completions`` servers (vLLM, SGLang, TGI, ...).

The raw completions endpoint is used, never chat: prompts are already rendered by our templates, and a
server-side chat template would silently change them. Each (prompt, sample) is one request with
``n=1`` and the same ``derive_seed`` seed the offline vLLM backend uses, so a vLLM server reproduces
offline results. Only the standard library is used (threads + ``urllib``): no extra dependency.

Several base URLs form a pool: each request goes to the server with the fewest requests in flight, and a
retried request may move to another server, so one dead replica slows a run down instead of failing it.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

from rlvr_eval.generation.base import (
    BackendError,
    Completion,
    ProgressCallback,
    SampleCollector,
    SamplingParams,
    cut_at_stop,
)

_RETRY_STATUS = {408, 409, 425, 429}  # plus every 5xx


class _TransientError(Exception):
    """A failure worth retrying (connection refused or reset, timeout, 429, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def _error_detail(raw: bytes) -> str:
    """The server's own error message (OpenAI's ``{"error": {"message": ...}}`` and common variants)."""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _one_line(text)
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message", data)))
        if isinstance(error, dict):
            error = error.get("message", error)
        return _one_line(str(error))
    return _one_line(text)


def _completions_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base + "/completions" if base.endswith("/v1") else base + "/v1/completions"


class _ServerPool:
    """Least-loaded choice among servers; ties go round-robin so load spreads from the first request."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.in_flight = [0] * len(urls)
        self.next = 0
        self.lock = threading.Lock()

    def acquire(self) -> int:
        with self.lock:
            order = [(self.next + i) % len(self.urls) for i in range(len(self.urls))]
            index = min(order, key=lambda i: self.in_flight[i])
            self.in_flight[index] += 1
            self.next = (index + 1) % len(self.urls)
            return index

    def release(self, index: int) -> None:
        with self.lock:
            self.in_flight[index] -= 1


class OpenAIBackend:
    """Bounded-concurrency client of one or more OpenAI-compatible completion servers."""

    name = "openai"

    def __init__(
        self,
        base_url: str | list[str],
        model: str,
        *,
        api_key: str | None = None,
        max_concurrency: int = 32,
        request_timeout: float = 600,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        special_stop_ids: bool = True,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls or not all(u.startswith(("http://", "https://")) for u in urls):
            raise BackendError(f"base_url must be one or more http(s) URLs, got {base_url!r}")
        if max_concurrency < 1 or max_retries < 0:
            raise BackendError("max_concurrency must be >= 1 and max_retries >= 0")
        if not (math.isfinite(request_timeout) and request_timeout > 0):
            raise BackendError(f"request_timeout must be finite seconds > 0, got {request_timeout}")
        self.base_urls = [u.rstrip("/") for u in urls]
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.max_concurrency = max_concurrency
        self.request_timeout = request_timeout  # seconds per HTTP request (rlvr-eval --request-timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.special_stop_ids = special_stop_ids
        self.extra_body = dict(extra_body or {})
        self._pool = _ServerPool(self.base_urls)
        self._stop_id_cache: dict[tuple[str, ...], list[int]] = {}

    # --- HTTP -------------------------------------------------------------------------------------

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """One POST; transient failures raise ``_TransientError``, permanent ones ``BackendError``."""
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            detail = _error_detail(err.read())
            if err.code in _RETRY_STATUS or err.code >= 500:
                retry_after = err.headers.get("Retry-After") if err.headers else None
                wait_s = float(retry_after) if retry_after and retry_after.isdigit() else None
                raise _TransientError(f"HTTP {err.code} from {url}: {detail}", wait_s) from err
            raise BackendError(f"HTTP {err.code} from {url}: {detail}") from err
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise _TransientError(f"cannot reach {url}: {reason}") from err
        except json.JSONDecodeError as err:
            raise _TransientError(f"invalid JSON from {url}") from err

    def _post_with_retries(self, url_of: Callable[[str], str], body: dict[str, Any]) -> dict[str, Any]:
        """POST to the least-loaded server, retrying transient failures with capped, jittered backoff."""
        last = ""
        for attempt in range(self.max_retries + 1):
            index = self._pool.acquire()
            try:
                return self._post(url_of(self.base_urls[index]), body)
            except _TransientError as err:
                last, retry_after = str(err), err.retry_after or 0.0
            finally:
                self._pool.release(index)  # before sleeping: a backing-off request is not load
            if attempt < self.max_retries:
                # Full jitter: clients that failed together do not all come back at the same moment.
                delay = random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))
                time.sleep(max(delay, min(retry_after, self.max_backoff)))
        raise BackendError(f"request failed after {self.max_retries + 1} attempts: {last}")

    # --- generation -------------------------------------------------------------------------------

    def _stop_token_ids(self, stop: list[str]) -> list[int]:
        """Token ids of stops that are single special tokens, asked once from vLLM's ``/tokenize``.

        vLLM matches stop strings against text decoded without special tokens, so ``<|im_end|>`` as a
        string never matches; the paper's harness passes these ids as ``stop_token_ids``. Servers without
        ``/tokenize`` (the OpenAI API itself) get plain stop strings only.
        """
        key = tuple(stop)
        if not self.special_stop_ids or not stop:
            return []
        if key not in self._stop_id_cache:
            ids: list[int] = []
            try:
                for s in stop:
                    url = self.base_urls[0] + "/tokenize"
                    body = {"model": self.model, "prompt": s, "add_special_tokens": False}
                    tokens = self._post(url, body).get("tokens", [])
                    if len(tokens) == 1:
                        ids.append(int(tokens[0]))
            except _TransientError:
                return []  # server not up yet: ask again next call; generation requests will retry
            except (BackendError, ValueError, TypeError, AttributeError):
                ids = []  # no usable /tokenize (not vLLM): plain stop strings only
            self._stop_id_cache[key] = ids
        return self._stop_id_cache[key]

    def _complete(self, prompt: str, params: SamplingParams, seed: int, stop_ids: list[int]) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "n": 1,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": seed,
            "stop": list(params.stop),
            **({"stop_token_ids": stop_ids} if stop_ids else {}),
            **self.extra_body,
        }
        data = self._post_with_retries(_completions_url, body)
        try:
            choice = data["choices"][0]
            text = str(choice["text"])
        except (KeyError, IndexError, TypeError) as err:
            raise BackendError(f"unexpected completion response: {_one_line(json.dumps(data))}") from err
        text, cut = cut_at_stop(text, params.stop)
        length = choice.get("finish_reason") == "length" and not cut
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            finish_reason="length" if length else "stop",
            num_tokens=int(usage.get("completion_tokens") or 0),
        )

    def generate(
        self, prompts: list[str], params: SamplingParams, *, progress: ProgressCallback | None = None
    ) -> list[list[Completion]]:
        """Generate ``params.n`` completions per prompt with at most ``max_concurrency`` open requests."""
        if not prompts:
            return []
        stop_ids = self._stop_token_ids(params.stop)
        collector = SampleCollector(prompts, params, progress)
        rows = iter(collector.rows)
        executor = ThreadPoolExecutor(max_workers=self.max_concurrency)
        running: dict[Future[Completion], tuple[int, int]] = {}

        def submit_next() -> None:
            row = next(rows, None)
            if row is not None:
                p, s, seed = row
                running[executor.submit(self._complete, prompts[p], params, seed, stop_ids)] = (p, s)

        try:
            # Only max_concurrency rows are queued at a time, so a failure stops the run quickly.
            for _ in range(self.max_concurrency):
                submit_next()
            while running:
                done, _ = wait_futures(list(running), return_when=FIRST_COMPLETED)
                finished = []
                for future in done:
                    p, s = running.pop(future)
                    finished.append((p, s, future.result()))  # re-raises the request's BackendError
                    submit_next()
                collector.store(finished)
        finally:
            # On error do not wait for requests still in flight (they end by their own timeout).
            executor.shutdown(wait=not running, cancel_futures=True)
        return collector.completions()

    def close(self) -> None:
        """Nothing is held open between calls (each call has its own thread pool)."""
