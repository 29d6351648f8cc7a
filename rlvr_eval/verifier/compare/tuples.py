"""Tuples, points and vectors: ``(3, -5)``, ``(u, v) = (6, 1)``, ``a = 2, b = 9`` vs ``(2, 9)``.

Ordered, and the brackets must match: ``(1,2)`` is not ``[1,2]`` (a pair is not a closed interval).
A list of labelled values meets a parenthesised tuple in the order written. Column and row vectors
written as matrices are in ``matrices.py``.
"""

from __future__ import annotations

from rlvr_eval.verifier.answer import Answer, AnswerList, Bracketed
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.compare.matching import ordered
from rlvr_eval.verifier.compare.sets import unlabelled


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Tuples in order with matching brackets; a labelled list against a parenthesised tuple."""
    a, r = answer.value, reference.value
    if isinstance(a, Bracketed) and isinstance(r, Bracketed):
        if (a.left, a.right) != (r.left, r.right):
            return False
        return ordered(a.items, r.items, ctx.same)
    if isinstance(a, AnswerList) and isinstance(r, Bracketed) and (r.left, r.right) == ("(", ")"):
        return ordered([unlabelled(x) for x in a.items], r.items, ctx.same)  # w=16, d=3 vs (16,3)
    if isinstance(a, Bracketed) and isinstance(r, AnswerList) and not ctx.options.multiple_answers:
        return ordered(a.items, [unlabelled(y) for y in r.items], ctx.same)  # (1,2) vs 1, 2
    return False
