"""Benchmark registry: one adapter module per benchmark, all registered in ``TASKS``.

``get_task("math500")`` builds a registered task; keyword arguments override its fields
(``get_task("aime24", default_n=16)``). ``get_task("jsonl:my.jsonl", question_field="problem",
answer_field="answer")`` wraps a user's own file (see ``rlvr_eval.tasks.jsonl_task``).

``expand_task_names`` reads task lists the way lm-eval and lighteval users type them: commas or
spaces (``math500,gsm8k``, ``"math500 gsm8k"``), repeated flags, and the groups in ``TASK_GROUPS``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from rlvr_eval.tasks import aime24, aime25, amc23, arc, gsm8k, math500, minerva_math, olympiadbench
from rlvr_eval.tasks.base import Item, Task, TaskDataError

__all__ = [
    "PAPER_MATH_TASKS",
    "TASKS",
    "TASK_GROUPS",
    "Item",
    "Task",
    "TaskDataError",
    "UnknownTaskError",
    "expand_task_names",
    "get_task",
    "task_names",
]

TASKS: dict[str, Callable[[], Task]] = {
    "math500": math500.task,
    "aime24": aime24.task,
    "amc23": amc23.task,
    "minerva_math": minerva_math.task,
    "olympiadbench": olympiadbench.task,
    "aime25": aime25.task,
    "gsm8k": gsm8k.task,
    "arc_easy": partial(arc.task, "easy"),
    "arc_challenge": partial(arc.task, "challenge"),
}

# The six math benchmarks of the 1-shot RLVR paper (arXiv 2504.20571), in its table's column order.
PAPER_MATH_TASKS = ("math500", "aime24", "amc23", "minerva_math", "olympiadbench", "aime25")

# Names that stand for several tasks on any --tasks flag (lm-eval calls these groups).
TASK_GROUPS: dict[str, tuple[str, ...]] = {
    "paper": PAPER_MATH_TASKS,
    "all": tuple(TASKS),  # registry order: the paper's six first, as report columns are
}

JSONL_PREFIX = "jsonl:"
_SEPARATORS = re.compile(r"[,\s]+")


class UnknownTaskError(KeyError):
    """No task of that name; a KeyError whose message prints without KeyError's extra quotes."""

    def __str__(self) -> str:
        return str(self.args[0])


def task_names() -> list[str]:
    return sorted(TASKS)


def _valid_names() -> str:
    groups = ", ".join(f"{g} ({' '.join(m)})" if g != "all" else g for g, m in TASK_GROUPS.items())
    return f"tasks: {', '.join(task_names())}; groups: {groups}; or jsonl:PATH"


def expand_task_names(specs: str | Iterable[str]) -> list[str]:
    """Task names from what a user typed: split at commas and spaces, groups expanded, repeats dropped.

    ``["math500,gsm8k", "paper"]`` -> math500, gsm8k, then the paper's other five. A ``jsonl:PATH``
    spec naming an existing file is kept whole (its path may contain a comma or a space). Unknown
    names raise ``UnknownTaskError`` listing every valid name and group; nothing at all is an error too.
    """
    names: list[str] = []
    for spec in [specs] if isinstance(specs, str) else specs:
        spec = spec.strip()
        whole_file = spec.startswith(JSONL_PREFIX) and Path(spec[len(JSONL_PREFIX) :]).expanduser().is_file()
        for name in [spec] if whole_file else _SEPARATORS.split(spec):
            if name in TASK_GROUPS:
                names.extend(TASK_GROUPS[name])
            elif name in TASKS or name.startswith(JSONL_PREFIX):
                names.append(name)
            elif name:
                raise UnknownTaskError(f"unknown task {name!r}; valid {_valid_names()}")
    if not names:
        raise UnknownTaskError(f"no task given; valid {_valid_names()}")
    return list(dict.fromkeys(names))


def get_task(name: str, **kwargs: Any) -> Task:
    """Build a task by name, or from ``jsonl:PATH``; kwargs override Task fields (or configure jsonl)."""
    if name.startswith(JSONL_PREFIX):
        from rlvr_eval.tasks.jsonl_task import jsonl_task

        return jsonl_task(name[len(JSONL_PREFIX) :], **kwargs)
    factory = TASKS.get(name)
    if factory is None:
        raise UnknownTaskError(f"unknown task {name!r}; valid {_valid_names()}")
    task = factory()
    fields = {f.name for f in dataclasses.fields(Task)} - {"name", "row_to_item"}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        allowed = ", ".join(sorted(fields))
        raise TypeError(f"get_task({name!r}): unknown option(s) {', '.join(unknown)}; allowed: {allowed}")
    return dataclasses.replace(task, **kwargs) if kwargs else task
