"""`track_state_changes`: per-entity state listeners, dispatched from one filtered bus listener."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .events import EVENT_STATE_CHANGED, Event, EventBus, Unsubscribe

__all__ = ["StateChangeCallback", "track_state_changes"]

_LOGGER = logging.getLogger(__name__)

StateChangeCallback = Callable[[Event[Mapping[str, Any]]], None]
"""Called inline with each `state_changed` event of a tracked entity; must not block or await."""


class _Registration:
    __slots__ = ("active", "callback")

    def __init__(self, callback: StateChangeCallback) -> None:
        self.callback = callback
        self.active = True


class _Tracker:
    """One bus listener per bus for every tracked entity (Home Assistant's `state_changed_event_helper`).

    A thousand entities each with its own listener would make every state write call a thousand filters;
    here a write costs one dict lookup at fire time, and nothing at all for an untracked entity.
    """

    def __init__(self, bus: EventBus) -> None:
        self.owner = weakref.ref(bus)
        # Tuples, replaced on change, so a removal during a dispatch never changes what is being walked;
        # `active` keeps a removed callback from being called by the event at hand, as on the bus.
        self._callbacks: dict[str, tuple[_Registration, ...]] = {}
        self._unlisten: Unsubscribe | None = None

    def add(self, bus: EventBus, entity_ids: Iterable[str], callback: StateChangeCallback) -> Unsubscribe:
        tracked = list(dict.fromkeys(entity_id.lower() for entity_id in entity_ids))
        registration = _Registration(callback)
        for entity_id in tracked:
            self._callbacks[entity_id] = (*self._callbacks.get(entity_id, ()), registration)
        if self._unlisten is None and self._callbacks:
            self._unlisten = bus.listen(EVENT_STATE_CHANGED, self._dispatch, event_filter=self._wanted)

        def remove() -> None:
            if not registration.active:
                return
            registration.active = False
            for entity_id in tracked:
                self._remove(entity_id, registration)
            if not self._callbacks and self._unlisten is not None:
                self._unlisten()
                self._unlisten = None

        return remove

    def _remove(self, entity_id: str, registration: _Registration) -> None:
        remaining = tuple(known for known in self._callbacks.get(entity_id, ()) if known is not registration)
        if remaining:
            self._callbacks[entity_id] = remaining
        else:
            self._callbacks.pop(entity_id, None)

    def _wanted(self, data: Mapping[str, Any]) -> bool:
        return data["entity_id"] in self._callbacks

    def _dispatch(self, event: Event[Mapping[str, Any]]) -> None:
        for registration in self._callbacks.get(event.data["entity_id"], ()):
            if not registration.active:
                continue
            try:
                registration.callback(event)
            except Exception:
                _LOGGER.exception("Error in state listener %r for %s", registration.callback, event.data["entity_id"])


# By id of the bus, holding trackers weakly: a listening tracker is kept alive by its bus's subscription and
# refers back to the bus only through it, so a dropped bus and its tracker are collected together.
_trackers: weakref.WeakValueDictionary[int, _Tracker] = weakref.WeakValueDictionary()


def track_state_changes(bus: EventBus, entity_ids: Iterable[str], callback: StateChangeCallback) -> Unsubscribe:
    """Call `callback` with every `state_changed` event of the given entities; returns its removal.

    Untracked entities' writes are rejected by one filter at fire time, so they cost no `Event` and no call.
    """
    tracker = _trackers.get(id(bus))
    if tracker is None or tracker.owner() is not bus:
        tracker = _trackers[id(bus)] = _Tracker(bus)
    return tracker.add(bus, entity_ids, callback)
