"""Command-line flags generated from a pydantic config's fields, so flags and help cannot drift from it.

Each field ``some_name`` becomes ``--some-name`` with its description as help: ``bool`` fields get
``--x/--no-x``, ``Literal`` fields their choices, tuples ``nargs=len``, lists ``nargs='*'`` (repeatable),
and optional numbers accept ``none``. Flags that are not given stay out of the parsed namespace
(``SUPPRESS``), so a YAML value is overridden only by a flag the user typed.
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def add_model_flags(
    parser: argparse.ArgumentParser | Any, model: type[BaseModel],
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Add one flag per field of ``model`` (plus ``aliases[field]``, extra spellings) to ``parser``."""
    for name, info in model.model_fields.items():
        extra = (aliases or {}).get(name, ())
        parser.add_argument(flag_name(name), *extra, dest=name, default=argparse.SUPPRESS,
                            help=_help(info), **_argument_kwargs(name, info))


def given_values(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The fields whose flags were given on the command line, with their parsed values."""
    return {name: getattr(args, name) for name in model.model_fields if hasattr(args, name)}


def _help(info: FieldInfo) -> str:
    default = info.get_default(call_default_factory=True)
    shown = "none" if default is None else " ".join(map(str, default)) if isinstance(default, (list, tuple)) \
        else default
    return f"{info.description or ''} (default: {shown})".replace("%", "%%")  # argparse %-formats help


def _argument_kwargs(name: str, info: FieldInfo) -> dict[str, Any]:
    annotation, nullable = _strip_none(info.annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is bool:
        return {"action": argparse.BooleanOptionalAction}
    if origin is Literal:
        return {"choices": list(args), "type": type(args[0])}
    if origin is tuple:
        return {"nargs": len(args), "type": args[0], "metavar": name.upper()}
    if origin is list:  # "--x a b --x c" extends; "--x" alone gives [] (e.g. no evaluation tasks)
        return {"nargs": "*", "action": "extend", "type": args[0] if args else str, "metavar": name.upper()}
    if annotation in (int, float):
        return {"type": _nullable(annotation) if nullable else annotation}
    if annotation is str:
        return {"type": str}
    raise TypeError(f"no command-line flag for field {name!r} of type {info.annotation}")


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; anything else -> ``(annotation, False)``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(typing.get_args(annotation))
    return annotation, False


def _nullable(kind: type) -> Any:
    """A parser for ``int | None`` or ``float | None``: ``none`` (any case) means None."""

    def parse(text: str) -> Any:
        return None if text.strip().lower() in ("none", "null") else kind(text)

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value" errors
    return parse
