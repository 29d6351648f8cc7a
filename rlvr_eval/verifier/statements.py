"""Answer statements in prose: sentences, the values they hold, and which value a sentence states.

A *value* is a math span (``$..$``, ``\\(..\\)``, ``\\[..\\]``, ``$$..$$``), a bold ``**...**`` holding a
digit or math, or a standalone number in prose (``prose_numbers``: never a piece of an expression).
Values that qualify rather than answer are ignored: those after a condition ("for all $n \\geq 2$",
"where", "if", "given"), a measure ("in 4 weeks", "less than 100"), in an aside "(\\(2\\))", and
bare symbols ("\\(x\\)") that no copula introduces. So are values the sentence denies, bounds or
supposes: "the remainder is not $3$", "is never $2$", "at least $24$", "at most $120$", "there is no
solution with $k = 8$", "If the answer were $9$, ..." (a negated statement never yields its value).

A sentence *states* its last answer value (or its last list of values, "\\(x = -1\\), \\(x = 2\\),
and \\(x = -2\\)") when that value closes the sentence (only punctuation, a few unit-like words or a
qualification follow: "$75$ square units.", "\\(3.3\\) to the nearest tenth.", "**13**, occurring
when ...") and

- a copula, result verb or naming noun introduces it: "is", "are", "=", ":", "equals", "gives", "we
  get", "has", "meet at", "the interval $[-1, 6)$", or "of" before a number ("a profit of $195,000."); or
- the sentence is a conclusion that says nothing before the value ("Therefore, \\(x^3 = 12\\).").

A complete conclusion sentence ("Therefore", "Thus", "So", "Hence", "In conclusion", ...) that holds
exactly one numeric answer value also states it, wherever it stands ("So, it took James 2 hours to
walk to the store."), as does one that opens with a count ("Therefore, 20 workers are needed ...").
A conclusion clause inside a sentence ("Each row holds 13 chairs, so the hall seats \\(117\\)
people.") is read as a sentence of its own. A closing list of results after a colon ("Summary:" and
one math span per item) states all of them. Anything else (several values, none closing the
sentence; a hedge such as "maybe"; a remark such as "Note that ..."; a last sentence cut off before
its end) states nothing, and the
lenient chain then finds no answer rather than a wrong one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from rlvr_eval.verifier.math_spans import MathSpan, scan_math, trim, with_results
from rlvr_eval.verifier.prose_numbers import NUMBER, number_phrase, standalone_numbers
from rlvr_eval.verifier.scan import NONE, Found
from rlvr_eval.verifier.schema import FormatStatus

__all__ = [
    "Sentence",
    "Value",
    "answer_values",
    "closing_statement",
    "sentences",
    "stated_values",
    "values_found",
]

_WINDOW = 3_000  # a closing statement is looked for in this many final characters
_MAX_TRAILING_CHATTER = 300  # value-free sentences ("Let me know if ...") allowed after the statement
_MAX_LIST = 16
_MAX_VALUES = 64  # a "sentence" with more values than this is a dump of numbers, not a statement

_DIGIT = re.compile(r"[0-9]")
_BOLD = re.compile(r"\*\*([^*\n]{1,80})\*\*")
# Sentence ends in prose: ". " "! " "? " "...", a blank line, or a line that starts a list item / heading.
_BREAK = re.compile(r"(?:\.\.\.|(?<!\\)[.!?])(?=[\s*]|$)|\n[ \t]*\n|\n(?=[ \t]*(?:[-*•#]|[0-9]+[.)])[ \t])")
_ABBREVIATION = re.compile(r"(?:^|[^A-Za-z])(?:e\.g|i\.e|etc|vs|approx|cf|[Mm]rs?|Dr|Fig|Eq|No)$")
_NEW_SENTENCE_AFTER_DISPLAY = re.compile(r"[ \t]*\n?[ \t]*[A-Z]")
_LIST_JOINER = re.compile(r"\s*(?:,|;|,?\s*and|,?\s*or|\\quad|\\qquad)\s*")
_CONCLUSION = re.compile(
    r"[\s>#*\-]*(?:therefore|thus|hence|so|consequently|finally|overall|altogether|in conclusion|in summary|"
    r"to conclude|to summarize|conclusion|summary|as a result|this means|this gives|we conclude|"
    r"giving(?: us)?)"
    r"\b[\s,:]*",
    re.IGNORECASE,
)
# Where a conclusion clause starts inside a sentence: "..., so the hall seats \(117\) people."
_CLAUSE_CUE = re.compile(
    r"[,;:]\s+(?:and\s+)?(?=(?:so|therefore|thus|hence|giving|which gives|consequently)(?![A-Za-z]))",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"(?<![A-Za-z])(?:maybe|perhaps|might|possibly|probably|guess|seems?|could be|not sure|let's try|"
    r"let us try|should try|suppose|assume|assuming)(?![A-Za-z])",
    re.IGNORECASE,
)
# A remark on the answer, not the answer: "Note that the endpoints are attained at $x = 1$."
_REMARK = re.compile(
    r"[\s>#*\-]*(?:note|notice|recall|remember|observe|check|checking|verify|verifying|as a check)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_BULLET = re.compile(r"\s*(?:[-*•]|[0-9]+[.)])[ \t]+")
_ADVERB = (
    r"(?:approximately|about|exactly|only|just|simply|therefore|thus|then|now|roughly|around|indeed|also)"
)
_INTRODUCER = re.compile(  # searched in the last characters before a value
    r"(?:(?<![A-Za-z])(?P<word>is|are|was|were|be|becomes?|equals?|equal to|gives?|get|gets|got|obtain|"
    r"obtained|yields?|has|have|makes?|costs?|totals?|of|at|(?:simplifies|simplified|reduces|evaluates|comes|"
    r"amounts|works out|is equal) to)(?:\s*\([a-z]+\))?|=|:|≈|\\approx"
    r"|(?<![A-Za-z])(?P<noun>interval|point|set|pair|triple|solutions?|roots?|result|ratio|coordinates|vertex|"
    r"expression|equation|function|formula|range|domain))"
    rf"(?:\s+{_ADVERB})?\s*(?:\*\*|\\?\$)?\s*$",  # "costs $120": a currency sign
    re.IGNORECASE,
)
# Words that make the value after them a condition or a measure of context, not the answer: "for all
# $n \geq 2$", "where $y$ is minimized", "for n = 2" (conditions), "in 4 weeks", "less than 100" (measures).
_CONDITION_WORDS = (
    r"for|if|when|whenever|where|given|such that|unless|since|because|except|excluding|including|relative to"
)
_MEASURE_WORDS = r"in|over|within|after|per|from|than|among|during|before|until"
_QUALIFIER = (
    r"(?:\s+(?:all|every|each|some|any|the|a|an|positive|negative|nonnegative|integers?|reals?|real|numbers?|"
    r"values?|of))*(?:\s+[A-Za-z](?:_\{?\w+\}?)?\s*(?:=|\\in|\\geq|\\leq|\\ge|\\le|>|<)\s*)?\s*(?:\*\*)?\s*$"
)
_CONDITION = re.compile(rf"(?<![A-Za-z])(?:{_CONDITION_WORDS}){_QUALIFIER}", re.IGNORECASE)
_MEASURE = re.compile(rf"(?<![A-Za-z])(?:{_MEASURE_WORDS}){_QUALIFIER}", re.IGNORECASE)
# A value the sentence denies, bounds or supposes is not its answer: "the remainder is not $3$", "is
# never $2$", "cannot be 4", "at least $24$", "at most $120$", "there is no solution with $k = 8$",
# "If the answer were $9$, ...". NEGATION_LEAD (also read after an answer phrase) is the word(s)
# right before such a value; the other two look further back within the clause.
NEGATION_LEAD = re.compile(
    r"(?:not|never|cannot|can't|can ?not|isn't|aren't|wasn't|no longer|neither|nor|at (?:least|most)|"
    r"no (?:more|less|fewer|greater|smaller|larger|bigger) than|up to|exceeds?|exceeding|"
    r"bounded (?:above |below )?by)(?![A-Za-z'])",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    rf"(?<![A-Za-z'])(?:{NEGATION_LEAD.pattern}|n't)"
    r"(?:\s+(?:be|equal(?:\s+to)?|equals?|exactly|even|just|only|always|possibly|quite|the|a|an))*"
    r"\s*(?:\*\*|\\?\$)?\s*$",
    re.IGNORECASE,
)
_NONE_EXISTS = re.compile(  # "there is no solution with $k = 8$", "has no root at $x = 1$"
    r"(?<![A-Za-z])(?:there (?:is|are|exists?)|has|have|gives?|yields?) no(?![A-Za-z])[^,;:]{0,60}$",
    re.IGNORECASE,
)
_SUPPOSED = re.compile(  # "If the answer were $9$, ...": the value of a supposition, up to its comma
    r"(?<![A-Za-z])(?:if|suppose|supposing|assume|assuming|unless|whether)(?![A-Za-z])[^,;:]{0,60}$",
    re.IGNORECASE,
)
_MAX_SYMBOL = 16  # a math span without digits and at most this long is a symbol ("\(x\)", "\(ABC\)")
# After the stated value the sentence may go on with a qualification: ", occurring when ...", "for all ...".
_QUALIFICATION = re.compile(
    r"\s*(?:\)|\])?\s*(?:,|;|—|--|\s(?:for|when|where|if|since|because|as|given|with|which|in|over|on|at|of|"
    r"after|before|from|than|per)\s)",
    re.IGNORECASE,
)
# A unit word after the value, its exponent possibly in math: "units", "m/s", "cm^2", "54 cm$^2$".
_TAIL_WORD = re.compile(
    r"[ \t]+([A-Za-z]+(?:/[A-Za-z]+)*(?:\$?\^\{?-?[0-9]\}?\$?)?|\([A-Za-z ]+\))(?![A-Za-z])"
)
_COPULA_END = re.compile(  # a clause that states its value: "the width is", "n ="
    rf"(?:(?<![A-Za-z])(?:is|are|was|were|be|becomes?|equals?)|=)(?:\s+{_ADVERB})?\s*(?:\*\*|\\?\$)?\s*$",
    re.IGNORECASE,
)
# After a stated value, a clause that states another: "18 years old now, and ...", "48 km/h and the ...".
_AND_THEN = re.compile(
    r"(?:[ \t]+[A-Za-z]+(?:/[A-Za-z]+)*){0,3}[ \t]*,?[ \t]*(?:and|while|whereas|but)(?![A-Za-z])"
)
_SENTENCE_END = re.compile(r"[ \t*]*(?:\.\.\.|[.!])?[\s*]*")
_TAIL_STOP = frozenset({
    "for", "if", "when", "where", "since", "because", "which", "that", "but", "and", "or", "with", "from",
    "than", "as", "then", "is", "are", "be", "so", "while", "unless", "whose", "such", "in", "on", "at",
})  # fmt: skip
_MAX_TAIL_WORDS = 4
_UNIT_EXPONENT = re.compile(r"\s*\^\s*(?:\{\s*-?[0-9]\s*\}|-?[0-9])\s*")
_BOLD_NUMBER_WITH_WORDS = re.compile(r"\s*(" + NUMBER.pattern + r")\s+[A-Za-z][A-Za-z ]*$")


class Value(NamedTuple):
    """A candidate answer inside a sentence: a math span, a bold span or a standalone number."""

    start: int  # content start (inside its delimiters)
    end: int
    open: int  # where its delimiters start
    close: int  # where its delimiters end
    numeric: bool  # holds a digit


class Sentence(NamedTuple):
    start: int
    end: int
    values: tuple[Value, ...]


def _values(text: str, start: int, end: int, maths: list[MathSpan]) -> tuple[Value, ...]:
    """Values of ``text[start:end]``: bold spans with a digit or math, math spans, standalone numbers."""
    values: list[Value] = []
    for b in _BOLD.finditer(text, start, end):
        inner = b.group(1)
        if _DIGIT.search(inner) or "\\" in inner or "$" in inner:
            values.append(Value(b.start(1), b.end(1), b.start(), b.end(), bool(_DIGIT.search(inner))))
    bold_starts = [v.open for v in values]  # in order, disjoint

    def in_bold(pos: int) -> bool:
        i = bisect_right(bold_starts, pos) - 1
        return i >= 0 and pos < values[i].close

    for m in maths:
        if _UNIT_EXPONENT.fullmatch(text, m.start, m.end) and m.open > 0 and text[m.open - 1].isalpha():
            continue  # "54 cm$^2$": the exponent of a unit word, not a value
        if not in_bold(m.open):
            values.append(
                Value(m.start, m.end, m.open, m.close_end, bool(_DIGIT.search(text, m.start, m.end)))
            )
    cursor = start
    for m in [*maths, MathSpan(end, end, end, end, False)]:  # numbers in the prose between math spans
        for s, e in standalone_numbers(text, cursor, m.open):
            if not in_bold(s):
                values.append(Value(s, e, s, e, True))
        cursor = max(cursor, m.close_end)
    return tuple(sorted(values))


def sentences(text: str, start: int, end: int) -> list[Sentence]:
    """The sentences of ``text[start:end]`` with their values; a math span is never split."""
    maths = scan_math(text, start, end)
    bounds: list[int] = []
    cursor = start
    for m in [*maths, MathSpan(end, end, end, end, False)]:
        for brk in _BREAK.finditer(text, cursor, m.open):
            if not (
                brk.group()[0] == "." and _ABBREVIATION.search(text, max(0, brk.start() - 8), brk.start())
            ):
                bounds.append(brk.end())
        cursor = max(cursor, m.close_end)
        if m.display and _NEW_SENTENCE_AFTER_DISPLAY.match(text, m.close_end, end):
            bounds.append(m.close_end)  # "\[2x = 20\] Dividing by 2 yields": a new sentence starts
    out: list[Sentence] = []
    i = 0
    for s, e in zip([start, *bounds], [*bounds, end], strict=True):
        if not text[s:e].strip():
            continue
        inside: list[MathSpan] = []
        while i < len(maths) and maths[i].open < e:
            if maths[i].open >= s:
                inside.append(maths[i])
            i += 1
        out.append(Sentence(s, e, _values(text, s, e, inside)))
    return out


def _closes_sentence(tail: str) -> bool:
    """Only a few unit-like words, then the sentence end or a qualification, follow the value.

    "$75$ square units.", "\\(3.3\\) to the nearest tenth.", "**13**, occurring when ...",
    "\\(3\\) possible values for \\(n\\)."
    """
    if " to the nearest " in tail:
        return True
    pos = 0
    for _ in range(_MAX_TAIL_WORDS + 1):
        if _SENTENCE_END.fullmatch(tail, pos) or _QUALIFICATION.match(tail, pos):
            return True
        word = _TAIL_WORD.match(tail, pos)
        if word is None or word.group(1).lower() in _TAIL_STOP:
            return False
        pos = word.end()
    return False


def _introduced(intro: str, value: Value) -> bool:
    """A copula, result verb or naming noun stands right before the value.

    "is", "=", ":", "we get", "meet at"; "of" only before a number ("a profit of $195,000");
    a noun ("the interval $[-1, 6)$") only before more than a bare symbol.
    """
    m = _INTRODUCER.search(intro[-60:])
    if m is None:
        return False
    if m.group("noun"):
        return value.numeric or value.end - value.start > _MAX_SYMBOL
    return value.numeric or (m.group("word") or "").lower() != "of"


def _denied(text: str, sentence: Sentence, value: Value) -> bool:
    """The sentence denies, bounds or supposes the value: "is not $3$", "at least 24", "If it were 9"."""
    intro = text[max(sentence.start, value.open - 60) : value.open]
    return bool(_NEGATED.search(intro) or _NONE_EXISTS.search(intro) or _SUPPOSED.search(intro))


def _ignorable(text: str, sentence: Sentence, value: Value, *, measures: bool = True) -> bool:
    """A value that qualifies rather than answers: "for all \\(n \\geq 2\\)", "in 4 weeks", a bare "\\(x\\)".

    With ``measures=False`` a number after a measure word ("in 4 weeks") still counts as a value:
    a sentence holding one is not chatter that a closing statement may be read past.
    """
    intro = text[max(sentence.start, value.open - 60) : value.open]
    if _CONDITION.search(intro) or ((measures or not value.numeric) and _MEASURE.search(intro)):
        return True
    if _denied(text, sentence, value):
        return True
    if intro.rstrip().endswith("("):  # "its slope (\\(2\\)) is never zero": an aside
        return True
    symbol = not value.numeric and value.end - value.start <= _MAX_SYMBOL
    return symbol and not _introduced(intro, value)


def _list_start(text: str, values: tuple[Value, ...], last: int) -> int:
    """Index of the first value of the list ending at ``values[last]`` ("$a$, $b$, and $c$")."""
    first = last
    while first > 0 and last - first < _MAX_LIST - 1:
        if not _LIST_JOINER.fullmatch(text, values[first - 1].close, values[first].open):
            break
        first -= 1
    return first


def _conclusion_clause(text: str, sentence: Sentence) -> Sentence | None:
    """The last conclusion clause of a sentence: "Each row holds 13 chairs, so the hall seats \\(117\\)"."""
    clause = None
    for m in _CLAUSE_CUE.finditer(text, sentence.start, sentence.end):
        clause = m.end()
    if clause is None:
        return None
    values = tuple(v for v in sentence.values if v.open >= clause)
    return Sentence(clause, sentence.end, values) if values else None


def stated_values(text: str, sentence: Sentence) -> tuple[Value, ...]:
    """The value(s) ``sentence`` states as its answer (see the module docstring); empty if none.

    A hedged sentence ("so maybe the pattern continues with 10") or a remark ("Note that ...")
    states nothing.
    """
    if not sentence.values:  # most sentences of prose: nothing to state (saves the cue searches below)
        return ()
    if len(sentence.values) > _MAX_VALUES or _HEDGE.search(text, sentence.start, sentence.end):
        return ()
    if _REMARK.match(text, sentence.start, sentence.end):
        return ()
    clause = _conclusion_clause(text, sentence)
    return (_stated(text, clause) if clause else ()) or _stated(text, sentence)


def _stated(text: str, sentence: Sentence) -> tuple[Value, ...]:
    answers = [i for i, v in enumerate(sentence.values) if not _ignorable(text, sentence, v)]
    if not answers:
        return ()
    last = answers[-1]
    first = _list_start(text, sentence.values, last)
    head = sentence.values[first]
    intro = text[sentence.start : head.open]
    tail = text[sentence.values[last].close : sentence.end]
    if _states_another(text, sentence, answers, first):
        return ()  # "the width is 12 cm and the length is 17 cm": two answers, not the last one
    cue = _CONCLUSION.match(intro)
    closes = _closes_sentence(tail)
    if closes and (_introduced(intro, head) or (cue and cue.end() == len(intro))):
        return sentence.values[first : last + 1]
    if cue is None:
        return ()
    first_value = sentence.values[answers[0]]
    plain_number = first_value.open == first_value.start and first_value.close == first_value.end
    if cue.end() == first_value.open - sentence.start and plain_number:
        return (first_value,)  # "Therefore, 20 workers are needed to ...": the counted subject is the answer
    if any(_denied(text, sentence, v) for v in sentence.values):
        return ()  # "must be at least 7 degrees to drink all 5 ounces": a bound, not a count of 5
    numeric = [sentence.values[i] for i in answers if sentence.values[i].numeric]
    return (numeric[0],) if len(numeric) == 1 and is_complete(text, sentence) else ()


def _states_another(text: str, sentence: Sentence, answers: list[int], first: int) -> bool:
    """An earlier value of the sentence is stated too, in a clause joined to the last one by "and",
    "while" or "but": "Nora is 18 years old now, and seven years ago she was 11"."""
    for i in answers:
        if i >= first:
            return False
        value = sentence.values[i]
        intro = text[max(sentence.start, value.open - 60) : value.open]
        if not value.numeric or not _AND_THEN.match(text, value.close, sentence.end):
            continue
        if _COPULA_END.search(intro) or _same_unit(text, sentence, value, sentence.values[answers[-1]]):
            return True
    return False


def _same_unit(text: str, sentence: Sentence, value: Value, last: Value) -> bool:
    """Two values with the same unit word, joined by "and": "the bus travels at 48 km/h and the car at
    72 km/h" states two speeds, not an answer of 72."""
    unit = _TAIL_WORD.match(text, value.close, sentence.end)
    last_unit = _TAIL_WORD.match(text, last.close, sentence.end)
    return bool(unit and last_unit and last is not value and unit.group(1) == last_unit.group(1))


