"""A tiny, safe LaTeX arithmetic parser for the fast path.

It understands numbers, ``+ - * / ^``, ``\\frac``, ``\\sqrt``, ``\\pi``, ``!``, ``%``, ``\\binom``,
``\\bmod``, floor/ceiling, parentheses and implicit multiplication, with single letters (and Greek letters,
subscripted names) as variables. It also reads ``e``, ``i`` and the usual functions (``\\sin``, ``\\ln``,
``\\log_b`` ...), which only the numeric evidence of `numeric.py` can evaluate. Anything else raises
`Refuse`, so the pair goes to the symbolic path. No `eval`: the text becomes a small tuple tree that
`evaluate` walks with exact `Value` arithmetic at chosen points.
"""

from __future__ import annotations

import hashlib
import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Union

from rlvr_eval.verifier.numbers import Refuse, Value, binomial, exact_log, factorial

Node = tuple  # ("num", Fraction) | ("var", name) | ("pi",) | (op, child, ...)
Env = dict[str, Value]

_TOKEN_RE = re.compile(
    r"(?P<num>\d+\.?\d*|\.\d+)"  # 1.5e3 became 1.5\times10^{3} in normalize; here e is Euler's e
    r"|(?P<cmd>\\[a-zA-Z]+|\\.)"
    r"|(?P<ch>[a-zA-Z])"
    r"|(?P<op>[-+*/^()\[\]{}!%_'|,=<>&.])"
    r"|(?P<space>\s+)"
)
_GREEK_NAMES = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho sigma "
    "tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Upsilon Phi Psi Omega"
)
GREEK = frozenset(_GREEK_NAMES.split())
_MUL_CMDS = frozenset({"\\cdot", "\\times", "\\ast"})
# letters that name constants in answers (e, i) or a differential (d) are not plain variables
_CONSTANT_LETTERS = frozenset("ei")
_FUNCTION_NAMES = "sin cos tan sec csc cot arcsin arccos arctan sinh cosh tanh ln log exp"
FUNCTIONS = frozenset(_FUNCTION_NAMES.split())
_ATOM_START = frozenset({"(", "\\frac", "\\sqrt", "\\pi", "\\lfloor", "\\lceil", "\\binom", "\\dbinom"})


@lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[str, ...]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise Refuse(f"unexpected character {text[pos]!r}")
        pos = m.end()
        if m.lastgroup != "space":
            out.append(m.group())
    return tuple(out)


