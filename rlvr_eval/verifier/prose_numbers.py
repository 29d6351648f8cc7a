"""Standalone numbers: the numbers of a text that could be an answer, as opposed to pieces of an expression.

A number is *standalone* when nothing binds it into a larger expression: it is not a denominator,
exponent, subscript or radicand (``\\frac{..}{3}``, ``x^2``, ``a_1``, ``\\sqrt{7}``), not an operand of
an arithmetic operator or a relation (``2 + x``, ``n \\geq 2``, ``5-3``), not inside brackets (``(3, -5)``,
``[2, 9)``) and not glued to a letter (``x2``, ``5x``). It may follow ``=`` (the result of a
computation), stand in a value wrapper (``\\text{5}``, ``\\boxed{5}``) or in math delimiters, and
carry ``%``, ``°``/``^\\circ`` or a unit word after a space. The lenient chain only ever takes a
number as an answer when it is standalone, so a number inside an expression is never an answer.
"""

from __future__ import annotations

import re

__all__ = ["NUMBER", "is_standalone", "standalone_numbers"]

NUMBER = re.compile(  # ASCII digits only; "−" (U+2212) is a minus sign models do write
    r"[-−]?\\[dt]?frac\{[-−]?[0-9]+\}\{[-−]?[0-9]+\}"  # \frac{1}{2}
    r"|[-−]?[0-9]+(?:,[0-9]{3}(?![0-9]))*(?:\.[0-9]+)?(?:/[0-9]+)?(?:[eE][-+]?[0-9]+(?![0-9]))?"
    r"|[-−]?\.[0-9]+"  # .5
)
_CONTEXT = 24  # characters looked at on each side of a number
_COMMAND_BEFORE = re.compile(r"\\([A-Za-z]+)\s*$")
_COMMAND_AFTER = re.compile(r"[ \t]*\\([A-Za-z]+)")
# Commands a value may follow ("\quad 5", "\approx 3.3", "\text{5}") or sit inside.
_VALUE_COMMANDS = frozenset({
    "quad", "qquad", "approx", "text", "textbf", "mathbf", "mathrm", "boxed", "fbox", "left", "displaystyle",
})  # fmt: skip
# Commands that bind the number next to them into an expression.
_OPERATOR_COMMANDS = frozenset({
    "times", "cdot", "div", "pm", "mp", "le", "leq", "ge", "geq", "ne", "neq", "lt", "gt", "in", "subset",
    "subseteq", "cup", "cap", "to", "rightarrow", "leftarrow", "sqrt", "frac", "dfrac", "tfrac", "mid",
    "equiv", "sim", "leqslant", "geqslant", "ll", "gg", "ast", "star", "bmod", "mod", "pmod", "choose",
    "over", "binom", "log", "ln", "sin", "cos", "tan", "cdots", "ldots", "dots",
})  # fmt: skip
_OPERATORS = "^_/+-−*×÷·⋅∙<>≤≥≠∈√"
_TOUCHING_BEFORE = frozenset(_OPERATORS + "\\([|{}")  # immediately before the number ("\frac{270}7")
_SPACED_BEFORE = frozenset(_OPERATORS + "([{|")  # before it, across spaces
_TOUCHING_AFTER = frozenset(_OPERATORS + "=([{|!)]")
_SPACED_AFTER = frozenset(_OPERATORS + "=)]")
_OPENERS = ("\\(", "\\[", "**", "$", "\\,", "\\;", "\\ ", "\\quad", "\\qquad")
_CLOSERS = ("\\)", "\\]", "\\%", "\\,", "\\;", "\\!", "\\ ", "**", "^\\circ", "^{\\circ}", "$")
_MINUS = "-−"
_RELATION_EQUALS = ("<=", ">=", "!=", "==", "=<", "=>")  # "n >= 2": a bound, where "x = 2" is a value


def _in_value_wrapper(left: str) -> bool:
    """``left`` ends with ``\\text{`` / ``\\boxed{``: the number is wrapped as a value, not grouped."""
    command = _COMMAND_BEFORE.search(left[:-1]) if left.endswith("{") else None
    return bool(command) and command.group(1) in _VALUE_COMMANDS  # type: ignore[union-attr]


def _free_on_the_left(left: str) -> bool:
    if not left or left.endswith(_OPENERS):
        return True
    if left.endswith("{"):
        return _in_value_wrapper(left)
    if left[-1].isalnum() or left[-1] in _TOUCHING_BEFORE:
        return False
    stripped = left.rstrip(" \t")
    if not stripped or stripped.endswith(_OPENERS):
        return True
    if stripped[-1] in _SPACED_BEFORE or stripped.endswith(_RELATION_EQUALS):
        return False
    command = _COMMAND_BEFORE.search(stripped)
    return not (command and command.group(1) not in _VALUE_COMMANDS)


def _free_on_the_right(right: str, wrapped: bool) -> bool:
    if not right or right.startswith(_CLOSERS):
        return True
    if right[0] == "}":
        return wrapped
    if right[0].isalnum() or right[0] in _TOUCHING_AFTER:
        return False
    stripped = right.lstrip(" \t")
    if stripped[:1] and stripped[0] in _SPACED_AFTER:
        return False
    command = _COMMAND_AFTER.match(right)
    return not (command and command.group(1) in _OPERATOR_COMMANDS)


def is_standalone(text: str, start: int, end: int) -> bool:
    """Whether the number ``text[start:end]`` stands alone (see the module docstring)."""
    left = text[max(0, start - _CONTEXT) : start]
    right = text[end : end + _CONTEXT]
    return _free_on_the_left(left) and _free_on_the_right(right, wrapped=_in_value_wrapper(left))


def standalone_numbers(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the standalone numbers of ``text[start:end]``, in order."""
    end = len(text) if end is None else end
    out = []
    for m in NUMBER.finditer(text, start, end):
        s, e = m.span()
        if text[s] in _MINUS and s > 0 and (text[s - 1].isalnum() or text[s - 1] in ")]}"):
            s += 1  # "5-3": a minus between operands is subtraction, not a sign
        if s < e and is_standalone(text, s, e):
            out.append((s, e))
    return out


def last_standalone_number(text: str, start: int, end: int, window: int = 400) -> tuple[int, int] | None:
    """The last standalone number in ``text[start:end]``, read from the end in bounded windows."""
    hi = end
    for _ in range(64):  # bounded: a text of numbers that are all operands is given up on
        lo = max(start, hi - window)
        if lo > start:  # start the window at a space so a number is not cut in two
            space = text.find(" ", lo, hi)
            lo = space if space >= 0 else lo
        numbers = standalone_numbers(text, lo, hi)
        if numbers:
            return numbers[-1]
        if lo <= start:
            return None
        hi = lo
    return None
