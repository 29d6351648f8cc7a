"""Hypothesis properties of the parsed content layer: every spelling of a value is accepted, every
perturbation of it rejected.

Spellings: TeX shorthand (``\\frac38``, ``\\sqrt7``), unicode (``−``, ``≤``, ``∞``, ``∪``), labels
(``x =``, ``(x, y) =``), units and approximation tails, inequalities, chains, set-builder notation and
``x \\in`` against intervals, degrees against radians. Structures: names bind values, an interval is
not the list of its endpoints, variables are real under floor and ceiling, ``|ax + b| < c`` and
``\\mathbb{R} \\setminus \\{...\\}`` are their intervals, odd roots of negative numbers are real.
Each case is checked on the full comparison (`compare`) and, when it decides, on the in-process fast
path too (they must agree).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier.equivalence import compare, fast_compare
from rlvr_eval.verifier.schema import ContentStatus, EquivalenceOptions

EQ, NE = ContentStatus.EQUAL, ContentStatus.DIFFERENT
OPTS = EquivalenceOptions()
SETTINGS = settings(max_examples=80, deadline=None)

small = st.integers(min_value=-60, max_value=60)
digits = st.integers(min_value=1, max_value=9)


def _assert(answer: str, reference: str, expected: ContentStatus, opts: EquivalenceOptions = OPTS) -> None:
    fast = fast_compare(answer, reference, opts)
    assert fast in (None, expected), f"fast path: {answer!r} vs {reference!r} -> {fast}"
    got = compare(answer, reference, opts)
    assert got is expected, f"{answer!r} vs {reference!r} -> {got}"


def _unicode(text: str) -> str:
    return (text.replace("\\leq", "≤").replace("\\geq", "≥").replace("\\infty", "∞").replace("\\cup", "∪")
            .replace("-", "−"))


# --------------------------------------------------------------------------- numbers


def _fraction_spellings(n: int, d: int) -> list[str]:
    """Ways to write n/d (d > 0, n/d in lowest terms or not), shorthand included where it is valid."""
    sign, a = ("-" if n < 0 else ""), abs(n)
    out = [f"{sign}\\frac{{{a}}}{{{d}}}", f"{sign}\\dfrac{{{a}}}{{{d}}}", f"{sign}\\tfrac{{{a}}}{{{d}}}",
           f"{sign}\\cfrac{{{a}}}{{{d}}}", f"{n}/{d}", f"{sign}{a}/{d}".replace("-", "−")]
    if a < 10 and d < 10:
        out += [f"{sign}\\frac{a}{d}", f"{sign}\\dfrac{a}{d}"]
    if a < 10:
        out.append(f"{sign}\\frac{a}{{{d}}}")
    if d < 10:
        out.append(f"{sign}\\frac{{{a}}}{d}")
    return out


def _dressed(text: str, variant: int) -> str:
    """A value with what people write around it: a label, a unit, an approximation tail, a box."""
    return [
        text,
        f"x = {text}",
        f"k = {text}",
        f"{text} \\text{{ cm}}",
        f"{text} \\ \\mathrm{{kg}}",
        f"{text} meters",
        f"\\boxed{{{text}}}",
        f"$y = {text}$",
    ][variant]


@SETTINGS
@given(st.integers(-400, 400), st.integers(1, 40), st.data(), st.integers(0, 7))
def test_fraction_spellings_accepted(n: int, d: int, data: st.DataObject, variant: int) -> None:
    assume(n % d != 0)
    q = Fraction(n, d)
    spelling = data.draw(st.sampled_from(_fraction_spellings(n, d)))
    reference = f"\\frac{{{q.numerator}}}{{{q.denominator}}}"
    _assert(_dressed(spelling, variant), reference, EQ)


@SETTINGS
@given(st.integers(-400, 400), st.integers(2, 40), st.data(), st.sampled_from([1, -1, 2]))
def test_fraction_perturbations_rejected(n: int, d: int, data: st.DataObject, delta: int) -> None:
    q = Fraction(n, d)
    wrong = data.draw(st.sampled_from(_fraction_spellings(n + delta, d)))
    _assert(wrong, f"\\frac{{{q.numerator}}}{{{q.denominator}}}", NE)
    reference = f"\\frac{{{q.numerator}}}{{{q.denominator}}}"
    if abs(q) != 1 and q != 0:
        _assert(f"\\frac{{{q.denominator}}}{{{q.numerator}}}", reference, NE)  # the reciprocal


@SETTINGS
@given(st.integers(1, 40), st.sampled_from([2, 3, 5, 6, 7]), st.integers(0, 3))
def test_radical_shorthand_and_approximation_tail(k: int, n: int, variant: int) -> None:
    exact = f"{k}\\sqrt{{{n}}}"
    approx = f"{k * n ** 0.5:.3f}"
    spelled = [f"{k}\\sqrt{n}", f"{exact} \\approx {approx}", f"\\sqrt{{{k * k * n}}}",
               f"{exact}\\text{{ m}}^2"]
    _assert(spelled[variant], exact, EQ)
    _assert(exact, f"{exact} \\approx {approx}", EQ)  # the tail in the reference
    _assert(f"{k + 1}\\sqrt{n} \\approx {approx}", exact, NE)  # a right-looking tail saves no wrong value


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 3), st.integers(2, 9))
def test_mixed_numbers(whole: int, num: int, den: int) -> None:
    assume(num < den)
    value = whole + Fraction(num, den)
    reference = f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    _assert(f"{whole} {num}/{den}", reference, EQ)
    _assert(f"{whole}\\frac{{{num}}}{{{den}}}", reference, EQ)
    _assert(f"{whole + 1} {num}/{den}", reference, NE)


# --------------------------------------------------------------------------- intervals and inequalities


def _interval_spellings(a: int, b: int, left: str, right: str) -> list[str]:
    lo_op = "<" if left == "(" else "\\leq"
    hi_op = "<" if right == ")" else "\\leq"
    flip_hi = ">" if right == ")" else "\\geq"
    flip_lo = ">" if left == "(" else "\\geq"
    return [
        f"{left}{a}, {b}{right}",
        f"\\left{left} {a}, {b} \\right{right}",
        f"{a} {lo_op} x {hi_op} {b}",
        f"{b} {flip_hi} x {flip_lo} {a}",
        f"\\{{x \\mid {a} {lo_op} x {hi_op} {b}\\}}",
        f"\\{{t : {a} {lo_op} t {hi_op} {b}\\}}",
        f"x \\in {left}{a}, {b}{right}",
        f"x {flip_lo} {a} \\text{{ and }} x {hi_op} {b}",
    ]


@SETTINGS
@given(small, st.integers(1, 50), st.sampled_from("(["), st.sampled_from(")]"), st.data(), st.booleans())
def test_interval_spellings_accepted(a: int, width: int, left: str, right: str, data: st.DataObject,
                                     uni: bool) -> None:
    b = a + width
    spelling = data.draw(st.sampled_from(_interval_spellings(a, b, left, right)))
    reference = f"{left}{a},{b}{right}"
    assume((left, right) not in (("(", ")"), ("[", "]")) or not spelling.startswith(("(", "[", "\\left")))
    _assert(_unicode(spelling) if uni else spelling, reference, EQ)


@SETTINGS
@given(small, st.integers(1, 50), st.sampled_from("(["), st.sampled_from(")]"), st.data(),
       st.sampled_from(["lo", "hi", "left", "right"]))
def test_interval_perturbations_rejected(a: int, width: int, left: str, right: str, data: st.DataObject,
                                         what: str) -> None:
    b = a + width
    reference = f"{left}{a},{b}{right}"
    if what == "lo":
        a -= 1
    elif what == "hi":
        b += 1
    elif what == "left":
        left = "[" if left == "(" else "("
    else:
        right = "]" if right == ")" else ")"
    spellings = [s for s in _interval_spellings(a, b, left, right)
                 if not s.startswith(("(", "[", "\\left"))]  # a swapped bracket of a pair is a tuple
    _assert(data.draw(st.sampled_from(spellings)), reference, NE)


@SETTINGS
@given(small, st.integers(1, 40), st.booleans(), st.booleans())
def test_unions_and_rays(a: int, width: int, strict: bool, uni: bool) -> None:
    b = a + width
    lo, hi = ("<", ">") if strict else ("\\leq", "\\geq")
    lb, rb = (")", "(") if strict else ("]", "[")
    union = f"(-\\infty, {a}{lb} \\cup {rb}{b}, \\infty)"
    spelled = f"x {lo} {a} \\text{{ or }} x {hi} {b}"
    _assert(_unicode(spelled) if uni else spelled, union, EQ)
    _assert(union, spelled, EQ)
    _assert(f"x {hi} {a}", f"{rb}{a}, \\infty)", EQ)  # a ray
    _assert(f"{a} {lo.replace('<', '>').replace('leq', 'geq')} x", f"(-\\infty, {a}{lb}", EQ)  # flipped
    _assert(f"x {lo} {a} \\text{{ or }} x {hi} {b + 1}", union, NE)
    _assert(f"x {hi} {a} \\text{{ or }} x {lo} {b}", union, NE)  # the complement's shape


@SETTINGS
@given(small)
def test_all_reals_but_one(c: int) -> None:
    _assert(f"x \\neq {c}", f"(-\\infty, {c}) \\cup ({c}, \\infty)", EQ)
    _assert(f"x \\neq {c + 1}", f"(-\\infty, {c}) \\cup ({c}, \\infty)", NE)


# --------------------------------------------------------------------------- labels, tuples, lists


@SETTINGS
@given(small, small, st.integers(0, 4))
def test_labelled_pairs(a: int, b: int, variant: int) -> None:
    reference = f"({a}, {b})"
    spelled = [f"(x, y) = ({a}, {b})", f"x = {a}, y = {b}", f"(u,v)=({a},{b})", f"\\left( {a}, {b} \\right)",
               f"a = {a} \\text{{ and }} b = {b}"][variant]
    _assert(spelled, reference, EQ)
    if a != b:
        swapped = spelled.replace(str(a), "A").replace(str(b), str(a)).replace("A", str(b)) if variant != 1 \
            else f"x = {b}, y = {a}"
        _assert(swapped, reference, NE)


@SETTINGS
@given(st.lists(small, min_size=2, max_size=4, unique=True), st.randoms(use_true_random=False), st.booleans())
def test_labelled_solution_lists(values: list[int], rnd, words: bool) -> None:
    shuffled = values[:]
    rnd.shuffle(shuffled)
    reference = ", ".join(map(str, values))
    parts = [f"x = {v}" for v in shuffled]
    spelled = ", ".join(parts[:-1]) + (", \\text{ and } " if words else " \\text{ or } ") + parts[-1]
    _assert(spelled, reference, EQ)
    _assert(", ".join(parts[:-1]), reference, NE)  # one solution missing


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 30))
def test_plus_minus(a: int, b: int) -> None:
    assume(a != b)
    _assert(f"\\pm {a}, \\pm {b}", f"{a}, -{a}, {b}, -{b}", EQ)
    _assert(f"x = \\pm {a}", f"{a}, -{a}", EQ)
    _assert(f"\\pm {a}", f"{a}, {b}", NE)


# --------------------------------------------------------------------------- angles


@SETTINGS
@given(st.integers(1, 24), st.sampled_from(["^\\circ", "^{\\circ}", "°", " degrees"]))
def test_degrees_meet_radians(k: int, sign: str) -> None:
    degrees = 15 * k
    q = Fraction(degrees, 180)
    radians = f"{q.numerator}\\pi"
    if q.denominator != 1:
        radians = f"\\frac{{{q.numerator}\\pi}}{{{q.denominator}}}"
    _assert(f"{degrees}{sign}", radians, EQ)
    _assert(radians, f"{degrees}^\\circ", EQ)
    _assert(f"{degrees + 15}{sign}", radians, NE)
    _assert(f"{degrees}{sign}", str(degrees), EQ)  # degrees against a plain number: the number
    _assert(str(degrees), radians, NE)  # no degree sign: 120 is not 2 pi / 3


# --------------------------------------------------------------------------- false positives


@SETTINGS
@given(st.sampled_from(["t", "x", "a", "n"]), st.integers(1, 5))
def test_variables_are_real_not_positive(v: str, k: int) -> None:
    _assert(f"|{k}{v}|", f"{k}{v}", NE)
    _assert(f"\\sqrt{{{k * k}{v}^2}}", f"{k}{v}", NE)
    _assert(f"\\sqrt{{{k * k}{v}^2}}", f"{k}|{v}|" if k > 1 else f"|{v}|", EQ)


# --------------------------------------------------------------------------- structures
# names bind values, an interval is not its endpoints, variables are real under floor and ceiling,
# |ax + b| inequalities and the real line minus points are their intervals, odd roots are real

# names that are never constants (e, i) nor integer-named (k, m, n, j, l), so they are plain reals
real_names = st.sampled_from(list("abcdpqrstuvwxyz"))
nonzero = st.integers(min_value=-9, max_value=9).filter(bool)


def _frac(q: Fraction) -> str:
    sign, p, d = ("-" if q < 0 else ""), abs(q.numerator), q.denominator
    return f"{sign}{p}" if d == 1 else f"{sign}\\frac{{{p}}}{{{d}}}"


# --------------------------------------------------------------------------- names bind values


@SETTINGS
@given(
    st.lists(real_names, min_size=2, max_size=4, unique=True),
    st.lists(small, min_size=4, max_size=4, unique=True),
    st.randoms(use_true_random=False),
)
def test_names_bind_values(names: list[str], values: list[int], rnd) -> None:
    """``(a, b) = (1, 2)`` is met by its names in any order, never by the values moved between names."""
    values = values[: len(names)]
    reference = f"({', '.join(names)}) = ({', '.join(map(str, values))})"
    order = list(range(len(names)))
    rnd.shuffle(order)
    _assert(", ".join(f"{names[k]} = {values[k]}" for k in order), reference, EQ)
    tuple_in_order = f"({', '.join(names[k] for k in order)}) = ({', '.join(str(values[k]) for k in order)})"
    _assert(tuple_in_order, reference, EQ)
    moved = values[1:] + values[:1]  # every name gets another name's value
    _assert(", ".join(f"{names[k]} = {moved[k]}" for k in order), reference, NE)
    _assert(f"({', '.join(names)}) = ({', '.join(map(str, moved))})", reference, NE)


# --------------------------------------------------------------------------- intervals vs lists


_INTERVALS = ["[{a}, {b}]", "{x} \\in [{a}, {b}]", "{x} \\in ({a}, {b})", "{x} \\in [{a}, {b})"]


@SETTINGS
@given(small, st.integers(1, 50), real_names, st.sampled_from(_INTERVALS))
def test_interval_is_not_its_endpoints(a: int, width: int, x: str, spelling: str) -> None:
    b = a + width
    interval = spelling.format(a=a, b=b, x=x)
    for values in (f"{a}, {b}", f"{b}, {a}"):
        _assert(interval, values, NE)
        _assert(values, interval, NE)
    if spelling.startswith("{x}"):
        bare = spelling.split("\\in ")[1].format(a=a, b=b)
        _assert(interval, bare, EQ)  # membership is the interval itself


# --------------------------------------------------------------------------- variables are real


@SETTINGS
@given(real_names, nonzero, st.integers(2, 7), small, st.sampled_from(["lfloor", "lceil"]))
def test_floor_of_a_real_variable_is_not_the_variable(x: str, p: int, q: int, c: int, kind: str) -> None:
    """``\\lfloor (p/q) x + c \\rfloor`` differs from its argument: x is real, not an integer."""
    assume(p % q != 0)
    close = "rfloor" if kind == "lfloor" else "rceil"
    argument = f"\\frac{{{p}}}{{{q}}}{x} + {c}"
    _assert(f"\\{kind} {argument} \\{close}", argument, NE)
    _assert(f"{x} - \\{kind} {x} \\{close}", "0", NE)
    _assert(f"\\{kind} {x} + {c} \\{close}", f"\\{kind} {x} \\{close} + {c}", EQ)  # true for every real x


@SETTINGS
@given(st.sampled_from(list("kmn")), st.integers(2, 6))
def test_integer_named_variables_keep_integer_identities(n: str, d: int) -> None:
    """``\\lfloor n/d \\rfloor + ... `` identities of integers still hold for k, m, n."""
    _assert(f"\\lceil \\frac{{{n}}}{{{d}}} \\rceil", f"\\lfloor \\frac{{{n} + {d - 1}}}{{{d}}} \\rfloor", EQ)


# --------------------------------------------------------------------------- sets of reals


@SETTINGS
@given(real_names, nonzero, small, st.integers(1, 30), st.sampled_from(["<", "\\le", ">", "\\ge"]))
def test_absolute_inequality_is_its_interval(x: str, s: int, c: int, r: int, op: str) -> None:
    """``|s x - s c| < |s| r`` is (c - r, c + r); ``>`` the rays outside; a moved end is another set."""
    relation = f"|{s}{x} + {-s * c}| {op} {abs(s) * r}"
    lo, hi = c - r, c + r
    closed = op in ("\\le", "\\ge")
    if op in ("<", "\\le"):
        expected = f"{'[' if closed else '('}{lo}, {hi}{']' if closed else ')'}"
        moved = f"{'[' if closed else '('}{lo}, {hi + 1}{']' if closed else ')'}"
    else:
        expected = f"(-\\infty, {lo}{']' if closed else ')'} \\cup {'[' if closed else '('}{hi}, \\infty)"
        moved = f"(-\\infty, {lo - 1}{']' if closed else ')'} \\cup {'[' if closed else '('}{hi}, \\infty)"
    _assert(relation, expected, EQ)
    _assert(relation, moved, NE)


@SETTINGS
@given(st.lists(st.fractions(-20, 20, max_denominator=6), min_size=1, max_size=3, unique=True))
def test_reals_minus_points(points: list[Fraction]) -> None:
    ends = ["-\\infty", *(_frac(p) for p in sorted(points)), "\\infty"]
    union = " \\cup ".join(f"({a}, {b})" for a, b in pairwise(ends))
    answer = f"\\mathbb{{R}} \\setminus \\{{{', '.join(_frac(p) for p in points)}\\}}"
    _assert(answer, union, EQ)
    _assert(answer, "(-\\infty, \\infty)", NE)


# --------------------------------------------------------------------------- real roots


@SETTINGS
@given(st.integers(1, 30), st.sampled_from([3, 5]), st.integers(2, 7))
def test_odd_roots_of_negative_numbers_are_real(n: int, k: int, c: int) -> None:
    _assert(f"\\sqrt[{k}]{{-{n**k}}}", f"-{n}", EQ)
    _assert(f"\\sqrt[{k}]{{-{n**k}}}", f"{n}", NE)
    _assert(f"\\sqrt[{k}]{{-{c}}}", f"-\\sqrt[{k}]{{{c}}}", EQ)
