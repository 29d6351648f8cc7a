"""Matrices: ``pmatrix``, ``bmatrix``, ``\\left[\\begin{array}{cc}...\\end{array}\\right]`` are one matrix.

Same shape, cells equal in order (each cell is a full answer: ``0.25`` meets ``\\frac14`` exactly).
A parenthesised tuple meets a one-column or one-row matrix (a vector) cell by cell.
"""

from __future__ import annotations

from rlvr_eval.verifier.answer import Answer, Bracketed, Matrix
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.compare.matching import ordered


def vector_cells(matrix: Matrix) -> tuple[Answer, ...] | None:
    """Cells of a one-column or one-row matrix (a vector), else None."""
    if all(len(row) == 1 for row in matrix.rows):
        return tuple(row[0] for row in matrix.rows)
    return tuple(matrix.rows[0]) if len(matrix.rows) == 1 else None


def _as_vector(value: object) -> tuple[Answer, ...] | None:
    if isinstance(value, Bracketed) and (value.left, value.right) == ("(", ")"):
        return value.items
    if isinstance(value, Matrix):
        return vector_cells(value)
    return None


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Same shape and equal cells in order; a tuple meets a vector cell by cell."""
    a, r = answer.value, reference.value
    if isinstance(a, Matrix) and isinstance(r, Matrix):
        if len(a.rows) != len(r.rows) or any(len(x) != len(y) for x, y in zip(a.rows, r.rows, strict=True)):
            return False
        return ordered([c for row in a.rows for c in row], [c for row in r.rows for c in row], ctx.same)
    va, vr = _as_vector(a), _as_vector(r)
    if va is None or vr is None:
        return False
    return ordered(va, vr, ctx.same)
