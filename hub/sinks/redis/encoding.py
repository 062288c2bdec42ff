"""The JSON the Redis sink writes: states and events in Home Assistant's shapes, each state encoded once."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Set
from datetime import date, datetime, time, timedelta
from json.encoder import py_encode_basestring
from typing import Any

from hub.core import EVENT_STATE_CHANGED, Context, Event, State

__all__ = ["EventEncoder", "event_json", "state_json"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=lambda value: _plain(value))
_encode = _ENCODER.encode
# The C string encoder when present: a JSON string literal without the encoder's per-call setup.
_string: Any = getattr(json.encoder, "c_encode_basestring", None) or py_encode_basestring
_STATE_CHANGED_KEYS = frozenset({"entity_id", "old_state", "new_state"})


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
    return _encode(state.as_dict())


def event_json(event: Event[Any]) -> str:
    """An event as Home Assistant's APIs give it; a state_changed event carries both states in full."""
    return _encode(event.as_dict())


class EventEncoder:
    """Encodes events and states, keeping each entity's latest state JSON for reuse.

    A state is written three times (as `new_state` in its event, in the hash, as `old_state` in the next
    event): encoding it once made JSON a third of its former cost in bench/redis.py. The cache holds one
    string per entity and forgets removed ones, so it is bounded like the state machine itself.
    """

    def __init__(self) -> None:
        self._latest: dict[str, tuple[State, str]] = {}

    def state(self, state: State) -> str:
        cached = self._latest.get(state.entity_id)
        if cached is not None and cached[0] is state:
            return cached[1]
        encoded = state_json(state)
        self._latest[state.entity_id] = (state, encoded)
        return encoded

    def forget(self, entity_id: str) -> None:
        self._latest.pop(entity_id, None)

    def event(self, event: Event[Any]) -> str:
        """`event_json(event)`, built around cached state JSON when it is a state_changed event."""
        data = event.data
        if event.event_type != EVENT_STATE_CHANGED or data.keys() != _STATE_CHANGED_KEYS:
            return event_json(event)
        entity_id, old, new = data["entity_id"], data["old_state"], data["new_state"]
        if new is None:
            self.forget(entity_id)
        # Keys in Event.as_dict()'s order, so the text is the same as the generic encoding's.
        return "".join(
            (
                '{"event_type":"state_changed","data":{"entity_id":',
                _string(entity_id),
                ',"old_state":',
                "null" if old is None else self._old(old),
                ',"new_state":',
                "null" if new is None else self.state(new),
                '},"origin":',
                _string(event.origin.value),
                ',"time_fired":"',
                event.time_fired.isoformat(),
                '","context":',
                _context_json(event.context),
                "}",
            )
        )

    def _old(self, state: State) -> str:
        cached = self._latest.get(state.entity_id)
        return cached[1] if cached is not None and cached[0] is state else state_json(state)


def _context_json(context: Context) -> str:
    """`Context.as_dict()` as JSON, in its key order."""
    parent, user = context.parent_id, context.user_id
    return "".join(
        (
            '{"id":',
            _string(context.id),
            ',"parent_id":',
            "null" if parent is None else _string(parent),
            ',"user_id":',
            "null" if user is None else _string(user),
            "}",
        )
    )
