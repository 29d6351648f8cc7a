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
from fractions import Fraction

__all__ = ["NUMBER", "is_standalone", "number_phrase", "spelled_quantity", "standalone_numbers"]

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


# ----------------------------------------------------------------------------- number-word quantities

# A number in prose may be only the start of the quantity the text states: "2 million", "4 dozen",
# "12 and a half", "5 over 8", "18 pi", "6 degrees below zero" read as one value; "9 squared",
# "7 times 13", "4 root 2", "9 remainder 2", "6 more than that", "6 feet 3 inches" cannot be read as
# one, and their leading number is never the answer.
_SCALES = {
    "hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12, "dozen": 12,
}  # fmt: skip
_SCALE = re.compile(r"[ \t]+(hundred|thousand|million|billion|trillion|dozen)(?![A-Za-z])", re.IGNORECASE)
_PARTS = {"half": Fraction(1, 2), "third": Fraction(1, 3), "quarter": Fraction(1, 4)}
_AND_PART = re.compile(
    r"[ \t]+and[ \t]+(?:(a|one)[ \t]+(half|third|quarter)|(two)[ \t]+thirds|(three)[ \t]+quarters)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_OVER = re.compile(r"[ \t]+over[ \t]+([0-9]+)(?![0-9A-Za-z]|[.,/][0-9])", re.IGNORECASE)
_PI = re.compile(r"[ \t]*(?:pi|π)(?![A-Za-z])", re.IGNORECASE)
_BELOW_ZERO = re.compile(r"(?:[ \t]+[A-Za-z]+)?[ \t]+below[ \t]+zero(?![A-Za-z])", re.IGNORECASE)
_CONTINUES = re.compile(  # words that make the number an operand of the quantity, not the quantity
    r"[ \t]+(?:squared|cubed|plus|minus|divided|multiplied|remainder|roots?|factorial|choose|"
    r"to[ \t]+the[ \t]+power|(?:more|less|fewer|greater|smaller|larger)[ \t]+than|"
    r"(?:times|x)[ \t]+(?:[0-9]|the|a|an|that|this|its|his|her|their)|point[ \t]+[a-z])(?![A-Za-z])",
    re.IGNORECASE,
)
# "6 feet 3 inches", "3 hours and 10 minutes": a second number of another unit continues the quantity.
_COMPOUND = re.compile(
    r"(?:[ \t]+(?!(?:and|or|to|through|then|with|by)(?![A-Za-z]))[A-Za-z]+){1,2}(?:,|[ \t]+and)?"
    r"[ \t]+[0-9]+(?:\.[0-9]+)?[ \t]+[A-Za-z]+[ \t]*(?:[.,;!?]|$)",
    re.IGNORECASE,
)


def _plain(value: Fraction) -> str:
    """``value`` as plain text: an integer, an exact decimal, or ``p/q``."""
    if value.denominator == 1:
        return str(value.numerator)
    denominator = value.denominator
    while denominator % 2 == 0:
        denominator //= 2
    while denominator % 5 == 0:
        denominator //= 5
    return str(float(value)) if denominator == 1 else f"{value.numerator}/{value.denominator}"


def number_phrase(text: str, start: int, end: int) -> tuple[int, str | None] | None:
    """The quantity a number-word phrase opening with the plain number ``text[start:end]`` states.

    ``None`` when the number stands on its own; else ``(phrase_end, value)`` with ``value`` the
    quantity as plain text ("2 million" -> "2000000", "5 over 8" -> "5/8", "18 pi" -> "18\\pi") or
    ``None`` when the phrase cannot be read as one value ("9 squared", "6 feet 3 inches").
    """
    if _CONTINUES.match(text, end) or (not _OVER.match(text, end) and _COMPOUND.match(text, end)):
        return end, None
    number = text[start:end].replace(",", "").replace("−", "-")
    if not re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", number):
        return None
    value = Fraction(number)
    if m := _SCALE.match(text, end):
        return m.end(), _plain(value * _SCALES[m.group(1).lower()])
    if m := _AND_PART.match(text, end):
        _, part, twos, _ = m.groups()
        fraction = _PARTS[part.lower()] if part else Fraction(2, 3) if twos else Fraction(3, 4)
        return m.end(), _plain(value + fraction)
    if m := _OVER.match(text, end):
        return m.end(), f"{number}/{m.group(1)}" if int(m.group(1)) else None
    if m := _PI.match(text, end):
        return m.end(), f"{_plain(value)}\\pi"
    if m := _BELOW_ZERO.match(text, end):
        return m.end(), _plain(-value)
    return None


# The spelled numbers below twenty, and the tens, by value.
_UNITS = {word: value for value, word in enumerate(re.findall(r"\w+", """
    zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen"""))}
TENS = {word: 10 * value for value, word in enumerate(re.findall(r"\w+", """
    twenty thirty forty fifty sixty seventy eighty ninety"""), 2)}
_SPELLED_PART = re.compile(r"\s+and\s+(?:a|one)\s+(half|third|quarter)$|\s+and\s+(three)\s+quarters$")
_MAX_SPELLED_WORDS = 12
_PLURAL_WORD = r"(?!(?:is|was|has|this|its|thus|us|yes)$)[a-z]{2,}s"  # a unit word: "apples"
_PLURAL_UNIT = re.compile(_PLURAL_WORD)
_PLURAL_UNIT_AT_END = re.compile(rf"\s+{_PLURAL_WORD}$")


def spelled_quantity(answer: str) -> str | None:
    """The value of a quantity spelled out in words ("forty-two", "two and a half", "a dozen",
    "three hundred and five", "5 thousand" is left to ``number_phrase``), as plain text; else None."""
    words = answer.strip().rstrip(".!").lower()
    fraction = Fraction(0)
    unit = _PLURAL_UNIT_AT_END.search(words)
    part = _SPELLED_PART.search(words, 0, unit.start() if unit else len(words))
    if part:
        fraction = _PARTS[part.group(1)] if part.group(1) else Fraction(3, 4)
        words = words[: part.start()] + (words[unit.start() :] if unit else "")
    tokens = words.replace("-", " ").split()
    if len(tokens) > 1 and _PLURAL_UNIT.fullmatch(tokens[-1]):  # "three and a half sandwiches"
        tokens.pop()
    if not tokens or len(tokens) > _MAX_SPELLED_WORDS:
        return None
    total, current, seen = 0, 0, False
    for i, token in enumerate(tokens):
        if token in _UNITS:
            current += _UNITS[token]
        elif token in TENS:
            current += TENS[token]
        elif token in ("a", "one") and i + 1 < len(tokens) and tokens[i + 1] in _SCALES:
            current += 1
        elif token in _SCALES and (current or seen):
            scale = _SCALES[token]
            if scale >= 1000:
                total, current = total + (current or 1) * scale, 0
            else:
                current = (current or 1) * scale
        elif token == "and" and seen and i + 1 < len(tokens):
            continue
        else:
            return None
        seen = True
    return _plain(total + current + fraction) if seen else None
