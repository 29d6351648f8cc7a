"""Benchmark registry: one adapter module per benchmark, all registered in ``TASKS``.

``get_task("math500")`` builds a registered task; keyword arguments override its fields
(``get_task("aime24", default_n=16)``). ``get_task("jsonl:my.jsonl", question_field="problem",
answer_field="answer")`` wraps a user's own file (see ``rlvr_eval.tasks.jsonl_task``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

from rlvr_eval.tasks import aime24, aime25, amc23, arc, gsm8k, math500, minerva_math, olympiadbench
from rlvr_eval.tasks.base import Item, Task, TaskDataError

__all__ = [
    "PAPER_MATH_TASKS",
    "TASKS",
    "Item",
    "Task",
    "TaskDataError",
    "UnknownTaskError",
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

JSONL_PREFIX = "jsonl:"


class UnknownTaskError(KeyError):
    """No task of that name; a KeyError whose message prints without KeyError's extra quotes."""

    def __str__(self) -> str:
        return str(self.args[0])


def task_names() -> list[str]:
    return sorted(TASKS)


def get_task(name: str, **kwargs: Any) -> Task:
    """Build a task by name, or from ``jsonl:PATH``; kwargs override Task fields (or configure jsonl)."""
    if name.startswith(JSONL_PREFIX):
        from rlvr_eval.tasks.jsonl_task import jsonl_task

        return jsonl_task(name[len(JSONL_PREFIX) :], **kwargs)
    factory = TASKS.get(name)
    if factory is None:
        known = ", ".join(task_names())
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {known}, or jsonl:PATH")
    task = factory()
    fields = {f.name for f in dataclasses.fields(Task)} - {"name", "row_to_item"}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        allowed = ", ".join(sorted(fields))
        raise TypeError(f"get_task({name!r}): unknown option(s) {', '.join(unknown)}; allowed: {allowed}")
    return dataclasses.replace(task, **kwargs) if kwargs else task
