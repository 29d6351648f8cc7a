"""Typed answers: what `parse` makes of an answer text, once, and what `compare` dispatches on.

An `Answer` is a value of one of the types below plus what people write around a value, kept as
fields instead of being re-read from the string by every comparison:

- ``label``: the name before ``=`` (``x = 3``, ``(u, v) = (6, 1)``, ``f(x) = 2x``, ``PQ:QR = 5:8``);
- ``unit``: a unit after the value (``5 \\text{ cm}``, ``25\\pi \\text{ m}^2``, ``6 meters/second``);
- ``approx``: an approximation tail (``\\frac{\\sqrt7}{7} \\approx 0.378``): the value before it counts;
- ``degrees``: the value was written with a degree sign (``120^\\circ``), so it meets a radian value
  (``\\frac{2\\pi}{3}``) as 120 * pi / 180.

The value types (each a frozen, picklable dataclass: answers cross into the sandbox as they are):

=============  ==========================================================================
`Number`       a literal rational: ``12``, ``-0.375``, ``\\frac{3}{8}``, ``3/4``, ``2\\frac12``
`Expression`   any other scalar: ``2\\sqrt{3}``, ``x^2+1``, ``25\\%``, ``\\text{even}``
`Relation`     equations, inequalities and chains: ``y = 2x + 1``, ``0 < x \\le 7``
`Interval`     an interval that cannot be a point: ``[2, 9)``, ``(2, \\infty)``
`IntervalUnion`  ``(-\\infty, -2) \\cup (4, \\infty)``
`Bracketed`    a tuple or point, ``(3, -5)``; a two-element one may also be read as an interval
`SetOf`        ``\\{1, 2\\}`` (order-free, brackets ``\\{ \\}``)
`AnswerList`   several answers: ``1, -2``, ``x = 2 \\text{ or } x = 3``, ``\\pm 3``
`Matrix`       ``pmatrix``/``bmatrix``/``array`` environments
`Ratio`        ``5:8`` and clock times ``7:45``
`Choice`       a multiple-choice label with its optional option text: ``(D) Ellipse``
`Text`         words: ``Evelyn``, ``north east``
`Empty`        nothing at all (equal to nothing, not even another empty answer)
=============  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union


@dataclass(frozen=True, slots=True)
class Number:
    """A literal rational; ``text`` keeps how it was written (a decimal's shown precision matters)."""

    text: str
    value: Fraction
    kind = "number"


@dataclass(frozen=True, slots=True)
class Expression:
    """A scalar that is not a plain literal, as normalized LaTeX (compared by the scalar backends)."""

    text: str
    kind = "expression"


Scalar = Union[Number, Expression]  # noqa: UP007 - a runtime alias used in isinstance checks too
SCALAR_TYPES = (Number, Expression)


@dataclass(frozen=True, slots=True)
class Relation:
    """Sides joined by relation operators (``=``, ``<``, ``<=``, ``>``, ``>=``, ``!=``)."""

    sides: tuple[Scalar, ...]
    ops: tuple[str, ...]
    kind = "relation"

    @property
    def is_equation(self) -> bool:
        return all(op == "=" for op in self.ops)


@dataclass(frozen=True, slots=True)
class Interval:
    """``left lo, hi right`` with ``left`` in ``( [`` and ``right`` in ``) ]``; infinite ends are open."""

    left: str
    lo: Scalar
    hi: Scalar
    right: str
    kind = "interval"


@dataclass(frozen=True, slots=True)
class IntervalUnion:
    parts: tuple[Interval, ...]
    kind = "union"


@dataclass(frozen=True, slots=True)
class Bracketed:
    """A tuple, point or vector in ``( )`` or ``[ ]``; ``[1, 2]`` may still turn out to be an interval."""

    items: tuple[Answer, ...]
    left: str
    right: str
    kind = "tuple"


@dataclass(frozen=True, slots=True)
class SetOf:
    items: tuple[Answer, ...]
    kind = "set"


@dataclass(frozen=True, slots=True)
class AnswerList:
    """Several answers given together (bare commas, "or"/"and", ``\\pm``): order-free unless labelled."""

    items: tuple[Answer, ...]
    kind = "list"


@dataclass(frozen=True, slots=True)
class Matrix:
    rows: tuple[tuple[Answer, ...], ...]
    kind = "matrix"


@dataclass(frozen=True, slots=True)
class Ratio:
    """``a:b(:c)``: a ratio or a clock time, compared part by part."""

    parts: tuple[Scalar, ...]
    kind = "ratio"


@dataclass(frozen=True, slots=True)
class Choice:
    """A multiple-choice label (upper case) and the option text written after it, if any."""

    letter: str
    text: str = ""
    option: Answer | None = None  # the option text, parsed (``(B) 15`` -> the number 15)
    kind = "choice"


@dataclass(frozen=True, slots=True)
class Text:
    """Words (letters, spaces, apostrophes); short ones may still be products of variables (``ab``)."""

    text: str
    kind = "text"


@dataclass(frozen=True, slots=True)
class Empty:
    kind = "empty"


Value = Union[  # noqa: UP007
    Number, Expression, Relation, Interval, IntervalUnion, Bracketed, SetOf, AnswerList, Matrix, Ratio,
    Choice, Text, Empty,
]


@dataclass(frozen=True, slots=True)
class Answer:
    """A parsed answer: the typed value and what was written around it (see the module docstring)."""

    value: Value
    label: str | None = None
    unit: str | None = None
    approx: Scalar | None = None
    degrees: bool = False
    text: str = field(default="", compare=False)  # the normalized text it was parsed from (for reports)

    @property
    def kind(self) -> str:
        return self.value.kind

    @property
    def multiple(self) -> bool:
        """Several answers at once (a list), e.g. two boxes or ``x = 2 \\text{ or } x = 3``."""
        return isinstance(self.value, AnswerList)

    def describe(self) -> str:
        """One line for ``rlvr-eval verify --explain``: the type, the value and its fields."""
        parts = [f"{self.kind} {render(self.value)}"]
        for name in ("label", "unit"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        if self.approx is not None:
            parts.append(f"approx={render(self.approx)}")
        if self.degrees:
            parts.append("degrees")
        if self.multiple:
            parts.append(f"multiple ({len(self.value.items)} answers)")  # type: ignore[union-attr]
        return ", ".join(parts)


def render(value: Value | Answer) -> str:
    """A compact, readable rendering of a parsed value (not LaTeX to re-parse: for humans)."""
    if isinstance(value, Answer):
        inner = render(value.value)
        return f"{value.label} = {inner}" if value.label else inner
    if isinstance(value, (Number, Expression, Text)):
        return value.text
    if isinstance(value, Relation):
        out = render(value.sides[0])
        for op, side in zip(value.ops, value.sides[1:], strict=True):
            out += f" {op} {render(side)}"
        return out
    if isinstance(value, Interval):
        return f"{value.left}{render(value.lo)}, {render(value.hi)}{value.right}"
    if isinstance(value, IntervalUnion):
        return " U ".join(render(p) for p in value.parts)
    if isinstance(value, Bracketed):
        return value.left + ", ".join(render(x) for x in value.items) + value.right
    if isinstance(value, SetOf):
        return "{" + ", ".join(render(x) for x in value.items) + "}"
    if isinstance(value, AnswerList):
        return "; ".join(render(x) for x in value.items)
    if isinstance(value, Matrix):
        return "[" + "; ".join(", ".join(render(c) for c in row) for row in value.rows) + "]"
    if isinstance(value, Ratio):
        return ":".join(render(p) for p in value.parts)
    if isinstance(value, Choice):
        return f"({value.letter})" + (f" {value.text}" if value.text else "")
    return "(empty)"