def is_complete(text: str, sentence: Sentence) -> bool:
    """The sentence ends as a statement does, not cut off mid-way.

    With ".", "!" or a closing math delimiter, or with its last value ("I think it is 5"); "There are 6
    guests" without a full stop may be a restated question cut off, and states nothing.
    """
    body = text[sentence.start : sentence.end].rstrip(" \t\r\n*")
    if body.endswith((".", "!", "$", "\\)", "\\]")):
        return True
    return bool(sentence.values) and sentence.values[-1].close >= sentence.start + len(body)


def _closing_list(text: str, sents: list[Sentence]) -> Found:
    """A closing list of results after a colon: "Summary:\\n- \\(h(2) = 1\\)\\n- \\(h(8) = 4\\)"."""
    items: list[Value] = []
    for i in range(len(sents) - 1, 0, -1):
        item = sents[i]
        bullet = _BULLET.match(text, item.start, item.end)
        if not bullet or len(item.values) != 1 or len(items) >= _MAX_LIST:
            break
        value = item.values[0]
        if text[bullet.end() : value.open].strip() or text[value.close : item.end].strip(" \t\r\n.,;"):
            break
        items.append(value)
        if text[sents[i - 1].start : sents[i - 1].end].rstrip().endswith(":"):
            return values_found(text, tuple(reversed(items))) if len(items) > 1 else NONE
    return NONE


