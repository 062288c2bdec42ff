"""`StateJsonCache`: each State's JSON encoded once, shared by the states hash, the stream and the channel.

A state_changed event carries its entity's old state, which the previous event carried as its new state, and
the hash then writes the entity's current state, usually the newest event's. Encoding a state was the sink's
largest cost after the event's own shape (bench/redis.py, docs/benchmarks.md), and without this each state
was encoded three times: as an event's new state, as the next event's old state, and into the hash.
"""

from __future__ import annotations

from hub.core import State, StateMachine
from hub.jsonenc import state_json

__all__ = ["StateJsonCache"]


class StateJsonCache:
    """Per entity, the JSON of the state last streamed and of the state last written to the hash.

    Two slots because the two sides run apart while the sink catches up on a backlog: the stream is still at
    older states while the hash already writes the newest one. A hit is the very same `State` object (states
    are immutable). Only entities the state machine still holds are kept, so memory is bounded by the
    number of entities; `forget` drops a removed one and `clear` starts over for a full resync.
    """

    def __init__(self, states: StateMachine) -> None:
        self._states = states
        self._streamed: dict[str, tuple[State, bytes]] = {}
        self._hashed: dict[str, tuple[State, bytes]] = {}

    def for_stream(self, state: State) -> bytes:
        """The JSON of a state an event carries."""
        return self._encoded(state, self._streamed, self._hashed)

    def for_hash(self, state: State) -> bytes:
        """The JSON of an entity's current state, the value of its field in the states hash."""
        return self._encoded(state, self._hashed, self._streamed)

    def forget(self, entity_id: str) -> None:
        """The entity is gone from the hub."""
        self._streamed.pop(entity_id, None)
        self._hashed.pop(entity_id, None)

    def clear(self) -> None:
        self._streamed.clear()
        self._hashed.clear()

    def _encoded(
        self, state: State, own: dict[str, tuple[State, bytes]], other: dict[str, tuple[State, bytes]]
    ) -> bytes:
        entity_id = state.entity_id
        cached = own.get(entity_id)
        if cached is not None and cached[0] is state:
            return cached[1]
        cached = other.get(entity_id)
        if cached is not None and cached[0] is state:
            return cached[1]
        encoded = state_json(state)
        if self._states.get(entity_id) is not None:
            own[entity_id] = (state, encoded)
        return encoded