class _Parser:
    """Recursive descent over tokens; builds a Node tree."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self.toks = list(tokens)
        self.i = 0
        self.variables: set[str] = set()

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise Refuse(f"expected {expected!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise Refuse(f"trailing token {self.peek()!r}")
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = ("add" if op == "+" else "sub", node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while True:
            tok = self.peek()
            if tok in ("*", "/", "\\div") or tok in _MUL_CMDS:
                self.take()
                node = ("div" if tok in ("/", "\\div") else "mul", node, self.unary())
            elif tok in ("\\bmod", "\\mod"):  # 17 \bmod 5: the residue, an operation like division
                self.take()
                node = ("mod", node, self.unary())
            elif tok is not None and self._starts_atom(tok):
                # "2 3" or "x2" are ambiguous (a lost separator, a subscript); "(n-2)2^n" is a product
                if (tok[0].isdigit() or tok[0] == ".") and self.toks[self.i - 1] != ")":
                    raise Refuse("number after an operand is ambiguous")
                node = ("mul", node, self.power())
            else:
                return node

    def _starts_atom(self, tok: str) -> bool:
        name = tok[1:]
        return tok in _ATOM_START or tok[0].isalnum() or tok[0] == "." or name in GREEK or name in FUNCTIONS

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.peek() == "^":
            self.take()
            exp = self.script()
            if self.peek() == "^":
                raise Refuse("ambiguous double exponent")
            base = ("pow", base, exp)
            while self.peek() in ("!",):
                self.take()
                base = ("fact", base)
        return base

    def script(self) -> Node:
        """The argument of ^ or a command: a braced group or a single character / atom."""
        tok = self.peek()
        if tok == "{":
            return self.group()
        if tok is not None and tok[0].isdigit():
            # x^23 in LaTeX is x^{2}3: split the digit run
            self.take()
            if len(tok) > 1:
                if not tok.isdigit():
                    raise Refuse("decimal in a script")
                self.toks.insert(self.i, tok[1:])
            return ("num", Fraction(int(tok[0])))
        if tok == "-":
            raise Refuse("unbraced negative exponent")
        return self.atom()

    def group(self) -> Node:
        self.take("{")
        node = self.expr()
        self.take("}")
        return node

    def postfix(self) -> Node:
        node = self.atom()
        while self.peek() in ("!", "%"):
            node = ("fact", node) if self.take() == "!" else ("div", node, ("num", Fraction(100)))
        return node

    def atom(self) -> Node:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            return ("num", _number(tok))
        if tok == "(":
            node = self.expr()
            self.take(")")
            return node
        if tok == "{":
            self.i -= 1
            return self.group()
        if tok == "|":  # |x|; "2|x|" (a product before a bar) stays refused: bars do not nest clearly
            node = self.expr()
            self.take("|")
            return ("abs", node)
        if tok == "\\frac":
            return ("div", self.script(), self.script())
        if tok == "\\sqrt":
            n = 2
            if self.peek() == "[":
                self.take()
                idx = self.take()
                self.take("]")
                if not idx.isdigit():
                    raise Refuse("non-numeric root index")
                n = int(idx)
            return ("root", self.script(), n)
        if tok == "\\pi":
            return ("pi",)
        if tok in ("\\lfloor", "\\lceil"):
            node = self.expr()
            self.take("\\rfloor" if tok == "\\lfloor" else "\\rceil")
            return ("floor" if tok == "\\lfloor" else "ceil", node)
        if tok in ("\\binom", "\\dbinom", "\\tbinom"):
            return ("binom", self.script(), self.script())
        if tok[1:] in FUNCTIONS:
            return self.function(tok[1:])
        if (len(tok) == 1 and tok.isalpha()) or tok[1:] in GREEK:
            if tok in _CONSTANT_LETTERS and self.peek() != "_":
                return ("const", tok)  # e and i, as latex2sympy reads them (numeric path only)
            name = tok
            if self.peek() == "_":
                self.take()
                sub = self.take()
                if sub == "{":
                    parts = []
                    while self.peek() not in ("}", None):
                        parts.append(self.take())
                    self.take("}")
                    sub = "".join(parts)
                if not sub.lstrip("\\").isalnum():  # x_1, a_{n}, m_{\max}
                    raise Refuse("complex subscript")
                name = f"{tok}_{sub}"
            # f(x) and x(y+1) look alike: refuse the usual function names applied to a parenthesis, and
            # any name applied to a single token, I(0) or v(t), which reads as a function value
            if self.peek() == "(" and (tok in ("f", "g", "h") or self.toks[self.i + 2 : self.i + 3] == [")"]):
                raise Refuse("function application")
            self.variables.add(name)
            return ("var", name)
        raise Refuse(f"unsupported token {tok!r}")


    def function(self, name: str) -> Node:
        """\\sin x, \\sin(2x), \\sin^2 x, \\log_2 8, \\ln{x}; refuses the ambiguous \\sin 2x, \\sin^{-1}."""
        base: Node | None = None
        power: Node | None = None
        if name == "log" and self.peek() == "_":
            self.take()
            base = self.script()
        if self.peek() == "^":
            self.take()
            power = self.script()
            if power[0] != "num" or power[1] <= 0:
                raise Refuse("inverse-function power")
        if self.peek() in ("(", "{"):
            arg = self.atom()
        else:
            arg = self.atom()
            nxt = self.peek()
            if nxt is not None and (nxt == "^" or (self._starts_atom(nxt) and nxt[1:] not in FUNCTIONS)):
                raise Refuse("ambiguous bare function argument")
        node: Node = ("fn", name, arg, base)
        return ("pow", node, power) if power is not None else node


def _number(tok: str) -> Fraction:
    if len(tok) > 2000:
        raise Refuse("number too long")
    return Fraction(tok)


ParseResult = tuple[Node, frozenset[str]]


@lru_cache(maxsize=16384)
def parse_fast(text: str) -> Union[ParseResult, None]:  # noqa: UP007 - lru_cache typing
    """Parse `text` into (tree, variable names), or None when the fast parser refuses it."""
    try:
        parser = _Parser(_tokenize(text))
        node = parser.parse()
    except (Refuse, ValueError, ZeroDivisionError, RecursionError):
        return None
    return node, frozenset(parser.variables)


def evaluate(node: Node, env: Env, oracle: int | None = None) -> Value:
    """Exact value of `node` with variables bound by `env`; raises Refuse when out of bounds.

    With an `oracle` salt, whatever cannot be computed exactly (sin x, e, cube roots, ...) becomes a fixed
    pseudo-random value of its operation and exact arguments: an uninterpreted function. Two trees that
    agree this way at random points are equal for the true functions too (so sin(2t)/4 + cos(2t)/4 =
    (cos(2t) + sin(2t))/4 is decided exactly); disagreement proves nothing.
    """
    kind = node[0]
    if kind == "num":
        return Value.of(node[1])
    if kind == "var":
        return env[node[1]]
    if kind == "pi":
        return Value((((1, 1), Fraction(1)),))
    if kind == "const":
        if oracle is not None:
            return _oracle_value((oracle, node))
        raise Refuse("transcendental constant: numeric path only")
    children = [evaluate(c, env, oracle) if isinstance(c, tuple) else c for c in node[1:]]
    try:
        return _apply(kind, node, children)
    except Refuse:
        if oracle is None:
            raise
        return _oracle_value((oracle, kind, *((c.terms if isinstance(c, Value) else c) for c in children)))


def _apply(kind: str, node: Node, args: list) -> Value:
    """One exact operation on already evaluated arguments."""
    if kind == "fn":
        if node[1] in ("log", "ln"):
            base = Value.of(10) if args[2] is None and node[1] == "log" else args[2]
            return exact_log(args[1], base)
        raise Refuse("transcendental function: numeric path only")
    if kind == "neg":
        return -args[0]
    if kind == "abs":
        return args[0].absolute()
    if kind == "fact":
        return factorial(args[0])
    if kind == "root":
        return args[0].root(args[1])
    if kind in ("floor", "ceil"):
        q = args[0].rational()
        if q is None:
            raise Refuse("floor of an irrational value")
        return Value.of(math.floor(q) if kind == "floor" else math.ceil(q))
    if kind == "binom":
        return binomial(args[0], args[1])
    a, b = args
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div":
        return a / b
    if kind == "mod":
        p, q = a.rational(), b.rational()
        if p is None or q is None or p.denominator != 1 or q.denominator != 1 or q == 0:
            raise Refuse("a residue of non-integers")
        return Value.of(p % q)
    if kind == "pow":
        return a.power(b)
    raise Refuse(f"unknown node {kind}")


def _oracle_value(key: object) -> Value:
    """A fixed pseudo-random rational in [1, 2) for `key` (stable across processes: no str hash)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return Value.of(1 + Fraction(int.from_bytes(digest, "big") % 999_999_937, 999_999_937))