def leading_values(text: str, sentence: Sentence, start: int) -> tuple[Value, ...]:
    """The value (or list of values) ``sentence`` opens with at ``start``: "144 square units, since ..."."""
    values = sentence.values
    if not values or values[0].open != start or len(values) > _MAX_VALUES:
        return ()
    last = 0
    while last + 1 < len(values) and last < _MAX_LIST - 1:
        if not _LIST_JOINER.fullmatch(text, values[last].close, values[last + 1].open):
            break
        last += 1
    return values[: last + 1]


def answer_values(text: str, sentence: Sentence) -> tuple[Value, ...]:
    """The numeric values of ``sentence`` that are not conditions or context (candidates for its answer)."""
    if len(sentence.values) > _MAX_VALUES:
        return ()
    return tuple(v for v in sentence.values if v.numeric and not _ignorable(text, sentence, v))


def is_chatter(text: str, sentence: Sentence) -> bool:
    """A sentence that states no answer: no answer-like value ("I hope this helps!", "This holds for all
    \\(n > 4\\).") or a remark ("Note that the endpoints are attained at $x = 1$ and $x = 4$.")."""
    if _REMARK.match(text, sentence.start, sentence.end):
        return True
    if len(sentence.values) > _MAX_VALUES:
        return False
    return all(_ignorable(text, sentence, v, measures=False) for v in sentence.values)


