"""Matching parts in order (tuples, matrices, intervals' ends) or as multisets (sets, answer lists)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from rlvr_eval.verifier.compare.context import Tri

T = TypeVar("T")
U = TypeVar("U")
MAX_UNORDERED = 200  # quadratic matching: longer lists are left undecided (the sandboxed path decides)


def ordered(answer: Sequence[T], reference: Sequence[U], same: Callable[[T, U], Tri]) -> Tri:
    if len(answer) != len(reference):
        return False
    undecided = False
    for x, y in zip(answer, reference, strict=True):
        t = same(x, y)
        if t is False:
            return False
        undecided |= t is None
    return None if undecided else True


def unordered(answer: Sequence[T], reference: Sequence[U], same: Callable[[T, U], Tri]) -> Tri:
    """Multiset match: every reference part meets a distinct equal answer part."""
    if len(answer) != len(reference):
        return False
    if len(reference) > MAX_UNORDERED:
        return None
    left = list(answer)
    undecided = False
    for y in reference:
        found = None
        for k, x in enumerate(left):
            t = same(x, y)
            if t is True:
                found = k
                break
            undecided |= t is None
        if found is None:
            if not undecided:
                return False
            continue
        left.pop(found)
    return None if undecided else True
