"""Answer equivalence: the content layer.

`fast_compare` decides most pairs in-process in microseconds (pure Python, bounded); `symbolic_compare`
is the complete, possibly slow path (sympy) and must run inside the sandbox; `compare` chains them.

Both walk the same structure logic (`compare_shapes`) and differ only in the scalar comparator, so a
tuple, set or interval is judged identically on both paths.

Decisions worth knowing:
- Exact rational arithmetic unless the *reference* is a decimal: then the answer must agree to the
  reference's shown precision, capped at 2% of its value (ref 12.7 accepts 12.70, 12.7, 12.68; rejects
  12.8; ref 0.5 rejects 0.54). A reference like
  ``27.0`` (AMC floats) is the integer 27, exactly.
- A decimal answer against an exact reference must be exactly equal (0.5 = 1/2, but 0.333 != 1/3) unless
  options.rel_tol is set; rel_tol never applies between two integers (10001 != 10000).
- A percent sign matches the bare number or its value (25% vs 25 or 0.25); without a % anywhere, no x100.
- ``(1,2)`` vs ``[1,2]`` differ: brackets must match, except a bracket next to an infinity.
- Sets and bare comma lists are order-free multisets; tuples, pairs, intervals and matrices are ordered.
  With options.multiple_answers every reference answer must appear (a subset is DIFFERENT).
- Variables are compared as functions (``2x`` != ``2y``), except bound names: ``f(x)=2x`` vs ``f(t)=2t``
  and a solution family's integer parameter (``k\\pi`` vs ``n\\pi``).
- Units are dropped only when spelled out (``\\text{cm}``, ``cm`` after a number, options.unit).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rlvr_eval.verifier.normalize import all_boxed, normalize_answer
from rlvr_eval.verifier.scalar import Tri, is_word, scalar_equal, strip_assignment
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions
from rlvr_eval.verifier.structures import (
    Shape,
    infinity_sign,
    parse_shape,
    relation_to_interval,
    split_label,
)

MAX_FAST_CHARS = 4000
MAX_UNORDERED = 200
ScalarCmp = Callable[[str, str, EquivalenceOptions], Tri]

# "(B)", "(B) 15", "B.", "B: 15", "B" -- a letter alone or closed off, never the start of a word ("Bob")
_CHOICE_RE = re.compile(r"^\(([A-Za-z0-9])\)|^([A-Za-z0-9])(?:[.:)]|$)")
_CHOICE_PREFIX_RE = re.compile(r"^(?:option|choice|answer)\s*:?\s*", re.IGNORECASE)


def _to_status(t: Tri) -> ContentStatus | None:
    return None if t is None else ContentStatus.EQUAL if t else ContentStatus.DIFFERENT


def _choice_letter(text: str) -> str | None:
    t = _CHOICE_PREFIX_RE.sub("", text.strip())
    m = _CHOICE_RE.match(t)
    return (m.group(1) or m.group(2)).upper() if m else None


def _is_variable(text: str) -> bool:
    return bool(re.fullmatch(r"[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+", text)) and infinity_sign(text) == 0


def _interval_of(shape: Shape) -> Shape | None:
    """A seq of two items as an interval (infinite ends made open), or an inequality turned interval."""
    if shape.kind == "relation":
        iv = relation_to_interval(shape, _is_variable)
        if iv is None:
            return None
        left, lo, hi, right = iv
        shape = Shape("seq", (lo, hi), left, right)
    if shape.kind != "seq" or len(shape.items) != 2:
        return None
    lo, hi = shape.items
    left = "(" if infinity_sign(lo) else shape.left
    right = ")" if infinity_sign(hi) else shape.right
    return Shape("seq", (lo, hi), left, right)


def _ordered(a_items: tuple, r_items: tuple, cmp: Callable[[object, object], Tri]) -> Tri:
    if len(a_items) != len(r_items):
        return False
    undecided = False
    for x, y in zip(a_items, r_items, strict=False):
        t = cmp(x, y)
        if t is False:
            return False
        undecided |= t is None
    return None if undecided else True


def _unordered(a_items: tuple, r_items: tuple, cmp: Callable[[object, object], Tri]) -> Tri:
    """Multiset match: every reference item meets a distinct equal answer item."""
    if len(a_items) != len(r_items):
        return False
    if len(r_items) > MAX_UNORDERED:
        return None  # quadratic matching: leave very long lists to the sandboxed path
    left = list(a_items)
    undecided = False
    for y in r_items:
        found = None
        for k, x in enumerate(left):
            t = cmp(x, y)
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


def _strip_labels(items: tuple) -> tuple:
    return tuple(split_label(x)[1] for x in items)


ItemCmp = Callable[[object, object], Tri]


def compare_shapes(a: Shape, r: Shape, opts: EquivalenceOptions, scalar: ScalarCmp) -> Tri:
    """Compare two parsed answers part by part with the given scalar comparator.

    Dispatch is on the *reference's* shape: the reference decides whether order, brackets and
    multiplicity matter.
    """

    def items_cmp(x: object, y: object) -> Tri:
        return compare_texts(str(x), str(y), opts, scalar, normalized=True)

    if r.kind == "matrix":
        return _vs_matrix(a, r, items_cmp)
    if _is_interval_reference(a, r):
        return _compare_intervals(a, r, opts, scalar)
    if r.kind == "set":
        return _vs_set(a, r, items_cmp)
    if r.kind == "list":
        return _vs_list(a, r, items_cmp)
    if r.kind == "seq":
        return _vs_seq(a, r, opts, scalar, items_cmp)
    # the reference is a scalar or an equation
    if a.kind in ("scalar", "relation"):
        return scalar(_join(a), _join(r), opts)
    if a.kind in ("set", "list") and len(a.items) == 1:
        return scalar(a.items[0], _join(r), opts)
    return False


def _is_interval_reference(a: Shape, r: Shape) -> bool:
    """Whether to compare as intervals: unions, inequalities, mixed brackets, infinite ends.

    A plain (1,2) or [1,2] stays a bracketed pair unless the answer is an inequality or a union.
    """
    if r.kind == "union":
        return True
    if r.kind not in ("seq", "relation") or _interval_of(r) is None:
        return False
    return (
        r.kind == "relation"
        or a.kind == "union"
        or (a.kind == "relation" and "=" not in a.ops)
        or (r.left, r.right) not in (("(", ")"), ("[", "]"))
        or any(infinity_sign(x) for x in r.items)
    )


def _vs_matrix(a: Shape, r: Shape, items_cmp: ItemCmp) -> Tri:
    if a.kind == "seq" and (a.left, a.right) == ("(", ")"):
        cells = _vector_cells(r)  # (1,2) vs a column vector
        return False if cells is None else _ordered(a.items, cells, items_cmp)
    if a.kind != "matrix" or len(a.items) != len(r.items):
        return False
    if any(len(x) != len(y) for x, y in zip(a.items, r.items, strict=True)):
        return False
    flat_a = tuple(c for row in a.items for c in row)
    flat_r = tuple(c for row in r.items for c in row)
    return _ordered(flat_a, flat_r, items_cmp)


def _vs_set(a: Shape, r: Shape, items_cmp: ItemCmp) -> Tri:
    if a.kind in ("set", "list"):
        return _unordered(_strip_labels(a.items), r.items, items_cmp)
    if len(r.items) == 1 and a.kind in ("scalar", "relation"):
        return items_cmp(strip_assignment(_join(a)), r.items[0])
    return False


def _vs_list(a: Shape, r: Shape, items_cmp: ItemCmp) -> Tri:
    """A bare list is order-free, unless both sides label their items (a = 1, b = 2): then by label."""
    if a.kind in ("list", "set"):
        la = [split_label(x) for x in a.items]
        lr = [split_label(x) for x in r.items]
        if all(k for k, _ in la) and all(k for k, _ in lr) and {k for k, _ in la} == {k for k, _ in lr}:
            by_label = dict(la)
            return _ordered(tuple(by_label[k] for k, _ in lr), tuple(v for _, v in lr), items_cmp)
        return _unordered(_strip_labels(a.items), _strip_labels(r.items), items_cmp)
    if a.kind == "seq":
        return _ordered(a.items, _strip_labels(r.items), items_cmp)
    return False


def _vs_seq(a: Shape, r: Shape, opts: EquivalenceOptions, scalar: ScalarCmp, items_cmp: ItemCmp) -> Tri:
    """Tuples and pairs: ordered, and the brackets must match ((1,2) is not [1,2])."""
    parens = (r.left, r.right) == ("(", ")")
    if a.kind == "seq":
        if (a.left, a.right) != (r.left, r.right):
            return False
        return _ordered(a.items, r.items, items_cmp)
    if a.kind == "list" and parens:
        return _ordered(_strip_labels(a.items), r.items, items_cmp)  # w=16, d=3 vs (16,3)
    if a.kind == "matrix" and parens:
        cells = _vector_cells(a)
        return False if cells is None else _ordered(cells, r.items, items_cmp)
    if a.kind == "relation" and all(op == "=" for op in a.ops):
        return compare_shapes(parse_shape(a.items[-1]), r, opts, scalar)  # (x,y) = (1,2)
    return False


def _vector_cells(matrix: Shape) -> tuple | None:
    """Cells of a one-column or one-row matrix (a vector), else None."""
    if all(len(row) == 1 for row in matrix.items):
        return tuple(row[0] for row in matrix.items)
    return tuple(matrix.items[0]) if len(matrix.items) == 1 else None


def _join(shape: Shape) -> str:
    if shape.kind == "scalar":
        return str(shape.items[0])
    out = str(shape.items[0])
    for op, side in zip(shape.ops, shape.items[1:], strict=False):
        out += {"<=": "\\leq ", ">=": "\\geq ", "!=": "\\neq "}.get(op, op) + str(side)
    return out


def _intervals(shape: Shape) -> list[Shape] | None:
    if shape.kind == "union":
        parts = [_interval_of(p) for p in shape.items]
    elif shape.kind == "list":
        parts = [_interval_of(parse_shape(x)) for x in shape.items]
    else:
        parts = [_interval_of(shape)]
    return None if any(p is None for p in parts) else parts  # type: ignore[return-value]


def _compare_intervals(a: Shape, r: Shape, opts: EquivalenceOptions, scalar: ScalarCmp) -> Tri:
    ia, ir = _intervals(a), _intervals(r)
    if ir is None:
        return None
    if ia is None:
        if a.kind == "relation" and r.kind == "relation":
            return scalar(_join(a), _join(r), opts)  # x + y > 2 vs y > 2 - x: compare as relations
        if a.kind == "relation" and any(op != "=" for op in a.ops):
            return None  # an inequality we could not read (e.g. two variables): undecided
        return False

    def one(x: object, y: object) -> Tri:
        assert isinstance(x, Shape) and isinstance(y, Shape)
        if (x.left, x.right) != (y.left, y.right):
            return False
        return _ordered(x.items, y.items, lambda p, q: scalar(str(p), str(q), opts))

    return _unordered(tuple(ia), tuple(ir), one)


def _split_multi(text: str) -> tuple[str, ...]:
    shape = parse_shape(text)
    if shape.kind in ("set", "list"):
        return _strip_labels(shape.items)
    return (strip_assignment(text),)


def compare_texts(
    answer: str, reference: str, opts: EquivalenceOptions, scalar: ScalarCmp, *, normalized: bool = False
) -> Tri:
    """Shared driver of both paths: normalize, special answer types, then shapes."""
    if not normalized:
        if opts.multiple_answers and answer.count("\\boxed") > 1:
            answer = ", ".join(all_boxed(answer)) or answer  # \boxed{1}, \boxed{2}: every box is an answer
        answer = normalize_answer(answer, opts.unit)
        reference = normalize_answer(reference, opts.unit)
    if answer == reference:
        return True
    if not answer:
        return False
    if opts.answer_type == "choice" or opts.choices:
        la, lr = _choice_letter(answer), _choice_letter(reference)
        if la is not None and lr is not None:
            return la == lr
        if is_word(answer) and is_word(reference):
            return answer.casefold() == reference.casefold()
    if opts.multiple_answers:
        items_a, items_r = _split_multi(answer), _split_multi(reference)
        if len(items_r) > 1 or len(items_a) > 1:
            sub = opts.model_copy(update={"multiple_answers": False})
            return _unordered(items_a, items_r, lambda x, y: compare_texts(str(x), str(y), sub, scalar,
                                                                           normalized=True))
    return compare_shapes(parse_shape(answer), parse_shape(reference), opts, scalar)


def fast_compare(answer: str, reference: str, options: EquivalenceOptions) -> ContentStatus | None:
    """Bounded in-process verdict: EQUAL / DIFFERENT when sure, None when the symbolic path must decide."""
    if len(answer) > MAX_FAST_CHARS or len(reference) > MAX_FAST_CHARS:
        return None  # keep the in-process path bounded; the sandbox judges giant answers
    try:
        return _to_status(compare_texts(answer, reference, options, scalar_equal))
    except RecursionError:  # deeply nested input: not worth more in-process work
        return None


def symbolic_compare(answer: str, reference: str, options: EquivalenceOptions) -> ContentStatus:
    """Complete (possibly slow) verdict with sympy; call it only inside the sandbox."""
    from rlvr_eval.verifier.symbolic import symbolic_scalar_equal

    t = compare_texts(answer, reference, options, symbolic_scalar_equal)
    return ContentStatus.UNPARSEABLE if t is None else (ContentStatus.EQUAL if t else ContentStatus.DIFFERENT)


def compare(answer: str, reference: str, options: EquivalenceOptions | None = None) -> ContentStatus:
    """Fast path, then symbolic; unguarded (for worker processes and tests)."""
    options = options or EquivalenceOptions()
    fast = fast_compare(answer, reference, options)
    return fast if fast is not None else symbolic_compare(answer, reference, options)


__all__ = ["compare", "compare_shapes", "compare_texts", "fast_compare", "symbolic_compare"]
