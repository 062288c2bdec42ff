"""The JSON the Redis sink writes: states and events in Home Assistant's shapes, compact."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Set
from datetime import date, datetime, time, timedelta
from typing import Any

from hub.core import Event, State

__all__ = ["event_json", "state_json"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=lambda value: _plain(value))


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


def state_json(state: State) -> str:
    """The value of an entity's field in the states hash: `State.as_dict()` (the `/api/states/<id>` answer)."""
    return _ENCODER.encode(state.as_dict())


def event_json(event: Event[Any]) -> str:
    """An event as Home Assistant's APIs give it; a state_changed event carries both states in full."""
    return _ENCODER.encode(event.as_dict())
