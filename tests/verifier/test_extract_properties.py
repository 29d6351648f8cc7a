"""Properties of the format layer.

The last genuine box wins; boxes given together are all read, in any order; a number inside a
larger expression is never the answer; degenerate text after a boxed answer changes nothing;
arbitrary text never raises and big inputs stay fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import get_args

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rlvr_eval.verifier import boxes, stated_answers
from rlvr_eval.verifier.extract import extract_answer, extract_lenient
from rlvr_eval.verifier.schema import AnswerFormat, Extraction, FormatStatus

FORMATS: tuple[str, ...] = get_args(AnswerFormat)
BOX_COMMANDS = ("\\boxed", "\\fbox")
# What opens a new turn or ends one (turns.py): text holding these is not "plain".
TURN_MARKS = ("\nHuman", "\nUser", "\nProblem", "\nQuestion", "\nQ", "<|", "</s>", "```", "<｜")


def _no_box(text: str) -> bool:
    return not any(cmd in text for cmd in (*BOX_COMMANDS, *TURN_MARKS))


# Box content with balanced grouping braces: plain characters, escapes (\{ \} \\), commands, groups.
_plain = st.text(st.characters(exclude_characters="\\{}", codec="utf-8"), min_size=1, max_size=6)
_escape = st.sampled_from(["\\{", "\\}", "\\\\", "\\frac", "\\alpha ", "\\,", "\\$"])
_balanced = st.recursive(
    st.one_of(_plain, _escape),
    lambda inner: st.lists(inner, max_size=4).map(lambda parts: "{" + "".join(parts) + "}"),
    max_leaves=12,
)
box_content = (
    st.lists(_balanced, min_size=1, max_size=6)
    .map("".join)
    .filter(lambda s: s.strip() == s and s != "" and _no_box(s))
)
free_text = st.text(max_size=60).filter(_no_box)

# Arbitrary text biased towards the characters and markers the extractor reacts to.
_fragments = st.sampled_from(
    [
        "\\boxed", "\\fbox", "\\fboxsep", "{", "}", "\\", "\\{", "\\}", "$", "$$", "\\(", "\\)", "####",
        "answer is", "Answer:", "**Answer:**", "The final answer is", "(B)", "B", "\n", " ", "-", "1",
        "3.5", ",", ".", "/", "\\frac{1}{2}", "İ", "within \\boxed{}", "I hope it is correct",
    ]
)  # fmt: skip
messy_text = st.lists(st.one_of(_fragments, st.text(max_size=8)), max_size=40).map("".join)


def _check_invariants(text: str, got: Extraction, *, strict: bool) -> None:
    assert isinstance(got, Extraction)
    assert (got.answer is None) == (got.method == "none")
    if got.answer is not None:
        assert got.answer != "" and got.answer == got.answer.strip()
        assert got.start is not None and got.end is not None
        if got.parts:
            assert len(got.parts) > 1 and got.answer == ", ".join(got.parts)
            region = text[got.start : got.end]
            assert region.startswith(got.parts[0]) and region.endswith(got.parts[-1])
        else:
            assert text[got.start : got.end] == got.answer
    if strict and got.answer is not None:
        assert got.method == "requested"
        assert got.format in (FormatStatus.OK, FormatStatus.TRUNCATED)


@given(prefix=free_text, content=box_content, suffix=free_text, cmd=st.sampled_from(BOX_COMMANDS))
def test_last_box_is_extracted(prefix: str, content: str, suffix: str, cmd: str) -> None:
    text = f"{prefix}{cmd}{{{content}}}{suffix}"
    got = extract_answer(text)
    assert (got.answer, got.format, got.method) == (content, FormatStatus.OK, "requested")
    assert got.start == len(prefix) + len(cmd) + 1


# What separates a corrected box from the one that replaces it: a new line or sentence, a retraction.
_CORRECTION = st.sampled_from(["\n", ". ", "... so actually ", "\n\nWait, ", "! Hmm, ", ". But ", "\n\n"])


@given(first=box_content, before=free_text, correction=_CORRECTION, after=free_text, last=box_content)
def test_the_last_genuine_box_wins(first: str, before: str, correction: str, after: str, last: str) -> None:
    got = extract_answer(f"\\boxed{{{first}}}{before}{correction}{after}\\fbox{{{last}}}")
    assert (got.answer, got.parts) == (last, ())


_tokens = st.text(st.sampled_from("abcdxyz0123456789"), min_size=1, max_size=4)
_JOINERS = [", ", " and ", " \\quad ", " \\text{and} ", "; ", " or ", ", and ", "$, $", "\\) and \\("]


@given(parts=st.lists(_tokens, min_size=2, max_size=5, unique=True), joiner=st.sampled_from(_JOINERS),
       order=st.randoms(use_true_random=False))
def test_boxes_given_together_are_all_read_in_any_order(parts: list[str], joiner: str, order) -> None:  # type: ignore[no-untyped-def]
    text = "The solutions are $" + joiner.join(f"\\boxed{{{p}}}" for p in parts) + "$."
    assert extract_answer(text).parts == tuple(parts)
    shuffled = parts[:]
    order.shuffle(shuffled)
    text = "So $" + joiner.join(f"\\boxed{{{p}}}" for p in shuffled) + "$."
    for got in (extract_answer(text), extract_lenient(text, answer_format="final_answer")):
        assert set(got.parts) == set(parts) and len(got.parts) == len(parts)


_number = st.integers(0, 999).map(str)
_EXPRESSIONS = [
    "\\frac{{a+1}}{{{n}}}", "\\frac{{5+\\sqrt{{7}}}}{{{n}}}", "x^{{{n}}}", "x^{n}", "a_{{{n}}}", "a_{n}",
    "\\sqrt{{{n}}}", "\\sqrt[{n}]{{x}}", "n \\geq {n}", "n \\le {n}", "k > {n}", "{n} + x", "x - {n}",
    "({n}, 4)", "(4, {n})", "[{n}, 9)", "{n}x", "2 \\times {n}", "{n}!", "10^{n}", "e^{{-{n}}}",
]  # fmt: skip
_WRAPS = ["{e}", "${e}$", "\\({e}\\)", "So the value is ${e}$.", "Thus \\[ {e} \\]", "hence {e} holds."]
_safe_words = st.text(st.sampled_from("abcdfghjkmpqrtuvw \n"), max_size=30)


@settings(max_examples=300)
@given(
    before=_safe_words,
    template=st.sampled_from(_EXPRESSIONS),
    wrap=st.sampled_from(_WRAPS),
    n=_number,
    after=_safe_words,
    fallback=st.sampled_from(["none", "last_number"]),
)
def test_a_number_inside_an_expression_is_never_extracted(
    before: str, template: str, wrap: str, n: str, after: str, fallback: str
) -> None:
    expression = template.format(n=n)
    text = before + " " + wrap.format(e=expression) + " " + after
    start = text.index(expression)
    end = start + len(expression)
    got = extract_lenient(text, lenient_fallback=fallback)  # type: ignore[arg-type]
    if got.start is not None and got.end is not None and got.start < end and start < got.end:
        assert got.start <= start and end <= got.end, (text, got)  # only the whole expression, never a piece
    for answer in stated_answers(text):
        if answer.start < end and start < answer.end:
            assert answer.start <= start and end <= answer.end, (text, answer)


_DEGENERATE = st.one_of(
    free_text.filter(  # looping garbage: anything without an answer marker of its own
        lambda t: not any(m in t.lower() for m in ("answer", "####", "$", "\\(", "\\[", "a:", "**"))
    ),
    st.builds(
        lambda turn, rest: f"\n\n{turn}: {rest}",
        st.sampled_from(["Human", "User", "Problem", "Question"]),
        st.text(max_size=60),
    ),
    st.text(max_size=60).map(lambda code: f"\n\n```python\n{code}\n```"),
    st.sampled_from(["<|im_end|>", "<|endoftext|>"]).map(lambda tok: tok + "The answer is \\boxed{0}"),
)


@settings(max_examples=200)
@given(prefix=free_text, content=box_content, tail=_DEGENERATE)
def test_degenerate_text_after_a_boxed_answer_changes_nothing(prefix: str, content: str, tail: str) -> None:
    text = f"{prefix}\nSo the result is $\\boxed{{{content}}}$."
    for strict in (True, False):
        alone = extract_answer(text, strict=strict)
        more = extract_answer(text + tail, strict=strict)
        assert (more.answer, more.start, more.end) == (alone.answer, alone.start, alone.end)
        assert more.method == alone.method
        assert alone.answer == content


_INSTRUCTIONS = [
    "Let's think step by step and output the final answer within \\boxed{}.",
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "Put your final answer in $\\boxed{}$",
    "Write the answer inside \\fbox{}.",
]


@given(content=box_content, middle=free_text, instruction=st.sampled_from(_INSTRUCTIONS))
def test_echoed_instruction_never_hides_the_answer(content: str, middle: str, instruction: str) -> None:
    got = extract_answer(f"\\boxed{{{content}}}{middle}\n{instruction}")
    assert (got.answer, got.format) == (content, FormatStatus.OK)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(st.text(), messy_text),
    answer_format=st.sampled_from(FORMATS),
    finish_reason=st.sampled_from([None, "stop", "length"]),
)
def test_arbitrary_text_never_raises(text: str, answer_format: str, finish_reason: str | None) -> None:
    strict = extract_answer(text, answer_format=answer_format, finish_reason=finish_reason)  # type: ignore[arg-type]
    lenient = extract_lenient(text, answer_format=answer_format, finish_reason=finish_reason)  # type: ignore[arg-type]
    harness = extract_lenient(text, answer_format=answer_format, lenient_fallback="last_number")  # type: ignore[arg-type]
    _check_invariants(text, strict, strict=True)
    _check_invariants(text, lenient, strict=False)
    _check_invariants(text, harness, strict=False)
    assert lenient.method != "last_number"  # only when asked for
    if lenient.answer is not None:  # the harness rule only adds a last step
        same = (harness.answer, harness.method) == (lenient.answer, lenient.method)
        assert same or finish_reason == "length"
    for answer in stated_answers(text):
        assert answer.text and 0 <= answer.start < answer.end <= len(text)
    assert strict.format == lenient.format  # the status always describes the requested format
    if finish_reason == "length":
        assert strict.format is FormatStatus.TRUNCATED
    if strict.answer is not None:  # lenient never overrides a requested-format answer
        assert (lenient.answer, lenient.method) == (strict.answer, "requested")


@given(prompt=messy_text, rest=messy_text, answer_format=st.sampled_from(FORMATS))
def test_echoed_prompt_is_ignored(prompt: str, rest: str, answer_format: str) -> None:
    assume(not (prompt and rest.startswith(prompt)))  # else the echo would be stripped from `rest` too
    alone = extract_lenient(rest, answer_format=answer_format, prompt=prompt)  # type: ignore[arg-type]
    echoed = extract_lenient(prompt + rest, answer_format=answer_format, prompt=prompt)  # type: ignore[arg-type]
    shift = len(prompt) if prompt else 0
    assert (echoed.answer, echoed.format, echoed.method) == (alone.answer, alone.format, alone.method)
    if alone.start is not None:
        assert (echoed.start, echoed.end) == (alone.start + shift, alone.end + shift)  # type: ignore[operator]


_numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 999), st.integers(0, 999)),
    st.builds(lambda a, b: f"{a}/{b}", st.integers(0, 999), st.integers(1, 999)),
    st.integers(1000, 10**9).map(lambda n: f"{n:,}"),
)
_words = st.text(st.sampled_from("abcxyz \n"), max_size=30)


@given(before=_words, number=_numbers, after=_words, punct=st.sampled_from(["", ".", "!", " ."]))
def test_answer_phrase_number(before: str, number: str, after: str, punct: str) -> None:
    text = f"{before}\nThe answer is {number}{punct}\n{after}"
    got = extract_lenient(text)
    assert (got.answer, got.method) == (number, "answer_phrase")


@given(numbers=st.lists(_numbers, min_size=1, max_size=5), words=st.lists(_words, min_size=6, max_size=6))
def test_last_number_fallback(numbers: list[str], words: list[str]) -> None:
    text = " ".join(f"{w} {n}" for w, n in zip(words, numbers, strict=False)) + " " + words[-1]
    got = extract_lenient(text, lenient_fallback="last_number")
    assert (got.answer, got.method) == (numbers[-1], "last_number")
    assert extract_lenient(text).method != "last_number"  # off by default


_math = st.lists(
    st.sampled_from(["x", "2", "+", "^{2}", "\\frac{1}{3}", "\\sqrt{5}", "(", ")", ",", "\\pi", "y"]),
    min_size=1,
    max_size=8,
).map("".join).filter(lambda s: s[-1] not in ",")


@given(math=_math, lead=_words)
def test_minerva_final_answer(math: str, lead: str) -> None:
    text = f"{lead}\nFinal Answer: The final answer is ${math}$. I hope it is correct."
    got = extract_answer(text, answer_format="final_answer")
    assert (got.answer, got.format) == (math, FormatStatus.OK)


# ----------------------------------------------------------------------------- speed

BIG = 1_000_000
LARGE_INPUTS: dict[str, Callable[[], str]] = {
    "10k nested braces": lambda: "\\boxed{" + "{" * 10_000 + "x" + "}" * 10_000 + "}",
    "10k nested unclosed": lambda: "\\boxed{" + "{" * 10_000 + "x",
    "10k nested boxes": lambda: "\\boxed{" * 10_000 + "1" + "}" * 10_000,
    "1MB prose then box": lambda: "we add 12 and 7, " * (BIG // 17) + "\\boxed{5}",
    "1MB box content": lambda: "\\boxed{" + "a{b}\\{" * (BIG // 6) + "}",
    "1MB open braces": lambda: "\\boxed{" + "{" * BIG,
    "1MB empty boxes": lambda: "within \\boxed{} " * (BIG // 16),
    "1MB fboxsep": lambda: "\\fboxsep" * (BIG // 8),
    "1MB digits": lambda: "1" * BIG,
    "1MB answer phrases": lambda: "the answer is " * (BIG // 14),
    "1MB hashes": lambda: "#" * BIG,
    "1MB dollars": lambda: "Answer: " + "$" * BIG,
    "1MB newlines": lambda: "The final answer is" + "\n" * BIG,
    "1MB dotted i": lambda: "İ" * BIG + " the answer is (C)",
    "1MB random": lambda: "".join(chr(32 + (i * 7919) % 95) for i in range(BIG)),
    "1MB statements": lambda: "Thus the area of $ABC$ is $5$ for $n \\geq 2$. " * (BIG // 48),
    "1MB answer tags": lambda: "<answer>" * (BIG // 16) + "</answer>" * (BIG // 18),
    "1MB empty tags": lambda: "<answer></answer>" * (BIG // 17),
    "1MB A lines": lambda: "A: 1\nQ: 2\n" * (BIG // 10),
    "1MB code fences": lambda: "\\boxed{1} ```" * (BIG // 13),
    "1MB bold numbers": lambda: "So **1** and **2** " * (BIG // 19),
    "1MB adjacent boxes": lambda: "\\boxed{1} and " * (BIG // 15),
}


@pytest.mark.parametrize("name", list(LARGE_INPUTS))
def test_large_inputs_are_fast(name: str) -> None:
    text = LARGE_INPUTS[name]()
    extract_answer("\\boxed{" + "{}" * 60_000 + "}")  # warm up: the long-box scan imports numpy once
    for answer_format in FORMATS:
        for strict in (True, False):
            best = float("inf")
            for _ in range(3):  # CPU time, best of 3: the machine is shared with other test runs
                start = time.process_time()
                got = extract_answer(text, answer_format=answer_format, strict=strict)  # type: ignore[arg-type]
                best = min(best, time.process_time() - start)
            _check_invariants(text, got, strict=strict)
            assert best < 0.1, f"{name} / {answer_format} / strict={strict}: {best * 1000:.0f} ms"
    start = time.process_time()
    stated_answers(text)
    assert time.process_time() - start < 1.0, f"{name} / stated_answers"


def test_nested_braces_give_the_whole_group() -> None:
    depth = 10_000
    got = extract_answer("\\boxed{" + "{" * depth + "x" + "}" * depth + "}")
    assert got.answer == "{" * depth + "x" + "}" * depth
    assert extract_answer("\\boxed{" + "{" * depth + "x").format is FormatStatus.UNBALANCED


@settings(deadline=None)  # the first example imports numpy
@given(st.text(st.sampled_from("{}\\a"), max_size=40))
def test_numpy_brace_scan_agrees_with_python_scan(tail: str) -> None:
    """Long boxes are scanned with numpy; both scanners must close the same brace."""
    text = "x{" + tail
    assert boxes._match_brace_numpy(text, 1, len(text)) == boxes.match_brace(text, 1)
