"""Fixtures shared by every test directory. Keep this file small: one fixture per shared resource."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen2 chat model + tokenizer, saved once per session (see rlvr_train/tiny_model.py).

    Treat it as read-only: every test in the session shares the directory.
    """
    # lazy: torch/transformers load only for tests that use it
    from rlvr_train.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The local benchmark directory: $RLVR_DATA_DIR, else <repo>/../shared/benchmarks; skip if absent."""
    configured = os.environ.get("RLVR_DATA_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "benchmarks"
    if not path.is_dir():
        source = "RLVR_DATA_DIR" if configured else "default location (set RLVR_DATA_DIR to override)"
        pytest.skip(f"benchmark data not found at {path} ({source})")
    return path
