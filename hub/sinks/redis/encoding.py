"""The JSON the Redis sink writes: states and events in Home Assistant's shapes, compact UTF-8."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Set
from datetime import date, datetime, time, timedelta
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


def state_json(state: State) -> bytes:
    """The value of an entity's field in the states hash: `State.as_dict()` (the `/api/states/<id>` answer)."""
    return _dumps(state.as_dict())


def event_json(event: Event[Any]) -> bytes:
    """An event as Home Assistant's APIs give it; a state_changed event carries both states in full."""
    shaped = event.as_dict()
    # States turned into their (cached) dicts here rather than through orjson's `default`, a Python call each.
    shaped["data"] = {key: v.as_dict() if isinstance(v, State) else v for key, v in event.data.items()}
    return _dumps(shaped)
