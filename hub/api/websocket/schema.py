"""Strict command schemas for the WebSocket API, with voluptuous-style messages as HA clients see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import HubError

__all__ = ["Field", "Schema", "SchemaError", "check"]


class SchemaError(HubError, ValueError):
    """A command that does not fit its schema; the message is what HA's `humanize_error` would say."""


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a command: the JSON types it accepts and whether it must be there."""

    types: tuple[type, ...]
    required: bool = False
    items: type | None = None
    """For a list value: the type every item must have."""


Schema = Mapping[str, Field]

_TYPE_NAMES = {str: "str", int: "int", bool: "boolean", dict: "dict", list: "list", float: "float"}
_ENVELOPE = frozenset({"id", "type"})


def check(schema: Schema, message: Mapping[str, Any]) -> None:
    """Raise `SchemaError` for an extra key, a missing one or a value of the wrong type."""
    for key in message:
        if key not in schema and key not in _ENVELOPE:
            raise SchemaError(f"extra keys not allowed @ data[{key!r}]. Got {_got(message[key])}")
    for key, field in schema.items():
        if key not in message:
            if field.required:
                raise SchemaError(f"required key not provided @ data[{key!r}]. Got None")
            continue
        value = message[key]
        # bool is an int in Python but not in JSON: `true` is no id and no count.
        if not isinstance(value, field.types) or (isinstance(value, bool) and bool not in field.types):
            raise SchemaError(f"expected {_names(field.types)} for dictionary value @ data[{key!r}]. Got {_got(value)}")
        if field.items is not None and isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, field.items):
                    raise SchemaError(f"expected {_names((field.items,))} @ data[{key!r}][{index}]. Got {_got(item)}")


def _names(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
