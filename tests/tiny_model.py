"""Test-side import path of the tiny model builder, kept so tests can write `from tiny_model import ...`."""

from rlvr_train.tiny_model import *  # noqa: F403
