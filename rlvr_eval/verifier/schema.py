"""Result types of the verifier: what was extracted (format) and whether it matches (content).

Format and content are kept apart on purpose: the 1-shot RLVR paper (arXiv 2504.20571)
shows that much of RLVR's gain is format correction, so every verdict says both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AnswerFormat = Literal["boxed", "final_answer", "answer_colon", "gsm8k", "multiple_choice", "answer_tag"]
"""Where a completion was asked to put its final answer.

- ``boxed``: the last ``\\boxed{...}`` / ``\\fbox{...}`` (the paper's training and eval prompts); boxes
  joined in one sentence ("\\boxed{-3} and \\boxed{8}") are one multi-part answer.
- ``final_answer``: "The final answer is ..." (Minerva / Llama style).
- ``answer_colon``: a line "Answer: ...".
- ``gsm8k``: ``#### 42``.
- ``multiple_choice``: a choice letter, e.g. "(B)", ``\\boxed{B}``, "The answer is B" (ARC).
- ``answer_tag``: ``<answer> ... </answer>`` (the DeepSeek-R1-Zero ``r1`` template).
"""

ExtractionMethod = Literal[
    "requested", "boxed", "answer_tag", "answer_phrase", "final_statement", "last_number", "none"
]
"""How an answer was found: in the requested format, or by a step of the lenient chain.

- ``requested``: in the requested answer format (the only method of strict extraction).
- ``boxed`` / ``answer_tag`` / ``answer_phrase``: lenient, an explicit answer in another format
  ("The final answer is ...", "Answer:", "####", a closing "A:" line).
- ``final_statement``: lenient, the value the text's closing sentence states ("Hence the interval is
  $[2, 9)$.").
- ``last_number``: lenient, the last standalone number (only with ``lenient_fallback="last_number"``).
- ``none``: no answer.
"""

LenientFallback = Literal["none", "last_number"]
"""What lenient extraction does when the text states no answer (no box, tag, phrase or closing statement).

- ``none`` (default): nothing is extracted; only an answer the text states as its answer is credited.
- ``last_number``: the last number in the text, as the paper's evaluation harness does (to reproduce it).
"""

AnswerType = Literal[
    "auto", "numeric", "expression", "equation", "interval", "tuple", "set", "matrix", "text", "choice"
]
"""What kind of object the reference is; ``auto`` infers it from the reference text."""


class FormatStatus(str, Enum):
    """Outcome of the format layer (extraction)."""

    OK = "ok"  # the requested format was found and holds a non-empty answer
    NO_ANSWER = "no_answer"  # the requested format is absent (a fallback may still have found one)
    EMPTY = "empty"  # the requested format is present but empty, e.g. ``\boxed{}``
    UNBALANCED = "unbalanced"  # e.g. ``\boxed{12`` with no closing brace
    TRUNCATED = "truncated"  # generation hit the length limit (finish_reason="length")


class ContentStatus(str, Enum):
    """Outcome of the content layer (equivalence)."""

    EQUAL = "equal"
    DIFFERENT = "different"
    UNPARSEABLE = "unparseable"  # the answer (or reference) could not be understood
    TIMEOUT = "timeout"  # comparison did not finish within its time budget
    NOT_CHECKED = "not_checked"  # no answer could be extracted at all


class EquivalenceOptions(BaseModel):
    """Options of the content layer; frozen so it can key caches and cross process boundaries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_type: AnswerType = Field("auto", description="Kind of the reference; auto infers it.")
    rel_tol: float | None = Field(
        None,
        description="Relative tolerance for numbers. None: exact (see rounded_reference for decimals).",
    )
    rounded_reference: bool = Field(
        False,
        description="A decimal reference is a rounded value, so an answer that agrees to its shown "
        "precision is right (ref 3.16 accepts 3.162). Set when the question asks to round or estimate "
        "(verify reads the question) or the task's references are rounded (Minerva's significant "
        "figures). Off: a decimal reference is exact (ref 4.5 rejects 4.54).",
    )
    multiple_answers: bool = Field(
        False,
        description="The reference lists several answers (OlympiadBench); all must be given, in any order.",
    )
    ordered: bool = Field(
        False,
        description="A list of answers must come in the reference's order (the question names the values "
        "it wants in order: 'Find T(10), T(11) and T(12)'); verify sets it from the question.",
    )
    unit: str | None = Field(
        None, description="Unit the reference is expressed in; stripped from the answer."
    )
    choices: tuple[str, ...] | None = Field(
        None, description="Choice labels for multiple-choice items, e.g. A-D."
    )


class Extraction(BaseModel):
    """What the format layer pulled out of a completion."""

    model_config = ConfigDict(frozen=True)

    answer: str | None = Field(
        description="Extracted answer text (raw, not normalized); None if nothing found."
    )
    format: FormatStatus = Field(description="Status of the *requested* format.")
    method: ExtractionMethod = Field(
        description="How `answer` was found: in the requested format, or by a step of the lenient chain."
    )
    start: int | None = Field(None, description="Character offset of the answer in the completion.")
    end: int | None = Field(None, description="End offset (exclusive) of the answer in the completion.")
    parts: tuple[str, ...] = Field(
        (),
        description="The parts of a multi-part answer (two or more boxes or math spans given together, "
        "e.g. \\boxed{-3} and \\boxed{8}); `answer` is then the parts joined by ', '. Empty for one answer.",
    )

    @property
    def format_ok(self) -> bool:
        return self.format is FormatStatus.OK

    @property
    def multi_part(self) -> bool:
        """The completion gave its answer in several parts (read them as a list)."""
        return len(self.parts) > 1


def format_ok(extraction: Extraction, *, strict: bool) -> bool:
    """THE evaluation format rule (`Verdict.format_ok`): the requested format holds an answer and the
    generation was not truncated; with ``strict=False`` any answer the lenient chain found counts."""
    return extraction.format is FormatStatus.OK if strict else extraction.answer is not None


class Verdict(BaseModel):
    """The verifier's full judgement of one completion against its reference.

    ``correct`` requires both layers: the requested format is ok *and* the content is equal.
    ``content`` is computed even when the format failed (on the lenient fallback answer), so
    ``content == EQUAL`` is the lenient score and ``correct`` the strict one.
    """

    model_config = ConfigDict(frozen=True)

    correct: bool
    format: FormatStatus
    format_ok: bool
    extracted: str | None
    extraction_method: ExtractionMethod = "none"
    content: ContentStatus
    reward: float
    reason: str = ""
    answer_present: bool | None = Field(
        None,
        description="The reference is stated somewhere in the completion (any box, math span, answer phrase "
        "or stated value; `presence.answer_present`), even where the final answer is wrong or missing. "
        "None: not checked (the request did not ask, or the check was cut off).",
    )

    @property
    def lenient_correct(self) -> bool:
        """Any extractable answer equals the reference, whatever the format."""
        return self.content is ContentStatus.EQUAL

    @property
    def answered_in_format(self) -> bool:
        """The requested format holds a non-empty answer, even if generation ran on (truncated) after it.

        This is the format condition of the paper's training reward (the last box of the decoded
        response counts whatever the finish reason); ``format_ok`` is the stricter evaluation
        condition (not truncated, or any lenient answer when ``strict=False``, see `format_ok`).
        """
        return self.extraction_method == "requested" and bool(self.extracted)


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    """One completion to grade with everything the verifier needs: what `verify_batch` sends to its
    workers (a Verdict comes back) and what ``rlvr-eval``'s runner builds for every sample.

    A slotted dataclass, not a pydantic model: a rescore builds 100,000 of them.
    """

    completion: str
    reference: str | list[str]
    answer_format: AnswerFormat = "boxed"
    options: EquivalenceOptions | None = None
    finish_reason: str | None = None
    prompt: str | None = None  # the question: an answer that only restates one of its expressions fails
    strict: bool = True
    timeout: float = 3.0  # seconds for the symbolic comparison of this item
    lenient_fallback: LenientFallback = "none"
    # Also compute Verdict.answer_present (costs a scan of every stated answer): on for rlvr-eval runs,
    # off for training rewards and reward servers, where only the final answer matters.
    check_answer_present: bool = False
