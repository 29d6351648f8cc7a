"""A seeded, realistic mix of (completion, reference) pairs with known ground truth, for benchmarks.

References come from the local benchmark files (MATH500, Minerva, AIME, AMC, OlympiadBench,
GSM8K). For each pair we write a completion that ends in a boxed answer which is either an
equivalent rendering of the reference (truth = correct) or a perturbed one that changes its value
(truth = wrong), about half and half; about 5% are known hard cases on which widely used graders
fail (``HARD_CASES``). Most completions are chain-of-thought text of a few hundred words
with intermediate LaTeX, like real model output, so extraction cost is realistic too.

    from pairs import build_pairs  # with benchmarks/ on sys.path, as bench_verifier.py does
    pairs = build_pairs("../shared/benchmarks", n=1000, seed=0)
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from rlvr_eval.verifier.extract import last_boxed_content

__all__ = ["Pair", "build_pairs", "load_references"]

KINDS = ("integer", "fraction", "decimal", "expression", "structure", "text", "hard")


@dataclass(frozen=True)
class Pair:
    completion: str
    reference: str
    truth: bool  # does the completion's boxed answer equal the reference (by construction)?
    kind: str  # one of KINDS: what the reference looks like
    source: str  # benchmark the reference came from


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_references(data_dir: str | Path) -> list[tuple[str, str]]:
    """(source, reference answer) from every local benchmark that is present."""
    root = Path(data_dir)
    refs: list[tuple[str, str]] = []
    refs += [("math500", r["answer"]) for r in _read(root / "math500" / "test.jsonl")]
    for r in _read(root / "minerva_math" / "test.jsonl"):
        boxed = last_boxed_content(r["solution"])
        if boxed:
            refs.append(("minerva_math", boxed))
    for name in ("aime24", "aime25"):
        refs += [(name, str(r["answer"])) for r in _read(root / name / "test.jsonl")]
    for r in _read(root / "amc23" / "test.jsonl"):
        value = float(r["answer"])
        refs.append(("amc23", str(int(value)) if value.is_integer() else str(value)))
    for r in _read(root / "olympiadbench" / "test.jsonl"):
        if len(r["final_answer"]) == 1:
            refs.append(("olympiadbench", r["final_answer"][0].strip().strip("$").strip()))
    for r in _read(root / "gsm8k" / "test.jsonl")[:300]:
        refs.append(("gsm8k", r["answer"].split("####")[-1].strip().replace(",", "")))
    if not refs:
        raise FileNotFoundError(f"no benchmark data under {root} (expected <name>/test.jsonl files)")
    return refs


_INT_RE = re.compile(r"-?\d+")
_DEC_RE = re.compile(r"-?\d*\.\d+")
_FRAC_RE = re.compile(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")
_THOUSANDS_RE = re.compile(r"(?:\\\$)?\d{1,3}(?:,(?:\\!)?\s?\d{3})+(?:\.\d+)?")
#: Share of each kind in the mix (the natural mix is ~60% integers; this one exercises every path).
KIND_WEIGHTS = {"integer": 0.40, "fraction": 0.12, "decimal": 0.08, "expression": 0.22, "structure": 0.15,
                "text": 0.03}


def classify(ref: str) -> str:
    if _INT_RE.fullmatch(ref):
        return "integer"
    if _THOUSANDS_RE.fullmatch(ref):
        return "expression"  # 10,\!080: one number whose commas must not be respaced
    if _DEC_RE.fullmatch(ref):
        return "decimal"
    if _FRAC_RE.fullmatch(ref) or re.fullmatch(r"-?\d+/\d+", ref):
        return "fraction"
    if re.search(r"[(\[][^)\]]*,|\\\{|\\cup|,", ref):
        return "structure"
    if re.fullmatch(r"\\text\{[^{}]*\}|[A-Za-z ]{3,}", ref):
        return "text"
    return "expression"


def equivalent_form(ref: str, kind: str, rng: random.Random) -> str:
    """A rendering with the same value, as models write it (only transformations that are safe)."""
    roll = rng.random()
    if kind == "integer":
        n = int(ref)
        if roll < 0.1 and abs(n) >= 1000:
            return f"{n:,}"
        if roll < 0.2:
            return f"{n}.0"
        if roll < 0.3:
            return f"x = {n}"
        return ref
    if kind == "fraction":
        m = _FRAC_RE.fullmatch(ref)
        if m:
            sign, num, den = m.groups()
            if roll < 0.3:
                return f"{sign}\\dfrac{{{num}}}{{{den}}}"
            if roll < 0.5:
                return f"{sign}{num}/{den}"
            value = Fraction(int(num), int(den))
            if roll < 0.65 and value.denominator in (2, 4, 5, 8, 10, 20, 25, 50):
                return f"{sign}{float(value):g}"
        return ref
    if kind == "decimal":
        return ref + "0" if roll < 0.3 else ref
    if kind == "text":
        return f"\\text{{{ref}}}" if roll < 0.3 and "\\text" not in ref else ref
    # expressions and structures: only spacing and \dfrac, which never change a value
    if _THOUSANDS_RE.fullmatch(ref):
        return ref
    if roll < 0.25:
        return ref.replace("\\frac", "\\dfrac")
    if roll < 0.4:
        return ref.replace(",", ", ").replace("  ", " ")
    return ref


def perturb(ref: str, kind: str, rng: random.Random, pool: list[str]) -> str:
    """A plausible wrong answer: change one number (so the value changes), else another reference."""
    if kind == "integer":
        n = int(ref)
        wrong = n + rng.choice([-10, -2, -1, 1, 2, 10]) if rng.random() < 0.8 else 2 * n + 1
        return str(wrong if wrong != n else n + 1)  # 2n+1 == n when n == -1
    digits = [m.start() for m in re.finditer(r"\d", ref)]
    if digits:
        i = rng.choice(digits)
        leading = (i == 0 or not ref[i - 1].isdigit()) and i + 1 < len(ref) and ref[i + 1].isdigit()
        # no new leading zero ("05" can read as the same number as "5")
        new = rng.choice([d for d in ("123456789" if leading else "0123456789") if d != ref[i]])
        return ref[:i] + new + ref[i + 1 :]
    others = [p for p in pool if p != ref]
    return rng.choice(others)


#: Known defects of widely used graders (REFERENCE.md section 4) as (answer, reference, truth):
#: a small share of the mix, so the agreement statistics are not only about easy digit swaps.
HARD_CASES: list[tuple[str, str, bool]] = [
    ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}", False),
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}", False),
    ("0.0000001", "0.0000002", False),
    ("1-\\frac{1}{e}", "1+\\frac{1}{e}", False),
    ("2", "200", False),
    ("10001", "10000", False),
    ("(1,2)", "[1,2]", False),
    ("a+b", "b", False),
    ("12.7", "12.8", False),
    ("\\frac{5}{6}.", "\\frac{5}{6}", True),
    ("10{,}000", "10000", True),
    ("\\sqrt{1/n}", "\\frac{1}{\\sqrt{n}}", True),
    ("w=16, d=3", "(16,3)", True),
    ("12^{\\mathrm{th}}", "12", True),
    ("f(x)=x", "f(z)=z", True),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", True),
    ("0.5", "\\frac{1}{2}", True),
    ("x \\in [2, 5)", "[2,5)", True),
    ("2\\sqrt{2}", "\\sqrt{8}", True),
    ("(x+1)^{2}", "x^2+2x+1", True),
]
HARD_SHARE = 0.05

_PROSE = [
    "Let's think step by step.",
    "We start by writing down what the problem gives us.",
    "This is a standard setup, so we can use the usual approach.",
    "Now we need to be careful with the signs here.",
    "Let me double-check this computation before moving on.",
    "Notice that the expression is symmetric, which simplifies the work.",
    "We consider the two cases separately.",
    "Combining the results of both cases gives the total.",
    "It remains to verify that this value satisfies the original condition.",
    "Plugging it back in confirms that it works.",
]


def _math_sentence(rng: random.Random) -> str:
    a, b, c = rng.randint(2, 19), rng.randint(1, 30), rng.randint(2, 12)
    templates = [
        f"From the equation ${a}x + {b} = {a * c + b}$ we get $x = {c}$.",
        f"Substituting gives $({a})^2 + {b} = {a * a + b}$.",
        f"We can simplify \\[\\frac{{{a * c}}}{{{c}}} = {a}.\\]",
        f"By the Pythagorean theorem, $\\sqrt{{{a}^2 + {b}^2}} = \\sqrt{{{a * a + b * b}}}$.",
        f"So the sum is $\\sum_{{k=1}}^{{{c}}} k = \\frac{{{c}({c}+1)}}{{2}} = {c * (c + 1) // 2}$.",
        f"Then $\\left(\\frac{{{a}}}{{{b}}}\\right)^{{2}} = \\frac{{{a * a}}}{{{b * b}}}$.",
        f"The discriminant is $b^2 - 4ac = {b}^2 - 4 \\cdot {a} \\cdot {c} = {b * b - 4 * a * c}$.",
        f"Hence $\\binom{{{c + 2}}}{{2}} = {(c + 2) * (c + 1) // 2}$ ways.",
    ]
    return rng.choice(templates)


def chain_of_thought(rng: random.Random, answer: str, words: int) -> str:
    """Reasoning text of about `words` words with intermediate LaTeX, ending in the boxed answer."""
    parts: list[str] = []
    count = 0
    while count < words:
        sentence = _math_sentence(rng) if rng.random() < 0.45 else rng.choice(_PROSE)
        parts.append(sentence)
        count += len(sentence.split())
        if rng.random() < 0.15:
            parts.append("\n\n")
    ending = rng.choice(
        [
            f"Therefore, the final answer is $\\boxed{{{answer}}}$.",
            f"So the answer is \\[\\boxed{{{answer}}}\\]",
            f"Thus we obtain $\\boxed{{{answer}}}$.",
        ]
    )
    return " ".join(parts) + "\n\n" + ending


def build_pairs(data_dir: str | Path, n: int = 1000, seed: int = 0) -> list[Pair]:
    """`n` pairs, half correct and half wrong, drawn with a fixed seed from the local references."""
    rng = random.Random(seed)
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for source, ref in sorted(set(load_references(data_dir))):
        by_kind.setdefault(classify(ref), []).append((source, ref))
    kinds = [k for k in KIND_WEIGHTS if k in by_kind]
    weights = [KIND_WEIGHTS[k] for k in kinds]
    pairs: list[Pair] = []
    for k in range(n):
        if rng.random() < HARD_SHARE:
            answer, ref, truth = rng.choice(HARD_CASES)
            kind, source = "hard", "REFERENCE.md"
        else:
            kind = rng.choices(kinds, weights)[0]
            source, ref = rng.choice(by_kind[kind])
            truth = k % 2 == 0
            pool = [r for _, r in by_kind[kind]]
            answer = equivalent_form(ref, kind, rng) if truth else perturb(ref, kind, rng, pool)
        words = rng.choice([150, 250, 400])
        if rng.random() < 0.2:  # some terse completions
            completion = f"The answer is $\\boxed{{{answer}}}$."
        else:
            completion = chain_of_thought(rng, answer, words)
        pairs.append(Pair(completion, ref, truth, kind, source))
    return pairs
