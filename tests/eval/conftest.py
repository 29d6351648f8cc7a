"""Fixtures of the evaluation tests: one per shared resource."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_generation_openai import StubState, start_stub


@pytest.fixture
def stub() -> Iterator[tuple[StubState, str]]:
    """test_generation_openai's OpenAI-compatible stub server on a loopback port: (its state, its URL)."""
    state = StubState()
    server, url = start_stub(state)
    yield state, url
    server.shutdown()
    server.server_close()
