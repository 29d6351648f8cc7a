"""Exact, bounded numbers for the fast path.

A value is a finite sum ``sum_k q_k * sqrt(r_k) * pi^e_k`` with rational ``q_k``, square-free ``r_k``
and small integer ``e_k``. These basis terms are linearly independent over the rationals (square roots of
distinct square-free integers are, and pi is transcendental), so two values are equal exactly when their
coefficient maps are equal: the fast path can say DIFFERENT as surely as EQUAL, with no float rounding.

Every operation checks sizes and raises `Refuse` instead of doing unbounded work; the caller then leaves
the pair to the symbolic path, which runs in a killable sandbox.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

MAX_BITS = 40_000  # about 12,000 decimal digits: enough for 2006! yet microseconds to multiply
MAX_EXPONENT = 256
MAX_FACTORIAL = 3000
MAX_RADICAND = 10**9  # trial division up to sqrt(1e9) ~ 31623 steps at worst, only for odd leftovers
MAX_TERMS = 16
MAX_SUM_EXPONENT = 32

Key = tuple[int, int]  # (square-free radicand, power of pi)


class Refuse(Exception):
    """The fast path will not decide this input (too big, or outside what it models)."""


class OutsideDomain(Refuse):
    """The value is not a real number here (square root or logarithm of a negative number).

    At a sample point with negative variables this is no verdict: the point is skipped, and the
    symbolic path (complex arithmetic) decides whether the two sides differ there.
    """


def _check(q: Fraction) -> Fraction:
    if q.numerator.bit_length() > MAX_BITS or q.denominator.bit_length() > MAX_BITS:
        raise Refuse("number too large for the fast path")
    return q


def _square_free(n: int) -> tuple[int, int]:
    """Return (s, r) with n = s^2 * r and r square-free; refuses radicands too large to factor fast."""
    if n < 0:
        raise OutsideDomain("square root of a negative number")
    if n == 0:
        return 0, 1
    root = math.isqrt(n)
    if root * root == n:
        return root, 1
    if n > MAX_RADICAND:
        raise Refuse("radicand too large")
    s, r, p = 1, n, 2
    while p * p <= r:
        while r % (p * p) == 0:
            r //= p * p
            s *= p
        p += 1 if p == 2 else 2
    return s, r


@dataclass(frozen=True)
class Value:
    """An exact number ``sum q * sqrt(r) * pi^e``; ``terms`` maps (r, e) to a non-zero q."""

    terms: tuple[tuple[Key, Fraction], ...]

    @staticmethod
    def of(q: Fraction | int) -> Value:
        q = _check(Fraction(q))
        return Value((((1, 0), q),) if q else ())

    @staticmethod
    def _make(d: dict[Key, Fraction]) -> Value:
        items = tuple(sorted((k, v) for k, v in d.items() if v))
        if len(items) > MAX_TERMS:
            raise Refuse("too many terms")
        return Value(items)

    def rational(self) -> Fraction | None:
        """The value as a Fraction if it is rational, else None."""
        if not self.terms:
            return Fraction(0)
        if len(self.terms) == 1 and self.terms[0][0] == (1, 0):
            return self.terms[0][1]
        return None

    def is_zero(self) -> bool:
        return not self.terms

    def __add__(self, other: Value) -> Value:
        d = dict(self.terms)
        for k, v in other.terms:
            d[k] = _check(d.get(k, Fraction(0)) + v)
        return Value._make(d)

    def __neg__(self) -> Value:
        return Value(tuple((k, -v) for k, v in self.terms))

    def __sub__(self, other: Value) -> Value:
        return self + (-other)

    def __mul__(self, other: Value) -> Value:
        d: dict[Key, Fraction] = {}
        for (r1, e1), q1 in self.terms:
            for (r2, e2), q2 in other.terms:
                g = math.gcd(r1, r2)
                # sqrt(r1) * sqrt(r2) = g * sqrt(r1 r2 / g^2); r1 r2 / g^2 stays square-free
                key = (r1 // g * (r2 // g), e1 + e2)
                if abs(key[1]) > MAX_EXPONENT:
                    raise Refuse("power of pi too large")
                d[key] = _check(d.get(key, Fraction(0)) + q1 * q2 * g)
        return Value._make(d)

    def inverse(self) -> Value:
        if not self.terms:
            raise Refuse("division by zero")
        if len(self.terms) == 1:
            (r, e), q = self.terms[0]
            # 1 / (q sqrt(r) pi^e) = sqrt(r) / (q r) * pi^-e
            return Value((((r, -e), _check(1 / (q * r))),))
        # a + b sqrt(r) with rational a, b: multiply by the conjugate (covers 1/(1+sqrt 2) and friends)
        keys = [k for k, _ in self.terms]
        if len(keys) == 2 and keys[0] == (1, 0) and keys[1][1] == 0:
            a, b, r = self.terms[0][1], self.terms[1][1], keys[1][0]
            norm = _check(a * a - b * b * r)
            return Value._make({(1, 0): a / norm, (r, 0): -b / norm})
        raise Refuse("division by a sum the fast path does not rationalize")

    def __truediv__(self, other: Value) -> Value:
        return self * other.inverse()

    def power(self, exponent: Value) -> Value:
        n = exponent.rational()
        if n is None:
            raise Refuse("irrational exponent")
        if n.denominator == 1:
            k = n.numerator
            if abs(k) > MAX_EXPONENT:
                raise Refuse("exponent too large")
            base = self if k >= 0 else self.inverse()
            q = base.rational()
            if q is not None:
                # bound the result size before computing it
                if max(q.numerator.bit_length(), q.denominator.bit_length()) * abs(k) > MAX_BITS:
                    raise Refuse("power too large")
                return Value.of(q ** abs(k))
            if abs(k) > MAX_SUM_EXPONENT:
                raise Refuse("power of a sum too large")  # repeated multi-term products grow fast
            result = Value.of(1)
            for _ in range(abs(k)):
                result = result * base
            return result
        if n.denominator == 2:
            return self.power(Value.of(n.numerator)).sqrt()
        root = self.rational()
        if root is not None and n.denominator <= 12:
            return Value.of(_exact_root(root, n.denominator)).power(Value.of(n.numerator))
        raise Refuse("fractional exponent")

    def sqrt(self) -> Value:
        q = self.rational()
        if q is None:
            if len(self.terms) == 1 and self.terms[0][0][0] == 1 and self.terms[0][0][1] % 2 == 0:
                (_, e), c = self.terms[0]  # sqrt(c pi^(2m)) = sqrt(c) pi^m
                return Value.of(c).sqrt() * Value((((1, e // 2), Fraction(1)),))
            raise Refuse("square root of an irrational value")
        if q < 0:
            raise OutsideDomain("square root of a negative number")
        # sqrt(p/d) = sqrt(p d) / d
        s, r = _square_free(q.numerator * q.denominator)
        return Value._make({(r, 0): Fraction(s, q.denominator)})

    def root(self, n: int) -> Value:
        if n == 2:
            return self.sqrt()
        q = self.rational()
        if q is None or n <= 0 or n > 12:
            raise Refuse("unsupported root")
        return Value.of(_exact_root(q, n))

    def absolute(self) -> Value:
        """|v|: exact for rationals; otherwise by the sign of its float value when that is clear."""
        q = self.rational()
        if q is not None:
            return Value.of(abs(q))
        f = self.to_float()
        scale = sum(abs(float(c)) * math.sqrt(r) * math.pi**e for (r, e), c in self.terms)
        if abs(f) <= 1e-9 * scale:
            raise Refuse("sign too close to call")
        return self if f > 0 else -self

    def to_float(self) -> float:
        total = 0.0
        try:
            for (r, e), q in self.terms:
                total += float(q) * math.sqrt(r) * math.pi**e
        except OverflowError as exc:
            raise Refuse("value outside float range") from exc
        return total


def _exact_root(q: Fraction, n: int) -> Fraction:
    """The exact rational n-th root of q, or Refuse when it is irrational."""
    if q < 0:
        if n % 2 == 0:
            raise OutsideDomain("even root of a negative number")
        return -_exact_root(-q, n)
    out = []
    for part in (q.numerator, q.denominator):
        guess = round(part ** (1.0 / n)) if part.bit_length() < 1000 else None
        if guess is None:
            raise Refuse("root argument too large")
        for cand in (guess - 1, guess, guess + 1):
            if cand >= 0 and cand**n == part:
                out.append(cand)
                break
        else:
            raise Refuse("irrational root")
    return Fraction(out[0], out[1])


def factorial(v: Value) -> Value:
    q = v.rational()
    if q is None or q.denominator != 1 or q < 0:
        raise Refuse("factorial of a non-natural number")
    if q > MAX_FACTORIAL:
        raise Refuse("factorial too large")
    return Value.of(math.factorial(int(q)))


INTEGER_RE = re.compile(r"^[+-]?\d+$")

def binomial(n: Value, k: Value) -> Value:
    nq, kq = n.rational(), k.rational()
    if nq is None or kq is None or nq.denominator != 1 or kq.denominator != 1 or not 0 <= nq <= MAX_FACTORIAL:
        raise Refuse("binomial of non-natural or large arguments")
    return Value.of(math.comb(int(nq), int(kq)) if kq >= 0 else 0)


def exact_log(x: Value, base: Value | None) -> Value:
    """log_base(x) when it is rational (log_2 32 = 5, log_4 8 = 3/2, ln 1 = 0); base None means e."""
    xq = x.rational()
    if xq is not None and xq <= 0:
        raise OutsideDomain("log of a non-positive value")
    if xq is None:
        raise Refuse("log of an irrational value")
    if base is None:
        if xq == 1:
            return Value.of(0)
        raise Refuse("natural log of a rational other than 1")
    bq = base.rational()
    if bq is None or bq <= 0 or bq == 1:
        raise Refuse("log base")
    try:
        t = math.log(xq) / math.log(bq)  # Fraction -> float may overflow for huge values
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise Refuse("log out of float range") from exc
    guess = Fraction(t).limit_denominator(12)
    p, q = guess.numerator, guess.denominator
    size = max(xq.numerator.bit_length(), xq.denominator.bit_length()) * q
    if size > MAX_BITS or abs(p) > MAX_EXPONENT:
        raise Refuse("log too large to verify")
    # exact check: x^q == base^p
    if xq**q != (bq**p if p >= 0 else 1 / bq**-p):
        raise Refuse("irrational logarithm")
    return Value.of(guess)


# A reference written as one decimal literal: its shown precision is the tolerance.
_DECIMAL_RE = re.compile(
    r"^[+-]?(?P<int>\d*)\.(?P<frac>\d+)(?:(?:\\times|\\cdot|\*|x)10\^\{?(?P<exp>[+-]?\d+)\}?|[eE](?P<exp2>[+-]?\d+))?"
    r"(?P<pct>%)?$"
)


#: The shown-precision tolerance never exceeds this share of the reference's value. Half a unit in the
#: last place is tiny for 12.7 (0.4%) but huge for one-digit references: without the cap ref 0.5 would
#: accept 0.54 (8% off), a wrong answer whenever 0.5 is exact, as such references usually are.
SHOWN_PRECISION_MAX_REL = Fraction(2, 100)


def decimal_half_ulp(text: str) -> Fraction | None:
    """Tolerance of a decimal-literal reference: half a unit in its last shown place (12.7 -> 0.05),
    capped at `SHOWN_PRECISION_MAX_REL` of its value (0.5 -> 0.01); None for anything else.

    A decimal whose fractional digits are all zero (``27.0``, as AMC answers are stored) is an exact
    integer, so it gets no tolerance.
    """
    m = _DECIMAL_RE.match(text)
    if not m or not m.group("frac").strip("0"):
        return None
    exp = int(m.group("exp") or m.group("exp2") or 0)
    if m.group("pct"):
        exp -= 2
    if abs(exp) > 400:
        return None
    scale = Fraction(10) ** exp
    half_ulp = Fraction(1, 2) * scale / 10 ** len(m.group("frac"))
    value = Fraction(f"{m.group('int') or 0}.{m.group('frac')}") * scale
    return min(half_ulp, SHOWN_PRECISION_MAX_REL * value)


def close_enough(
    answer: Value, reference: Value, abs_tol: Fraction | None, rel_tol: float | None, integers: bool = False
) -> bool:
    """Exact equality, or within the reference's shown precision / an explicit relative tolerance.

    `integers` says both sides were written as integer literals: then rel_tol does not apply.
    """
    if integers:
        rel_tol = None
    if answer == reference:
        return True
    if abs_tol is None and rel_tol is None:
        return False
    a_q, r_q = answer.rational(), reference.rational()
    if a_q is not None and r_q is not None:
        diff = abs(a_q - r_q)
        if abs_tol is not None and diff <= abs_tol:
            return True
        if rel_tol is not None:
            return diff <= Fraction(rel_tol) * abs(r_q)
        return False
    a_f, r_f = answer.to_float(), reference.to_float()
    if not (math.isfinite(a_f) and math.isfinite(r_f)):
        raise Refuse("value outside float range")
    diff_f = abs(a_f - r_f)
    if abs_tol is not None and diff_f <= float(abs_tol) * (1 + 1e-9):
        return True
    return rel_tol is not None and diff_f <= rel_tol * abs(r_f)
