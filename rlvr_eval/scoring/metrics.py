"""Pure metric functions: avg@k, unbiased pass@k, maj@k, bootstrap CI, format vs content, loops.

Everything here is a plain function of records or numbers (no I/O), so each metric is tested
against hand-computed values. ``summarize_task`` assembles them into a ``TaskMetrics``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from rlvr_eval.scoring.records import SampleRecord, ScoreMode, items_digest
from rlvr_eval.scoring.results import GroupScore, TaskMetrics
from rlvr_eval.verifier.schema import ContentStatus

# ---------------------------------------------------------------- sampling metrics


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one item with ``c`` correct among ``n`` samples (Chen et al. 2021, eq. 1).

    ``1 - C(n-c, k) / C(n, k)``, computed as a running product so large ``n`` cannot overflow.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(correct_per_item: Sequence[Sequence[bool]], k: int) -> float:
    """Mean unbiased pass@k over items; every item needs at least ``k`` samples."""
    if not correct_per_item:
        return 0.0
    return sum(pass_at_k(len(s), sum(s), k) for s in correct_per_item) / len(correct_per_item)


def avg_at_k(correct_per_item: Sequence[Sequence[bool]]) -> float:
    """avg@k: the mean over items of the per-item mean accuracy (the paper's AIME/AMC score)."""
    per_item = [sum(s) / len(s) for s in correct_per_item if s]
    return sum(per_item) / len(per_item) if per_item else 0.0


def pass_k_values(n: int) -> list[int]:
    """The k reported for pass@k with ``n`` samples: 1, 2, 4, ... up to n, and n itself."""
    ks = [1]
    while ks[-1] * 2 <= n:
        ks.append(ks[-1] * 2)
    if ks[-1] != n:
        ks.append(n)
    return ks


_SPACE_RE = re.compile(r"\s+")
_VOTE_STRIP = ("\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "$")


@functools.lru_cache(maxsize=1 << 16)
def vote_key(answer: str) -> str:
    """Cheap normalization so trivially different spellings of one answer vote together.

    Exact numbers map to a canonical fraction (``0.5``, ``1/2`` and ``\\frac{1}{2}`` agree); other
    answers are compared after removing spacing and LaTeX sizing commands. Not a grader: maj@k's
    winner is still graded by its verdict.
    """
    text = answer.strip()
    for token in _VOTE_STRIP:
        text = text.replace(token, "")
    text = _SPACE_RE.sub("", text).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").rstrip(".")
    frac = re.fullmatch(r"(-?)\\frac\{(\d{1,30})\}\{(\d{1,30})\}", text)
    candidate = f"{frac.group(1)}{frac.group(2)}/{frac.group(3)}" if frac else text
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", candidate):  # thousands separators, not a list
        candidate = candidate.replace(",", "")
    if re.fullmatch(r"-?\d{1,30}(\.\d{1,30})?(/\d{1,30})?", candidate):
        try:
            return str(Fraction(candidate))
        except (ValueError, ZeroDivisionError):
            return text
    return text


def majority_correct(
    answers: Sequence[str | None], correct: Sequence[bool], key: Callable[[str], Hashable] = vote_key
) -> bool:
    """maj@k of one item: is the most common extracted answer correct?

    Samples without an answer do not vote. Ties go to the answer that appeared first, so the
    result does not depend on hash order. The winner's correctness is that of its first sample.
    """
    if len(answers) != len(correct):
        raise ValueError("answers and correct must have the same length")
    counts: Counter[Hashable] = Counter()
    first: dict[Hashable, int] = {}
    for i, ans in enumerate(answers):
        if ans is None:
            continue
        k = key(ans)
        counts[k] += 1
        first.setdefault(k, i)
    if not counts:
        return False
    winner = max(counts, key=lambda k: (counts[k], -first[k]))
    return bool(correct[first[winner]])


def bootstrap_ci(
    values: Sequence[float], *, confidence: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of per-item ``values``.

    Items (not samples) are resampled, since samples of one item are correlated. The same seed
    gives the same interval.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    # Resample in blocks so 100k items x 1000 resamples never materialises at once.
    block = max(1, 2_000_000 // arr.size)
    for start in range(0, n_resamples, block):
        stop = min(n_resamples, start + block)
        idx = rng.integers(0, arr.size, size=(stop - start, arr.size))
        means[start:stop] = arr[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(low), float(high))


# ---------------------------------------------------------------- repetition


_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def _periodic_tail(seq: Sequence[Hashable], max_period: int, min_repeats: int, min_span: int) -> bool:
    """True if the end of ``seq`` is one unit of length <= max_period repeated >= min_repeats times."""
    n = len(seq)
    for period in range(1, min(max_period, n // min_repeats) + 1):
        run = 0  # number of trailing positions i with seq[i] == seq[i - period]
        i = n - 1
        while i >= period and seq[i] == seq[i - period]:
            run += 1
            i -= 1
        span = run + period
        if span >= period * min_repeats and span >= min_span:
            return True
    return False


@functools.lru_cache(maxsize=1024)  # metrics and the HTML report both ask about the same completions
def has_repeated_tail(
    text: str,
    *,
    max_period: int = 64,
    min_repeats: int = 3,
    min_span_tokens: int = 24,
    window_tokens: int = 600,
) -> bool:
    """Detect a completion that ends in a loop: its tail is one n-gram (n <= max_period) repeated.

    Works on word/punctuation tokens of the last ``window_tokens`` tokens, then on characters of the
    tail for loops without token boundaries (e.g. ``0000...``). Linear in the window size per period.
    """
    tail = text[-max(8_000, 16 * window_tokens) :]  # enough characters for window_tokens tokens
    tokens = _TOKEN_RE.findall(tail)
    if len(tail) < len(text):
        tokens = tokens[1:]  # slicing the text may have cut the first token in half
    tokens = tokens[-window_tokens:]
    # The length limit may cut the last token in half ("... the ar"), so also try without it.
    for seq in (tokens, tokens[:-1]):
        if _periodic_tail(seq, max_period, min_repeats, min_span_tokens):
            return True
    chars = tail[-800:].rstrip()
    return _periodic_tail(chars, 40, max(min_repeats, 4), 80)


def is_repetition_loop(record: SampleRecord) -> bool:
    """A completion that loops until the length limit: truncated AND ending in a repeated n-gram."""
    return record.truncated and has_repeated_tail(record.completion)


# ---------------------------------------------------------------- format vs content


def _mean(flags: Sequence[bool] | Sequence[float]) -> float:
    return float(sum(flags)) / len(flags) if flags else 0.0


def format_content_split(records: Sequence[SampleRecord]) -> dict[str, float | None]:
    """Split accuracy into format and content over all samples (each sample counts once).

    - strict: requested format ok and content equal; lenient: content equal whatever the format;
    - format_rate: requested format ok; content_accuracy_formatted: strict accuracy among those;
    - truncation_rate: hit the length limit; repetition_rate: hit it while looping;
    - answer_present_rate: the reference is stated somewhere in the completion (`Verdict.answer_present`),
      right final answer or not; None if no sample was checked (samples saved before rlvr checked it).
    """
    n = strict = lenient = formatted = truncated = looping = present = checked = 0
    for r in records:  # one pass: this runs over every sample of a 100k-sample rescore
        v = r.verdict
        n += 1
        strict += v.correct
        lenient += v.content is ContentStatus.EQUAL
        formatted += v.format_ok
        if v.answer_present is not None:
            checked += 1
            present += v.answer_present
        if r.truncated:
            truncated += 1
            looping += has_repeated_tail(r.completion)
    if n == 0:
        unmeasured = {"content_accuracy_formatted": None, "answer_present_rate": None}
        return dict.fromkeys(_SPLIT_KEYS, 0.0) | unmeasured
    # content_accuracy_formatted: strict needs format ok, so strict / formatted is accuracy among them
    return {
        "strict_accuracy": strict / n,
        "lenient_accuracy": lenient / n,
        "format_rate": formatted / n,
        "content_accuracy_formatted": strict / formatted if formatted else None,
        "truncation_rate": truncated / n,
        "repetition_rate": looping / n,
        # over all samples: one whose check was cut off (None among checked ones) counts as not present
        "answer_present_rate": present / n if checked else None,
    }


_SPLIT_KEYS = ("strict_accuracy", "lenient_accuracy", "format_rate", "truncation_rate", "repetition_rate")


def group_by_item(records: Sequence[SampleRecord]) -> dict[str, list[SampleRecord]]:
    """Records per item id, each list sorted by sample index; item order is first appearance."""
    groups: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in records:
        groups[r.item_id].append(r)
    for samples in groups.values():
        samples.sort(key=lambda r: r.sample_index)
    return dict(groups)


def breakdown(
    records: Sequence[SampleRecord], field: str, mode: ScoreMode = "lenient"
) -> dict[str, GroupScore]:
    """Accuracy per value of ``metadata[field]`` (e.g. MATH500 subject or level), sorted by value."""
    return _breakdown_items(_item_scores(group_by_item(records)), field, mode)


class _ItemScore(NamedTuple):
    metadata: dict
    strict: float  # mean over the item's samples
    lenient: float


def _item_scores(items: Mapping[str, Sequence[SampleRecord]]) -> list[_ItemScore]:
    out = []
    for samples in items.values():
        k = len(samples)
        strict = sum(s.verdict.correct for s in samples) / k
        lenient = sum(s.verdict.content is ContentStatus.EQUAL for s in samples) / k
        out.append(_ItemScore(samples[0].metadata, strict, lenient))
    return out


def _breakdown_items(items: Sequence[_ItemScore], field: str, mode: ScoreMode) -> dict[str, GroupScore]:
    """Group item-level scores by a metadata field (cheap: one entry per item, not per sample)."""
    by_value: dict[str, list[_ItemScore]] = defaultdict(list)
    for item in items:
        if item.metadata.get(field) is not None:
            by_value[str(item.metadata[field])].append(item)
    out: dict[str, GroupScore] = {}
    for value in sorted(by_value, key=_natural_key):
        group = by_value[value]
        strict = sum(i.strict for i in group) / len(group)
        lenient = sum(i.lenient for i in group) / len(group)
        out[value] = GroupScore(
            n_items=len(group),
            accuracy=strict if mode == "strict" else lenient,
            strict_accuracy=strict,
            lenient_accuracy=lenient,
        )
    return out


def _natural_key(text: str) -> tuple[int, float | str]:
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


BREAKDOWN_FIELDS: Mapping[str, tuple[str, ...]] = {"math500": ("subject", "level")}
"""Which metadata fields each benchmark is broken down by."""


def summarize_task(
    task: str,
    records: Sequence[SampleRecord],
    *,
    mode: ScoreMode = "lenient",
    seed: int = 0,
    n_resamples: int = 1000,
    breakdown_fields: Sequence[str] | None = None,
) -> TaskMetrics:
    """All metrics of one benchmark from its records (one record per item and sample)."""
    items = group_by_item(records)
    correct = [[s.is_correct(mode) for s in samples] for samples in items.values()]
    k = min((len(c) for c in correct), default=0)
    per_item = [sum(c) / len(c) for c in correct]
    low, high = bootstrap_ci(per_item, n_resamples=n_resamples, seed=seed)
    maj = None
    if k > 1:
        votes = [
            majority_correct([s.verdict.extracted for s in samples], flags)
            for samples, flags in zip(items.values(), correct, strict=True)
        ]
        maj = _mean(votes)
    tokens = [r.num_tokens for r in records if r.num_tokens is not None]
    split = format_content_split(records)
    fields = BREAKDOWN_FIELDS.get(task, ()) if breakdown_fields is None else breakdown_fields
    item_scores = _item_scores(items) if fields else []
    return TaskMetrics(
        task=task,
        n_items=len(items),
        n_samples=k,
        score_mode=mode,
        score=avg_at_k(correct),
        ci_low=low,
        ci_high=high,
        pass_at_k={kk: mean_pass_at_k(correct, kk) for kk in pass_k_values(k)} if k else {},
        maj_at_k=maj,
        mean_tokens=(sum(tokens) / len(tokens)) if tokens else None,
        breakdown={f: _breakdown_items(item_scores, f, mode) for f in fields} if fields else {},
        items_digest=items_digest(records),
        **split,
    )
