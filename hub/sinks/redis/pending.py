"""`PendingWrites`: what waits for Redis, coalesced per entity and capped, so a long outage costs bounded memory."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from hub.core import EVENT_STATE_CHANGED, Event

__all__ = ["Batch", "PendingWrites"]


@dataclass(frozen=True, slots=True)
class Batch:
    """One pipelined write: hash fields to refresh from the current states, and events in fired order."""

    entity_ids: tuple[str, ...]
    events: tuple[Event[Any], ...]


class PendingWrites:
    """Entities whose hash field is stale, and events not yet streamed.

    The hash side keeps one mark per entity however often it changed (the writer reads the current state when
    it writes), so it is bounded by the number of entities. The event side keeps the newest `max_events`
    events: when full, the oldest is dropped and counted. `max_events` is the stream's own cap, so what is
    dropped is what the stream would have trimmed once the backlog was written.
    """

    def __init__(self, max_events: int) -> None:
        self._max_events = max_events
        self._entities: dict[str, None] = {}
        self._events: deque[Event[Any]] = deque()
        self.dropped = 0
        """Events dropped because the buffer was full, since the start."""

    def __len__(self) -> int:
        return len(self._entities) + len(self._events)

    def add(self, event: Event[Any]) -> bool:
        """Hold an event (and mark its entity); True when this dropped the oldest held event."""
        if event.event_type == EVENT_STATE_CHANGED:
            self._entities[event.data["entity_id"]] = None
        dropped = len(self._events) >= self._max_events
        if dropped:
            self._events.popleft()
            self.dropped += 1
        self._events.append(event)
        return dropped

    def take(self, max_events: int) -> Batch:
        """Every stale entity and up to `max_events` of the oldest events, removed from the buffer."""
        entity_ids = tuple(self._entities)
        self._entities.clear()
        count = min(max_events, len(self._events))
        events = tuple(self._events.popleft() for _ in range(count))
        return Batch(entity_ids, events)

    def requeue(self, batch: Batch) -> None:
        """Put back a batch whose write failed, ahead of what came since, still within the cap."""
        for entity_id in batch.entity_ids:
            self._entities[entity_id] = None
        room = self._max_events - len(self._events)
        kept = batch.events[len(batch.events) - room :] if room < len(batch.events) else batch.events
        self.dropped += len(batch.events) - len(kept)
        self._events.extendleft(reversed(kept))

    def forget_entities(self) -> None:
        """A full resync is about to write every entity's current state, so no mark is needed any more."""
        self._entities.clear()
