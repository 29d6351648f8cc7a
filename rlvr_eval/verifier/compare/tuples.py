"""Tuples, points and vectors: ``(3, -5)``, ``(u, v) = (6, 1)``, ``a = 2, b = 9`` vs ``(2, 9)``.

Ordered, and the brackets must match: ``(1,2)`` is not ``[1,2]`` (a pair is not a closed interval).
A list of values meets a parenthesised tuple, never a bracketed one (``[-3, 8]`` is an interval, not
the roots -3 and 8). Names bind values: when both sides name every component with the same names
(``(m, n) = (9, 4)``, ``n = 4, m = 9``, ``(n, m) = (4, 9)``), components are matched by name, so
``y = -2, x = 9`` is not ``(x, y) = (-2, 9)``; when names are on one side only (or differ), the order
written decides. Column and row vectors written as matrices are in ``matrices.py``.
"""

from __future__ import annotations

from rlvr_eval.verifier.answer import Answer, AnswerList, Bracketed
from rlvr_eval.verifier.brackets import bracketed, split_top
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.compare.matching import ordered
from rlvr_eval.verifier.compare.sets import unlabelled

_PARENS = ("(", ")")


def _name(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace(" ", "")  # x_{1} is x_1


def tuple_names(label: str | None) -> tuple[str, ...] | None:
    """The component names of a tuple label: ``(m,n)`` -> ('m', 'n'); None for any other label."""
    br = bracketed(label) if label else None
    if br is None or (br[0], br[2]) != _PARENS:
        return None
    return tuple(_name(x) for x in split_top(br[1], ","))


def _names(answer: Answer) -> tuple[str, ...] | None:
    """Each component's name (from the tuple's label, or each listed value's own label), if all named."""
    value = answer.value
    if isinstance(value, Bracketed):
        names = tuple_names(answer.label)
        count = len(value.items)
    elif isinstance(value, AnswerList):
        labels = [x.label for x in value.items]
        names = None if None in labels else tuple(_name(x) for x in labels)  # type: ignore[arg-type]
        count = len(value.items)
    else:
        return None
    if names is None or len(names) != count or len(set(names)) != count:
        return None
    return names


def _components(answer: Answer) -> tuple[Answer, ...]:
    """A tuple's items as written; a list's values without their labels (``w = 16`` is the value 16)."""
    value = answer.value
    if isinstance(value, AnswerList):
        return tuple(unlabelled(x) for x in value.items)
    assert isinstance(value, Bracketed)
    return value.items


def _aligned(answer: Answer, reference: Answer) -> tuple[Answer, ...]:
    """The answer's components in the reference's order: by name when both sides name the same
    components, else as written."""
    parts = _components(answer)
    na, nr = _names(answer), _names(reference)
    if na is None or nr is None or sorted(na) != sorted(nr):
        return parts
    position = {name: k for k, name in enumerate(na)}
    return tuple(parts[position[name]] for name in nr)


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Tuples with matching brackets, component by component (by name where both sides name them);
    a list of values against a parenthesised tuple."""
    a, r = answer.value, reference.value
    if isinstance(a, Bracketed) and isinstance(r, Bracketed):
        if (a.left, a.right) != (r.left, r.right):
            return False
    elif isinstance(a, AnswerList) and isinstance(r, Bracketed):
        if (r.left, r.right) != _PARENS:
            return False  # -3, 8 vs [-3, 8]: two values are not an interval
    elif isinstance(a, Bracketed) and isinstance(r, AnswerList):
        if (a.left, a.right) != _PARENS or ctx.options.multiple_answers:
            return False  # [-3, 8] vs -3, 8; and a multi-answer item lists separate answers
    else:
        return False
    return ordered(_aligned(answer, reference), _components(reference), ctx.same)
