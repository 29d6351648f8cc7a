"""High-precision numeric evidence of *difference* for the fast path.

When exact evaluation refuses (cube roots, e, i, sin, log...), the same parse tree is evaluated with mpmath
at two precisions. The fast path only ever concludes DIFFERENT from this, and only when both precisions
agree with each other (so the value is not rounding noise from cancellation) and the two sides differ by
far more than that noise. Equality of transcendental expressions is left to the symbolic path.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath

from rlvr_eval.verifier.latex_fast import Node, evaluate
from rlvr_eval.verifier.numbers import MAX_FACTORIAL, Refuse, Value

_MAX_LOG2 = 100_000  # refuse magnitudes beyond 2^(+-1e5): towers stay bounded
_PRECISIONS = (40, 70)
_STABLE = mpmath.mpf(10) ** -25  # a side must agree with itself across precisions to this
_APART = mpmath.mpf(10) ** -15  # two stable sides further apart than this (relative) are different

_FUNCS = {
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "sec": mpmath.sec, "csc": mpmath.csc,
    "cot": mpmath.cot, "arcsin": mpmath.asin, "arccos": mpmath.acos, "arctan": mpmath.atan,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh, "exp": mpmath.exp, "ln": mpmath.log,
}


def _check(x: Any) -> Any:
    if not mpmath.isfinite(x):
        raise Refuse("not finite")
    if x != 0 and abs(mpmath.mag(x)) > _MAX_LOG2:
        raise Refuse("magnitude out of range")
    return x


def _value_to_mp(v: Value) -> Any:
    total = mpmath.mpf(0)
    for (r, e), q in v.terms:
        total += mpmath.mpf(q.numerator) / q.denominator * mpmath.sqrt(r) * mpmath.pi**e
    return total


def mp_eval(node: Node, env: dict[str, Value]) -> Any:
    """mpmath value of `node` at the current mpmath precision; raises Refuse when out of bounds."""
    kind = node[0]
    if kind == "num":
        q: Fraction = node[1]
        return mpmath.mpf(q.numerator) / q.denominator
    if kind == "var":
        return _value_to_mp(env[node[1]])
    if kind == "pi":
        return +mpmath.pi
    if kind == "const":
        return mpmath.e if node[1] == "e" else mpmath.mpc(0, 1)
    if kind == "neg":
        return -mp_eval(node[1], env)
    if kind == "abs":
        return abs(mp_eval(node[1], env))
    if kind == "fact":
        n = mp_eval(node[1], env)
        if mpmath.im(n) != 0 or n != int(n) or not 0 <= n <= MAX_FACTORIAL:
            raise Refuse("factorial argument")
        return mpmath.factorial(int(n))
    if kind == "root":
        x = mp_eval(node[1], env)
        if mpmath.im(x) == 0 and x < 0 and node[2] % 2:  # odd roots of negative numbers are real
            return _check(-mpmath.root(-x, node[2]))
        return _check(mpmath.power(x, mpmath.mpf(1) / node[2]))
    if kind in ("floor", "ceil"):
        x = mp_eval(node[1], env)
        if mpmath.im(x) != 0:
            raise Refuse("floor of a complex value")
        return mpmath.floor(x) if kind == "floor" else mpmath.ceil(x)
    if kind == "binom":
        return _check(mpmath.binomial(mp_eval(node[1], env), mp_eval(node[2], env)))
    if kind == "fn":
        arg = mp_eval(node[2], env)
        if node[1] == "log":
            base = mpmath.mpf(10) if node[3] is None else mp_eval(node[3], env)
            return _check(mpmath.log(arg) / mpmath.log(base))
        return _check(_FUNCS[node[1]](arg))
    a, b = mp_eval(node[1], env), mp_eval(node[2], env)
    if kind == "add":
        return _check(a + b)
    if kind == "sub":
        return _check(a - b)
    if kind == "mul":
        return _check(a * b)
    if kind == "div":
        if b == 0:
            raise Refuse("division by zero")
        return _check(a / b)
    if kind == "pow":
        if a == 0:
            return mpmath.mpf(0) if mpmath.re(b) > 0 else _raise("0 to a non-positive power")
        if abs(mpmath.re(b)) * max(1, abs(mpmath.mag(a))) > _MAX_LOG2:
            raise Refuse("power out of range")
        return _check(mpmath.power(a, b))
    raise Refuse(f"unknown node {kind}")


def _raise(msg: str) -> Any:
    raise Refuse(msg)


def _stable_value(node: Node, env: dict[str, Value]) -> Any:
    try:
        exact = evaluate(node, env)  # exact when possible: then a zero is a real zero
        with mpmath.workdps(_PRECISIONS[-1]):
            return _value_to_mp(exact)
    except (Refuse, ZeroDivisionError):
        pass
    values = []
    for dps in _PRECISIONS:
        with mpmath.workdps(dps):
            values.append(mp_eval(node, env))
    lo, hi = values
    scale = max(abs(lo), abs(hi))
    if scale != 0 and abs(hi - lo) > _STABLE * scale:
        raise Refuse("numerically unstable")
    if hi == 0:
        raise Refuse("zero may be cancellation")  # an exact 0 from rounding is no evidence
    return hi


def numerically_different(
    a: Node,
    r: Node,
    envs: list[dict[str, Value]],
    abs_tol: Fraction | None = None,
    rel_tol: float | None = None,
) -> bool | None:
    """True when the two trees surely differ at some sample point (beyond any tolerance); else None."""
    for env in envs:
        try:
            x, y = _stable_value(a, env), _stable_value(r, env)
        except (Refuse, ZeroDivisionError, ValueError, OverflowError, KeyError):
            continue
        with mpmath.workdps(_PRECISIONS[-1]):
            limit = _APART * max(abs(x), abs(y))
            if abs_tol is not None:
                limit = max(limit, mpmath.mpf(abs_tol.numerator) / abs_tol.denominator * (1 + _APART))
            if rel_tol is not None:
                limit = max(limit, rel_tol * abs(y) * (1 + _APART))
            if abs(x - y) > limit:
                return True
    return None


def numerically_within(a: Node, r: Node, abs_tol: Fraction | None, rel_tol: float | None) -> bool | None:
    """True when two constant trees agree within a tolerance by a clear margin (decimal references)."""
    try:
        x, y = _stable_value(a, {}), _stable_value(r, {})
    except (Refuse, ZeroDivisionError, ValueError, OverflowError, KeyError):
        return None
    with mpmath.workdps(_PRECISIONS[-1]):
        margin = 1 - mpmath.mpf(10) ** -12
        limits = []
        if abs_tol is not None:
            limits.append(mpmath.mpf(abs_tol.numerator) / abs_tol.denominator * margin)
        if rel_tol is not None:
            limits.append(rel_tol * abs(y) * margin)
        return True if limits and abs(x - y) <= max(limits) else None
