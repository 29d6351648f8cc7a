"""Multiple-choice answers and ratios: ``(D) Ellipse`` vs ``\\text{(D)}``, ``PQ:QR = 5:8``, ``7:45``.

A choice meets another choice by its letter, a bare capital letter (``D``) the same way, and any
other answer by its option text (``(B) 15`` vs ``15``, ``(D) Ellipse`` vs ``Ellipse``). Ratios and
clock times compare part by part; ``7:45`` is ``7:45:00``, and a two-part ratio ``5:8`` is the
number ``\\frac58``.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr_eval.verifier.answer import Answer, Choice, Expression, Number, Ratio, Text
from rlvr_eval.verifier.compare.context import Context, Tri
from rlvr_eval.verifier.compare.matching import ordered

_LETTER_RE = re.compile(r"^[A-Z]$")
_ZERO = Answer(Number("0", Fraction(0)))


def _letter(answer: Answer, choice_mode: bool) -> str | None:
    value = answer.value
    if isinstance(value, Choice):
        return value.letter
    if isinstance(value, (Expression, Text)) and not answer.label:
        text = value.text.upper() if choice_mode else value.text
        return text if _LETTER_RE.match(text) else None
    return None


def compare(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Choice labels by letter; otherwise a choice's option text against the other answer."""
    choice_mode = ctx.options.answer_type == "choice" or bool(ctx.options.choices)
    la, lr = _letter(answer, choice_mode), _letter(reference, choice_mode)
    if la is not None and lr is not None:
        return la == lr
    a, r = answer.value, reference.value
    if isinstance(a, Choice) and a.option is not None and not isinstance(r, Choice):
        return ctx.same(a.option, reference)  # (B) 15 vs 15
    if isinstance(r, Choice) and r.option is not None and not isinstance(a, Choice):
        return ctx.same(answer, r.option)
    return False


def _scalars(ratio: Ratio) -> tuple[Answer, ...]:
    return tuple(Answer(p) for p in ratio.parts)


def compare_ratios(answer: Answer, reference: Answer, ctx: Context) -> Tri:
    """Ratios and clock times part by part (``7:45`` = ``7:45:00``); ``a:b`` against a number as a/b."""
    a, r = answer.value, reference.value
    if isinstance(a, Ratio) and isinstance(r, Ratio):
        pa, pr = _scalars(a), _scalars(r)
        if {len(pa), len(pr)} == {2, 3}:  # 7:45 vs 7:45:00
            longer = pa if len(pa) == 3 else pr
            if ctx.same(longer[2], _ZERO) is not True:
                return False
            pa, pr = pa[:2], pr[:2]
        return ordered(pa, pr, ctx.same)
    ratio, other = (a, r) if isinstance(a, Ratio) else (r, a)
    if isinstance(ratio, Ratio) and len(ratio.parts) == 2 and isinstance(other, (Number, Expression)):
        quotient = Expression(f"\\frac{{{ratio.parts[0].text}}}{{{ratio.parts[1].text}}}")
        pair = (quotient, other) if ratio is a else (other, quotient)
        return ctx.scalars(*pair)
    return False
