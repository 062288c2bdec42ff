"""`State` and `StateMachine`: current entity states with Home Assistant's change rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from . import clock
from .context import Context
from .errors import InvalidEntityId, InvalidState
from .events import EVENT_STATE_CHANGED, EventBus

__all__ = [
    "MAX_STATE_LENGTH",
    "STATE_UNAVAILABLE",
    "STATE_UNKNOWN",
    "State",
    "StateMachine",
    "split_entity_id",
    "valid_entity_id",
]

STATE_UNKNOWN: Final = "unknown"
STATE_UNAVAILABLE: Final = "unavailable"
MAX_STATE_LENGTH: Final = 255

# Home Assistant's rule: a lowercase slug domain, a dot, a lowercase slug object id (no leading/trailing "_").
_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def valid_entity_id(entity_id: str) -> bool:
    """True for `domain.object_id` in Home Assistant's slug form."""
    return _ENTITY_ID.match(entity_id) is not None


def _too_long(entity_id: str, state: str) -> InvalidState:
    return InvalidState(
        f"Invalid state with length {len(state)} for {entity_id}: state may be at most {MAX_STATE_LENGTH} characters"
    )


def _frozen(attributes: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(attributes)) if attributes else _EMPTY


def _unchecked_state(
    old: State,
    new_state: str,
    attributes: Mapping[str, Any],
    last_changed: datetime,
    last_updated: datetime,
    context: Context,
) -> State:
    """The next `State` of an entity whose id and new state string are already known to be valid."""
    state = object.__new__(State)
    state.entity_id = old.entity_id
    state.domain = old.domain
    state.object_id = old.object_id
    state.state = new_state
    state.attributes = attributes
    state.last_changed = last_changed
    state.last_updated = last_updated
    state.context = context
    state._as_dict = None
    return state


def split_entity_id(entity_id: str) -> tuple[str, str]:
    domain, _, object_id = entity_id.partition(".")
    if not object_id:
        raise InvalidEntityId(f"Invalid entity ID {entity_id}")
    return domain, object_id


class State:
    """An entity's state at one moment; immutable once made."""

    __slots__ = (
        "_as_dict",
        "attributes",
        "context",
        "domain",
        "entity_id",
        "last_changed",
        "last_updated",
        "object_id",
        "state",
    )

    def __init__(
        self,
        entity_id: str,
        state: str,
        attributes: Mapping[str, Any] | None = None,
        last_changed: datetime | None = None,
        last_updated: datetime | None = None,
        context: Context | None = None,
        *,
        validate: bool = True,
    ) -> None:
        if validate:
            if not valid_entity_id(entity_id):
                raise InvalidEntityId(f"Invalid entity ID {entity_id}")
            if len(state) > MAX_STATE_LENGTH:
                raise _too_long(entity_id, state)
        self.entity_id = entity_id
        self.domain, _, self.object_id = entity_id.partition(".")
        self.state = state
        self.attributes: Mapping[str, Any] = _frozen(attributes)
        self.last_updated = last_updated or clock.utcnow()
        self.last_changed = last_changed or self.last_updated
        self.context = context or Context()
        self._as_dict: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The friendly name, or the object id with underscores as spaces."""
        return str(self.attributes.get("friendly_name") or self.object_id.replace("_", " "))

    def as_dict(self) -> dict[str, Any]:
        """Home Assistant's JSON shape, made once per state and shared by every reader."""
        if self._as_dict is None:
            self._as_dict = {
                "entity_id": self.entity_id,
                "state": self.state,
                "attributes": dict(self.attributes),
                "last_changed": self.last_changed.isoformat(),
                "last_updated": self.last_updated.isoformat(),
                "context": self.context.as_dict(),
            }
        return self._as_dict

    def as_compressed(self) -> dict[str, Any]:
        """The `subscribe_entities` full form: s, a, c, lc and lu (only when it differs from lc)."""
        context = self.context
        compressed: dict[str, Any] = {
            "s": self.state,
            "a": dict(self.attributes),
            "c": context.id if context.parent_id is None and context.user_id is None else context.as_dict(),
            "lc": self.last_changed.timestamp(),
        }
        if self.last_updated != self.last_changed:
            compressed["lu"] = self.last_updated.timestamp()
        return compressed

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, State)
            and self.entity_id == other.entity_id
            and self.state == other.state
            and self.attributes == other.attributes
            and self.context == other.context
        )

    def __hash__(self) -> int:
        return hash((self.entity_id, self.state))

    def __repr__(self) -> str:
        return f"<state {self.entity_id}={self.state} @ {self.last_changed.isoformat()}>"


class StateMachine:
    """The current state of every entity; writes fire `state_changed` on the bus."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._states: dict[str, State] = {}

    def get(self, entity_id: str) -> State | None:
        return self._states.get(entity_id.lower())

    def all(self, domains: Iterable[str] | None = None) -> list[State]:
        """Every state, or those of the given domains."""
        if domains is None:
            return list(self._states.values())
        wanted = set(domains)
        return [state for state in self._states.values() if state.domain in wanted]

    def entity_ids(self) -> list[str]:
        return list(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._states

    def set(
        self,
        entity_id: str,
        new_state: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        force_update: bool = False,
        context: Context | None = None,
    ) -> State | None:
        """Write a state. Returns the new `State`, or None when the write changed nothing.

        `last_changed` moves only when the state string changes; `last_updated` when the state or the
        attributes change; an identical write fires nothing unless `force_update`.
        """
        old = self._states.get(entity_id)
        if old is None:
            entity_id = entity_id.lower()
            old = self._states.get(entity_id)
        if old is None:
            return self._add(entity_id, new_state, attributes, context)
        same_state = old.state == new_state and not force_update
        same_attributes = old.attributes == attributes if attributes else not old.attributes
        if same_state and same_attributes:
            return None
        if len(new_state) > MAX_STATE_LENGTH:
            raise _too_long(entity_id, new_state)
        now = clock.utcnow()
        # The hot path of every integration (bench/bus.py): the old state's checked id parts and, when they
        # did not change, its frozen attributes are reused instead of being validated and copied again.
        state = _unchecked_state(
            old,
            new_state,
            old.attributes if same_attributes else _frozen(attributes),
            old.last_changed if same_state else now,
            now,
            context or Context(),
        )
        self._states[entity_id] = state
        self._bus.fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": state},
            context=state.context,
            time_fired=now,
        )
        return state

    def _add(
        self, entity_id: str, new_state: str, attributes: Mapping[str, Any] | None, context: Context | None
    ) -> State:
        state = State(entity_id, new_state, attributes, context=context)
        self._states[entity_id] = state
        self._bus.fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": None, "new_state": state},
            context=state.context,
            time_fired=state.last_updated,
        )
        return state

    def restore(self, states: Iterable[State]) -> None:
        """Load states recorded before a restart, without firing events (the recorder's restore)."""
        for state in states:
            self._states.setdefault(state.entity_id, state)

    def remove(self, entity_id: str, *, context: Context | None = None) -> bool:
        """Remove an entity's state; fires `state_changed` with `new_state` None."""
        entity_id = entity_id.lower()
        old = self._states.pop(entity_id, None)
        if old is None:
            return False
        self._bus.fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": None},
            context=context,
        )
        return True
