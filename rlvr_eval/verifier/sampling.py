"""Where two expressions in variables are evaluated to decide equality: which variables are real, which
are integers, and the sample points of each path (fast exact, numeric, formal; `symbolic.py` follows the
same rule).

Variables are real. Floor and ceiling do not make them integers: ``\\lfloor 2x \\rfloor`` is not ``2x``
and ``x - \\lfloor x \\rfloor`` is not 0, which sampling every variable at integers would "prove". Only the
names people give integers (k, m, n, j, l, N, M, K), in an expression that only makes sense for integers
or is written about them (floor, ceiling, factorial, binomial, ``(-1)^n``), are sampled at integers alone:
there the identities of integers (``\\lceil n/2 \\rceil = \\lfloor (n+1)/2 \\rfloor``) hold. Real variables
in such an expression are also probed at integers, where floor and ceiling jump (``\\lfloor x \\rfloor``
and ``\\lceil x \\rceil - 1`` differ only there): a difference at any real point is a proof.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlvr_eval.verifier.latex_fast import Env, integer_envs, sample_envs

INTEGER_NAMES = frozenset("kmnjlNMK")
_INTEGER_HINTS = ("\\lfloor", "\\lceil", "(-1)^", "!", "\\binom")


def integer_hints(text: str) -> bool:
    """Floor, ceiling, factorials, binomials and (-1)^n: an expression that may be about integers."""
    return any(hint in text for hint in _INTEGER_HINTS)


def integer_names(names: frozenset[str], text: str) -> frozenset[str]:
    """The variables of `text` sampled at integers only (see the module docstring)."""
    return names & INTEGER_NAMES if integer_hints(text) else frozenset()


@dataclass(frozen=True)
class Points:
    """The sample points of the fast path for one pair of expressions."""

    exact: list[Env]  # both sides must evaluate exactly here
    partial: list[Env]  # negative reals, integers for real variables: a side undefined here is skipped
    numeric: list[Env]  # mpmath evidence of a difference
    formal: list[Env]  # transcendental parts as uninterpreted functions


def sample_points(names: frozenset[str], text: str) -> Points:
    """The points for expressions in `names`; `text` is both sides (what they are written about)."""
    integers = integer_names(names, text)
    if names and names <= integers:  # every variable an integer: every small residue class
        points = integer_envs(names)
        return Points(points, [], points, points)
    jumps = integer_envs(names) if integer_hints(text) else []

    def envs(count: int = 3, **kind: bool) -> list[Env]:
        return sample_envs(names, count, integers=integers, **kind)

    return Points(
        exact=envs(),
        partial=envs(negative=True) + jumps,
        numeric=envs() + envs(small=True) + jumps,
        # negative points too: \\ln|x| and \\ln x are the same function of |x| only for x > 0
        formal=envs(2) + envs(2, negative=True),
    )
