"""`compare`: two parsed answers -> equal / different / undecided (step 3 of extract -> parse -> compare).

Which rule decides is read off the two answers' kinds, in this order:

1. an empty answer (or reference) equals nothing;
2. either side a multiple-choice label: `choices.compare`;
3. either side a matrix: `matrices.compare`;
4. either side certainly a set of reals (interval, union, one-variable inequality): `intervals.compare`;
5. otherwise the table `RULES` below, keyed on (answer kind, reference kind); a pair of kinds it does
   not list is DIFFERENT (a tuple is not a set, a number is not an equation).

Every rule compares parts through `Context.same` (this dispatch again) and scalars through the
context's `Backend`: `FAST` here (exact, in process, may be undecided) or `symbolic.SYMBOLIC` (sympy,
inside the sandbox only). `fast_compare` and `symbolic_compare` are the two entry points.
"""

from __future__ import annotations

from collections.abc import Callable

from rlvr_eval.verifier.answer import Answer
from rlvr_eval.verifier.compare import choices, intervals, matrices, relations, scalars, sets, tuples
from rlvr_eval.verifier.compare.context import Backend, Context, Tri
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

__all__ = ["FAST", "RULES", "Backend", "Context", "Rule", "compare_answers", "fast_compare", "rule_for",
           "symbolic_compare"]

Rule = Callable[[Answer, Answer, Context], Tri]


def nothing_equals_empty(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """An empty answer is never right, and an empty reference accepts nothing."""
    return False


def different_kinds(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Kinds that never meet (a tuple and a set, a matrix and a number)."""
    return False


_SCALARS = ("number", "expression", "text")
_COLLECTIONS = ("set", "list")

RULES: dict[tuple[str, str], Rule] = {
    **{(a, r): scalars.compare for a in _SCALARS for r in _SCALARS},
    ("relation", "relation"): relations.compare,
    **{("relation", r): relations.compare for r in _SCALARS},
    **{(a, "relation"): relations.compare for a in _SCALARS},
    **{(a, r): sets.compare for a in _COLLECTIONS for r in _COLLECTIONS},
    **{(a, r): sets.compare for a in _COLLECTIONS for r in (*_SCALARS, "relation")},
    **{(a, r): sets.compare for a in (*_SCALARS, "relation") for r in _COLLECTIONS},
    ("tuple", "tuple"): tuples.compare,
    ("list", "tuple"): tuples.compare,
    ("tuple", "list"): tuples.compare,
    ("ratio", "ratio"): choices.compare_ratios,
    **{("ratio", r): choices.compare_ratios for r in ("number", "expression")},
    **{(a, "ratio"): choices.compare_ratios for a in ("number", "expression")},
}


def rule_for(answer: Answer, reference: Answer) -> Rule:
    """The rule that compares these two answers (see the module docstring for the order)."""
    kinds = (answer.kind, reference.kind)
    if "empty" in kinds:
        return nothing_equals_empty
    if "choice" in kinds:
        return choices.compare
    if "matrix" in kinds:
        return matrices.compare
    if intervals.interval_like(answer) or intervals.interval_like(reference):
        return intervals.compare
    return RULES.get(kinds, different_kinds)


def compare_answers(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Equal (True), different (False) or undecided (None), by the rule for their kinds."""
    if answer == reference and answer.kind != "empty":
        return True
    return rule_for(answer, reference)(answer, reference, ctx)


FAST = Backend("fast path", scalars.scalar_equal, relations.fast_proportional)


def fast_compare(answer: Answer, reference: Answer, options: EquivalenceOptions) -> Tri:
    """The in-process verdict; None when only the symbolic path can decide."""
    try:
        return compare_answers(answer, reference, Context(options, FAST, compare_answers))
    except RecursionError:  # deeply nested input: not worth more in-process work
        return None


def symbolic_compare(answer: Answer, reference: Answer, options: EquivalenceOptions) -> ContentStatus:
    """The complete (possibly slow) verdict with sympy; call it only inside the sandbox."""
    from rlvr_eval.verifier.symbolic import SYMBOLIC

    verdict = compare_answers(answer, reference, Context(options, SYMBOLIC, compare_answers))
    if verdict is None:
        return ContentStatus.UNPARSEABLE
    return ContentStatus.EQUAL if verdict else ContentStatus.DIFFERENT
