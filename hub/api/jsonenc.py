"""JSON encoding of hub objects (states, events, contexts) in Home Assistant's shapes, and parsing of client JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any

__all__ = ["dumps", "loads"]


def _default(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Enum):
        return value.value
    # An attribute of a type JSON lacks must not fail a whole reply; HA's encoder also falls back to str.
    return str(value)


dumps = partial(json.dumps, default=_default, separators=(",", ":"), allow_nan=False)
"""Compact JSON; states, events and contexts become their HA dicts, anything unknown its `str()`."""


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def loads(data: str | bytes) -> Any:
    """Parse what a client sent as HA's orjson does: `NaN` and `Infinity` are not JSON (a state holding one could
    never be encoded again), and nesting too deep to parse is invalid JSON, not a RecursionError; both raise
    `json.JSONDecodeError` (found by tests/chaos/test_fuzz_websocket.py)."""
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError as err:
        raise json.JSONDecodeError("nested too deeply", "", 0) from err