# Fixed, "random-looking" sample points: exact evaluation at a few such points decides polynomial and
# rational-function identities with overwhelming probability (Schwartz-Zippel), and any difference seen
# at a point is a certain proof of inequality.
_PRIMES = (1000003, 999983, 1000033, 999979, 1000037, 999961, 1000039, 999959, 1000081, 999953)


def sample_envs(
    names: frozenset[str],
    count: int = 3,
    small: bool = False,
    negative: bool = False,
    integers: frozenset[str] = frozenset(),
) -> list[Env]:
    """`count` fixed points; values near 1000 by default, near 1-3 with `small` (for the numeric path).

    Variables are real, not positive: with `negative` the first point negates every value and the
    others alternate signs between variables, so ``|t|``, ``\\sqrt{t^2}`` and ``\\sqrt{x^2 y^2}`` are told
    apart from ``t`` and ``xy``. The names in `integers` (integer variables) take
    integer points instead (never negated; see `sampling.py`).
    """
    ordered = sorted(names)
    envs = []
    for k in range(count):
        env = {}
        for j, name in enumerate(ordered):
            p = _PRIMES[(j + 3 * k) % len(_PRIMES)]
            q = 1009 + 37 * j + 101 * k
            value = Fraction(p + 7919 * (j + 1) * (k + 1), q * (450 + 97 * j) if small else q)
            if name in integers:
                env[name] = Value.of(INTEGER_POINTS[(k + 5 * j) % len(INTEGER_POINTS)])
                continue
            flip = negative and (k == 0 or (j + k) % 2 == 0)
            env[name] = Value.of(-value if flip else value)
        envs.append(env)
    return envs


INTEGER_POINTS = (6, 7, 8, 9, 10, 11, 12, 13, 25, 60, 61, 97)  # every residue mod 2..6, small and large


def integer_envs(names: frozenset[str]) -> list[Env]:
    """Every variable at integer points: for integer variables, and as extra points for real ones where
    floor and ceiling jump (see `sampling.py`)."""
    ordered = sorted(names)
    count = len(INTEGER_POINTS)
    points = [[INTEGER_POINTS[(k + 5 * j) % count] for j in range(len(ordered))] for k in range(count)]
    return [{n: Value.of(v) for n, v in zip(ordered, row, strict=True)} for row in points]
