"""The lenient chain: where the answer is when the requested format does not hold one (``strict=False``).

rlvr's own rule set, documented here in one place and in README's verifier section. In order:

1. **The requested format** (``boxed``, ``answer_tag``, ``final_answer``, ...), when it holds an answer.
2. **An explicit answer**, the latest in the text winning:
   - a box, with the boxes joined to it in one sentence ("\\boxed{-3} and \\boxed{8}": one answer,
     two parts) -- method ``boxed``;
   - an ``<answer>...</answer>`` tag -- method ``answer_tag``;
   - an answer phrase: "The final answer is", "Final Answer:", "**Final Answer**", "Answer:",
     "the answer is", "#### ", a closing "A: " line, Minerva's "Final Answer: The final answer is
     $X$. I hope it is correct." -- method ``answer_phrase`` (``phrases.py`` says what is read after it).
3. **A closing answer statement**: the value the text's last sentence states as its answer ("Hence
   the interval is $t \\in [2, 9)$.", "the vertex is \\( (3, -5) \\).", a closing
   "\\[ \\frac{4}{9} \\]" after "is:"; ``statements.py`` has the rule) -- method ``final_statement``.
   Not read when generation was cut at the length limit: the last sentence of a cut text is no
   statement.
4. Only with ``lenient_fallback="last_number"``: the last standalone number of the text (never one
   inside an expression) -- method ``last_number``. This is the Qwen2.5-Math evaluation harness's
   rule, which the 1-shot RLVR paper's numbers use; it is off by default because on rambling or
   looping text most of the numbers it finds are not answers.

What a model generates after answering (a new "Human:"/"Problem:" turn, code) is not read at all
(``turns.py``), so it cannot override a clear answer; an unclosed last box is never read, since it
may have been cut mid-answer.
"""

from __future__ import annotations

from rlvr_eval.verifier.answer_tags import last_answer_tag
from rlvr_eval.verifier.boxes import box_group
from rlvr_eval.verifier.choices import choice_in
from rlvr_eval.verifier.phrases import last_a_line, last_gsm8k, last_phrase
from rlvr_eval.verifier.prose_numbers import last_standalone_number
from rlvr_eval.verifier.scan import NONE, Found
from rlvr_eval.verifier.schema import ExtractionMethod, FormatStatus, LenientFallback
from rlvr_eval.verifier.statements import closing_statement

__all__ = ["LenientFallback", "lenient_answer"]


def _explicit(text: str, lower: str, box: Found, prompt: str | None) -> tuple[Found, ExtractionMethod]:
    """The latest box group, answer tag or answer phrase (step 2), or NONE."""
    candidates: list[tuple[Found, ExtractionMethod]] = [
        (box_group(text, box) if box.ok else box, "boxed"),
        (last_answer_tag(text, lower, prompt=prompt), "answer_tag"),
        (last_phrase(text, lower, lambda kind, final: True), "answer_phrase"),
        (last_gsm8k(text, lower), "answer_phrase"),
        (last_a_line(text, lower), "answer_phrase"),
    ]
    found = [(f, m) for f, m in candidates if f.ok]
    return max(found, key=lambda c: c[0].marker, default=(NONE, "none"))


def lenient_answer(
    text: str,
    lower: str,
    *,
    answer_format: str,
    box: Found,
    prompt: str | None,
    truncated: bool,
    fallback: LenientFallback,
) -> tuple[Found, ExtractionMethod]:
    """Steps 2-4 of the chain (the requested format already failed); ``box`` is the text's last box."""
    found, method = _explicit(text, lower, box, prompt)
    if found.ok:
        if answer_format == "multiple_choice":  # "I pick \boxed{(B) 42}": the label is the answer
            found = choice_in(text, found, wrapped=method == "boxed") or found
        return found, method
    if not truncated:
        statement = closing_statement(text)
        if statement.ok:
            return statement, "final_statement"
    if fallback == "last_number":
        number = last_standalone_number(text, 0, len(text))
        if number is not None:
            return Found(FormatStatus.OK, number[0], number[1], marker=number[0]), "last_number"
    return NONE, "none"
