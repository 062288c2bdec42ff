"""The hub's one JSON encoder: states, events, contexts and attributes in Home Assistant's shapes, for every writer
(the REST and WebSocket APIs, the MQTT sink, the Redis sink, the recorder), and parsing of client JSON.

orjson, as Home Assistant's own encoder: ISO 8601 times, a float that is not finite written as `null` (never a bare
`NaN`, which no JSON parser of Home Assistant's reads), objects with an `as_dict()` as that dict, anything else
unknown as its `str()`. What orjson refuses (an int past 64 bits, nesting past 254 levels) the standard library
writes with the same rules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Set
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any

import orjson

from hub.core import Event, State

__all__ = ["dumps", "dumps_bytes", "event_json", "loads", "state_json"]


def _default(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set | tuple):
        return list(value)
    if isinstance(value, Enum):
        return value.value
    # An attribute of a type JSON lacks must not fail a whole reply; HA's encoder also falls back to str.
    return str(value)


# Dataclasses (State, Event, Context) go through `_default` and so become their HA dicts, not their fields.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def _finite(value: Any) -> Any:
    """`value` with every float that is not finite as None, for the standard library's encoder (orjson does this
    itself)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


_FALLBACK = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=lambda value: _finite(_default(value))
)


def _fallback(value: Any) -> bytes:
    try:
        return _FALLBACK.encode(value).encode()
    except ValueError:  # a NaN the default did not see: one in the value itself
        return _FALLBACK.encode(_finite(value)).encode()


def dumps_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON of `value` (see the module's rules)."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except TypeError:
        return _fallback(value)


def dumps(value: Any) -> str:
    """`dumps_bytes` as text."""
    return dumps_bytes(value).decode()


def _time(value: datetime) -> datetime | str:
    """A datetime as `isoformat()` writes it: orjson formats UTC ones the same way, in C, at a tenth of the cost."""
    return value if value.tzinfo is UTC else value.isoformat()


def state_json(state: State) -> bytes:
    """`State.as_dict()` (the `/api/states/<id>` answer) as JSON, the shape made here rather than by `as_dict()`
    so that its times are formatted by orjson: the two `isoformat()` calls were half of what a state cost."""
    return dumps_bytes(
        {
            "entity_id": state.entity_id,
            "state": state.state,
            "attributes": dict(state.attributes),
            "last_changed": _time(state.last_changed),
            "last_updated": _time(state.last_updated),
            "context": state.context.as_dict(),
        }
    )


def event_json(event: Event[Any], encoded_state: Callable[[State], bytes] = state_json) -> bytes:
    """An event as Home Assistant's APIs give it (`Event.as_dict()`); a state_changed event carries both states.

    The states in its data are written as `encoded_state` gives them, so JSON already made for a state (the Redis
    hash's, the previous event's) is copied in rather than encoded again.
    """
    shaped = {
        "event_type": event.event_type,
        "data": {
            key: orjson.Fragment(encoded_state(v)) if isinstance(v, State) else v for key, v in event.data.items()
        },
        "origin": event.origin.value,
        "time_fired": _time(event.time_fired),
        "context": event.context.as_dict(),
    }
    try:
        return orjson.dumps(shaped, default=_default, option=_OPTIONS)
    except TypeError:
        # The standard library cannot copy JSON in, so the states go back to being dicts for it.
        shaped["data"] = {key: v.as_dict() if isinstance(v, State) else v for key, v in event.data.items()}
        return _fallback(shaped)


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
