"""Deadlines on receiving an HTTP request, which uvicorn itself does not have (slowloris defence).

uvicorn's ``timeout_keep_alive`` only runs between requests and is reset by every byte received, so a
client that connects and sends nothing, or trickles its headers one byte at a time, holds its
connection for as long as it likes (uvicorn issue #157; the same gap led xorbitsai/inference to wrap
the protocol class). This module subclasses uvicorn's h11 protocol with two absolute deadlines:

- ``header_timeout``: from the moment a connection opens (or a keep-alive connection finishes its
  previous response) until the request's headers are complete;
- ``body_timeout``: from complete headers until the whole body has arrived.

A connection that misses either is answered ``408 Request Timeout`` and closed. Once a request is
fully received no deadline runs, so slow grading is never cut off. uvicorn's protocol internals used
here (``conn``, ``loop``, ``transport``, ``on_response_complete``) are stable since uvicorn 0.2x; the
abuse tests in tests/integrations/test_reward_server_abuse.py pin the behaviour.
"""

from __future__ import annotations

import asyncio
from typing import Any

_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def deadline_protocol(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """A uvicorn HTTP protocol class (for ``uvicorn.Config(http=...)``) enforcing both deadlines."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class DeadlineH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _phase: str | None = None  # "head", "body", or None while no request is being received

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._track()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._track()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._track()  # keep-alive: the next request's headers are due now

        def connection_lost(self, exc: Exception | None) -> None:
            self._set_deadline(None)
            super().connection_lost(exc)

        def _track(self) -> None:
            """Arm the deadline of the phase the request is in; an unchanged phase keeps its deadline
            (it is absolute: bytes trickling in do not extend it)."""
            if self.transport.is_closing():
                return self._set_deadline(None)
            state = self.conn.their_state
            phase = "head" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
            if phase != self._phase:
                self._set_deadline(phase)

        def _set_deadline(self, phase: str | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._phase = phase
            if phase is not None:
                delay = header_timeout if phase == "head" else body_timeout
                self._deadline = self.loop.call_later(delay, self._expire)

        def _expire(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):  # no response of ours started yet
                self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()

    return DeadlineH11Protocol
