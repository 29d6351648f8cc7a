"""The content layer on answer *texts*: parse both, then compare (the parsed pipeline's text front door).

`verify` parses each answer once and calls `compare.fast_compare` / `compare.symbolic_compare` itself;
these helpers are for callers (and tests) holding two strings, e.g. `is_equivalent`.

Decisions worth knowing (the rules live in `compare/`, one module per kind of answer):
- Exact rational arithmetic. A decimal reference is exact too (ref 4.5 rejects 4.54) unless it is a
  rounded value: options.rounded_reference (the question asks to round or estimate, the task's references
  are rounded) or an irrational answer (``\\pi`` vs 3.14). Then the answer must agree to the reference's
  shown precision, capped at 2% of its value (ref 12.7 accepts 12.68, rejects 12.8; ref 0.5 rejects
  0.54). A reference like ``27.0`` (AMC floats) is the integer 27, exactly.
- A decimal answer against an exact reference must be exactly equal (0.5 = 1/2, but 0.333 != 1/3) unless
  options.rel_tol is set; rel_tol never applies between two integers (10001 != 10000).
- A percent sign matches the bare number (37.5% vs 37.5) or its value when that is a proportion (25% vs
  0.25); 3750% vs 37.5 is DIFFERENT; without a % anywhere, no x100.
- ``(1,2)`` vs ``[1,2]`` differ: brackets must match, except a bracket next to an infinity.
- Sets and bare comma lists are order-free multisets; tuples, pairs, intervals and matrices are ordered.
  With options.multiple_answers every reference answer must appear (a subset is DIFFERENT).
- Variables are real (``|t|`` != ``t``) and compared as functions (``2x`` != ``2y``), except bound
  names: ``f(x)=2x`` vs ``f(t)=2t`` and a solution family's integer parameter (``k\\pi`` vs ``n\\pi``).
- A unit on one side only is dropped (``\\text{cm}``, ``cm`` after a value, options.unit); units on both
  sides are compared in the reference's unit (``42 m^2`` != ``42 cm^2``, ``240 minutes`` = ``4 hours``;
  `compare/quantities.py`); degrees meet radians as angles (``120^\\circ`` = ``\\frac{2\\pi}{3}``); an
  empty answer equals nothing.
"""

from __future__ import annotations

from rlvr_eval.verifier import compare as content
from rlvr_eval.verifier.parse import parse
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

__all__ = ["compare", "fast_compare", "symbolic_compare"]


def _status(verdict: bool | None) -> ContentStatus | None:
    return None if verdict is None else ContentStatus.EQUAL if verdict else ContentStatus.DIFFERENT


def fast_compare(
    answer: str, reference: str, options: EquivalenceOptions | None = None
) -> ContentStatus | None:
    """Bounded in-process verdict: EQUAL / DIFFERENT when sure, None when the symbolic path must decide."""
    options = options or EquivalenceOptions()
    return _status(content.fast_compare(parse(answer, options), parse(reference, options), options))


def symbolic_compare(answer: str, reference: str, options: EquivalenceOptions | None = None) -> ContentStatus:
    """Complete (possibly slow) verdict with sympy; call it only inside the sandbox."""
    options = options or EquivalenceOptions()
    return content.symbolic_compare(parse(answer, options), parse(reference, options), options)


def compare(answer: str, reference: str, options: EquivalenceOptions | None = None) -> ContentStatus:
    """Fast path, then symbolic; unguarded (for worker processes and tests)."""
    options = options or EquivalenceOptions()
    fast = fast_compare(answer, reference, options)
    return fast if fast is not None else symbolic_compare(answer, reference, options)
