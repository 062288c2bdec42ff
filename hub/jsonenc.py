"""JSON encoding of hub objects (states, events, contexts) in Home Assistant's shapes, and parsing of client JSON.

The API and the MQTT sink write with it (ISO times, a non-finite float as `null`, as Home Assistant's encoder);
the Redis sink and the recorder keep encoders of their own, tuned to their hot paths, for the same shapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any

import orjson

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


_dumps_stdlib = partial(json.dumps, default=_default, separators=(",", ":"), allow_nan=False)

# orjson, as Home Assistant's own encoder: with every sink on, the standard library's encoder of the events sent to
# `subscribe_events` clients and of the `subscribe_entities` diffs was the hub's largest cost (bench/e2e/,
# docs/benchmarks.md). Dataclasses and datetimes still go through `_default`, so the shapes are as before.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(value: Any) -> str:
    """Compact JSON; states, events and contexts become their HA dicts, anything unknown its `str()`.

    A float that is not finite becomes `null`, as in Home Assistant; what orjson refuses (an int past 64 bits,
    nesting past 254 levels) the standard library writes.
    """
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS).decode()
    except TypeError:
        return _dumps_stdlib(value)


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
