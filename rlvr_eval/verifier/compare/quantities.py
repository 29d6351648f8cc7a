"""Quantities: a value with a unit on BOTH sides is compared in the reference's unit.

The rule (`unit_factor`):

- a unit on one side only says nothing: ``42`` = ``42 cm^2`` (the reference's unit is implied) and
  ``42 cm^2`` = ``42`` (the question fixed the unit); this was always the verifier's rule;
- the same unit, however spelled (``\\text{ cm}^2`` vs ``\\mbox{ cm}^2``), compares the numbers;
- two units pint knows: the answer is converted (``240 minutes`` = ``4 hours``); units of different
  kinds (``m`` vs ``m^2``) are DIFFERENT, and so are the same numbers in different scales
  (``42 m^2`` != ``42 cm^2``, ``\\$3.8`` != ``3.8 cents``);
- a unit pint does not know (``apples``, ``students``) says nothing, as on one side.

The reference's unit is its own, else ``options.unit`` (OlympiadBench's separate unit column). Angles
(degrees vs radians) are the degree field's business (`scalars.compare`), not this module's.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Literal

from rlvr_eval.verifier.answer import Answer, Expression, Number, Scalar
from rlvr_eval.verifier.schema import EquivalenceOptions
from rlvr_eval.verifier.units import conversion, fraction_latex

__all__ = ["CONVERSION_REL_TOL", "converted_options", "in_reference_unit", "unit_factor"]

#: pint's factors are floats (eV to J): agreement to this relative precision is the same quantity.
CONVERSION_REL_TOL = 1e-9


def unit_factor(answer: Answer, reference: Answer, options: EquivalenceOptions) -> Fraction | Literal[False]:
    """How many reference units one answer unit is; 1 when the units say nothing, False for units of
    different kinds (see the module doc)."""
    target = reference.unit or options.unit
    if answer.unit is None or target is None or answer.unit == target:
        return Fraction(1)
    factor = conversion(answer.unit, target)
    return Fraction(1) if factor is None else factor


def in_reference_unit(value: Scalar, factor: Fraction) -> Scalar:
    """The answer's value times the unit factor (exact for literals, a product otherwise)."""
    if isinstance(value, Number):
        scaled = value.value * factor
        return Number(fraction_latex(scaled), scaled)
    return Expression(f"({value.text})\\cdot{fraction_latex(factor)}")


@lru_cache(maxsize=64)
def converted_options(options: EquivalenceOptions) -> EquivalenceOptions:
    """Options for a converted value: float noise in the factor is no difference."""
    if options.rel_tol is not None and options.rel_tol >= CONVERSION_REL_TOL:
        return options
    return options.model_copy(update={"rel_tol": CONVERSION_REL_TOL})
