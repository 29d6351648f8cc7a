"""What every comparison rule receives: the options, the scalar backend, and a way to compare parts.

A `Backend` is the only difference between the two paths: the fast one (exact arithmetic in process,
`scalars.py` / `relations.fast_proportional`) and the symbolic one (sympy, only inside the sandbox,
`rlvr_eval.verifier.symbolic`). Every rule for tuples, sets, intervals ... is written once and walks
both, so a tuple is judged identically on both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rlvr_eval.verifier.answer import Answer, Scalar
from rlvr_eval.verifier.schema import EquivalenceOptions

Tri = bool | None
"""True: equal; False: different; None: undecided (the fast path leaves it to the symbolic one)."""


@dataclass(frozen=True)
class Backend:
    """How scalars are compared: exactly in process (fast) or with sympy (symbolic, in the sandbox)."""

    name: str
    scalars: Callable[[Scalar, Scalar, EquivalenceOptions], Tri]
    # is (a0 - a1) a constant (positive, if asked) multiple of sign * (r0 - r1)? -- equations, inequalities
    proportional: Callable[[Sequence[str], Sequence[str], int, bool], Tri]


@dataclass(frozen=True)
class Context:
    options: EquivalenceOptions
    backend: Backend
    dispatch: Callable[[Answer, Answer, Context], Tri]

    def same(self, answer: Answer, reference: Answer) -> Tri:
        """Compare two parts (items of a tuple, cells of a matrix) with the full dispatch."""
        return self.dispatch(answer, reference, self)

    def scalars(self, answer: Scalar, reference: Scalar) -> Tri:
        return self.backend.scalars(answer, reference, self.options)