def values_found(text: str, values: tuple[Value, ...]) -> Found:
    """A ``Found`` for the value(s) a sentence states, each without delimiters or a wrapping box.

    A bold "**10 digits**" states the number 10. A plain number that opens a number-word phrase
    states the phrase's quantity ("2 million" gives 2000000), or nothing when the phrase is no one
    value ("9 squared", "6 feet 3 inches"): its leading number is never the answer.
    """
    if len(values) == 1 and values[0].open == values[0].start:
        phrase = number_phrase(text, values[0].start, values[0].end)
        if phrase is not None:
            end, value = phrase
            if value is None:
                return Found(FormatStatus.EMPTY)
            return Found(FormatStatus.OK, values[0].start, end, value=value)
    parts = []
    for v in values:
        m = _BOLD_NUMBER_WITH_WORDS.match(text, v.start, v.end) if text.startswith("**", v.open) else None
        math = v.open != v.start and not text.startswith("**", v.open)
        inner = Found(FormatStatus.OK, *m.span(1)) if m else trim(text, v.start, v.end, in_math=math)
        if inner.ok and inner.start is not None and inner.end is not None:
            parts.append((inner.start, inner.end))
    if not parts:
        return Found(FormatStatus.EMPTY)
    found = Found(FormatStatus.OK, parts[0][0], parts[-1][1], parts=tuple(parts) if len(parts) > 1 else ())
    return with_results(text, found)  # "the factor is \\(4 \\times 9 \\times 7 = 252\\)" states 252


