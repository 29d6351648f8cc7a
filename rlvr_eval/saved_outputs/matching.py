"""Match other tools' rows to benchmark items: by id where the row has one, else by question text.

Order of trust for one row:

1. ``item_id`` (rlvr's item id space), then ``position`` (the row of the benchmark's test.jsonl), each
   only if the row's question, when it has one, agrees with that item's;
2. the normalised question equal to one item's;
3. the normalised question (or prompt) containing an item's question (a prompt template around it,
   OlympiadBench's shared context...) or contained in it; the longest such item question wins.

Normalisation ignores case, all whitespace, LaTeX spacing commands and ``$``: tools re-wrap and
re-space questions but rarely change their words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from rlvr_eval.saved_outputs.rows import OutputRow
from rlvr_eval.tasks import Item

_LATEX_SPACING = re.compile(r"\\(?:,|;|:|!|quad\b|qquad\b| )|~")
_HARNESS_SUFFIX = re.compile(r"\((?:trueorfalse|yesorno)\)$")  # the Qwen harness appends these
_MIN_CONTAINED = 24  # a fragment shorter than this (normalised) is too weak to match by containment


def normalize_question(text: str) -> str:
    """Lower-cased question without whitespace, LaTeX spacing or ``$``, for matching only."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _LATEX_SPACING.sub("", text).replace("$", "")
    text = "".join(text.split())
    return _HARNESS_SUFFIX.sub("", text)


class ItemMatcher:
    """Resolves rows to the items of one benchmark."""

    def __init__(self, items: Sequence[Item]) -> None:
        self.items = list(items)
        self.by_id = {item.id: item for item in self.items}
        self.index_of = {item.id: index for index, item in enumerate(self.items)}
        self.normalized = [normalize_question(item.question) for item in self.items]
        self.by_question: dict[str, list[int]] = defaultdict(list)
        for index, text in enumerate(self.normalized):
            self.by_question[text].append(index)

    def match(self, row: OutputRow) -> Item | None:
        """The item ``row`` answers, or None when nothing matches unambiguously."""
        texts = [normalize_question(t) for t in (row.question, row.prompt) if t]
        by_id = self.by_id.get(row.item_id) if row.item_id is not None else None
        by_position = self._at(row.position)
        for candidate in (by_id, by_position):
            if candidate is not None and (not texts or self._agrees(texts, candidate)):
                return candidate
        for text in texts:
            exact = self.by_question.get(text, [])
            if len(exact) == 1:  # several equal questions: only an id or row number (above) can choose
                return self.items[exact[0]]
        for text in texts:
            found = self._containing(text)
            if found is not None:
                return found
        return None

    def _at(self, position: int | None) -> Item | None:
        if position is None or not 0 <= position < len(self.items):
            return None
        return self.items[position]

    def _index(self, item: Item) -> int:
        return self.index_of[item.id]

    def _agrees(self, texts: list[str], item: Item) -> bool:
        own = self.normalized[self._index(item)]
        return any(t == own or (own in t) or (len(t) >= _MIN_CONTAINED and t in own) for t in texts)

    def _containing(self, text: str) -> Item | None:
        """The item whose question sits inside ``text`` (or holds it); the most specific one wins."""
        hits = [
            i for i, own in enumerate(self.normalized)
            if (len(own) >= _MIN_CONTAINED and own in text) or (len(text) >= _MIN_CONTAINED and text in own)
        ]
        if not hits:
            return None
        longest = max(len(self.normalized[i]) for i in hits)
        best = [i for i in hits if len(self.normalized[i]) == longest]
        return self.items[best[0]] if len(best) == 1 else None
