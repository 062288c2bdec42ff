"""The JSON the Redis sink writes: states and events in Home Assistant's shapes, compact UTF-8."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Set
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from hub.core import Event, State

__all__ = ["event_json", "state_json"]

# orjson, not the standard library: encoding was the sink's largest cost, and orjson took a state from 4.4 us
# to 0.5 us and an event from 9 us to 4.4 us on the project machine (bench/redis.py, docs/benchmarks.md).
_OPTIONS = orjson.OPT_NON_STR_KEYS
_FALLBACK = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=lambda value: _plain(value))


def _plain(value: Any) -> Any:
    """What JSON cannot hold natively, as Home Assistant's JSON encoder writes it."""
    if isinstance(value, State):
        return value.as_dict()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set):
        return list(value)
    return str(value)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_plain, option=_OPTIONS)
    except TypeError:
        # What orjson refuses (an int past 64 bits, nesting past 254 levels) the standard library still writes.
        return _FALLBACK.encode(value).encode()


def _time(value: datetime) -> datetime | str:
    """A datetime as `isoformat()` writes it: orjson formats UTC ones the same way, in C, at a tenth of the cost."""
    return value if value.tzinfo is UTC else value.isoformat()


def state_json(state: State) -> bytes:
    """The value of an entity's field in the states hash: `State.as_dict()` (the `/api/states/<id>` answer).

    The shape is made here rather than by `as_dict()`, so its times are formatted by orjson: the two
    `isoformat()` calls were half of what a state cost to write.
    """
    return _dumps(
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

    The states in its data are written as `encoded_state` gives them, so JSON already made for a state (the
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
        return orjson.dumps(shaped, default=_plain, option=_OPTIONS)
    except TypeError:
        # The standard library cannot copy JSON in, so the states go back to being dicts for it.
        shaped["data"] = {key: v.as_dict() if isinstance(v, State) else v for key, v in event.data.items()}
        return _FALLBACK.encode(shaped).encode()