def closing_statement(text: str, end: int | None = None, *, start: int = 0) -> Found:
    """What the text's closing sentence states as its answer (method ``final_statement``).

    The closing sentence is the last one holding an answer-like value; sentences after it that hold
    none ("I hope this helps!", "This holds for all \\(n > 4\\).") are allowed up to
    ``_MAX_TRAILING_CHATTER`` characters. If it states no value there is no closing statement: an
    earlier sentence is never used, as it was not the text's last word.
    """
    end = len(text) if end is None else end
    if end - start > _WINDOW:  # begin the window at a line start so no math span is cut in two
        newline = text.find("\n", end - _WINDOW, end)
        start = newline + 1 if newline >= 0 else end - _WINDOW
    sents = sentences(text, start, end)
    listed = _closing_list(text, sents)
    if listed.ok:
        return listed._replace(marker=listed.start)  # type: ignore[arg-type]
    chatter = 0
    for sentence in reversed(sents):
        if is_chatter(text, sentence):
            chatter += sentence.end - sentence.start
            if chatter > _MAX_TRAILING_CHATTER:
                break
            continue
        stated = stated_values(text, sentence) if is_complete(text, sentence) else ()
        if not stated:
            break
        return values_found(text, stated)._replace(marker=sentence.start)
    return Found(FormatStatus.NO_ANSWER)
