"""`Lifecycle`: the hub's run state and the events that mark each step, as Home Assistant's `CoreState`.

NOT_RUNNING -> STARTING -> RUNNING -> STOPPING -> FINAL_WRITE -> NOT_RUNNING -> STOPPED, with
`homeassistant_start` on STARTING, `homeassistant_started` on RUNNING, `homeassistant_stop` on STOPPING,
`homeassistant_final_write` on FINAL_WRITE and `homeassistant_close` when it is done: the states `/api/config` and
`get_config` show and the events clients such as AppDaemon wait for before they load states.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from typing import Any

from .events import EventBus, EventType

__all__ = [
    "EVENT_HOMEASSISTANT_CLOSE",
    "EVENT_HOMEASSISTANT_FINAL_WRITE",
    "EVENT_HOMEASSISTANT_START",
    "EVENT_HOMEASSISTANT_STARTED",
    "EVENT_HOMEASSISTANT_STOP",
    "CoreState",
    "Lifecycle",
]

_LOGGER = logging.getLogger(__name__)

EVENT_HOMEASSISTANT_START: EventType[Mapping[str, Any]] = EventType("homeassistant_start")
EVENT_HOMEASSISTANT_STARTED: EventType[Mapping[str, Any]] = EventType("homeassistant_started")
EVENT_HOMEASSISTANT_STOP: EventType[Mapping[str, Any]] = EventType("homeassistant_stop")
EVENT_HOMEASSISTANT_FINAL_WRITE: EventType[Mapping[str, Any]] = EventType("homeassistant_final_write")
EVENT_HOMEASSISTANT_CLOSE: EventType[Mapping[str, Any]] = EventType("homeassistant_close")


class CoreState(enum.StrEnum):
    """Home Assistant's names, which its clients compare against."""

    not_running = "NOT_RUNNING"
    starting = "STARTING"
    running = "RUNNING"
    stopping = "STOPPING"
    final_write = "FINAL_WRITE"
    stopped = "STOPPED"


_STEPS: dict[CoreState, tuple[frozenset[CoreState], EventType[Mapping[str, Any]] | None]] = {
    # state: (the states it may follow, the event it fires)
    CoreState.starting: (frozenset({CoreState.not_running, CoreState.stopped}), EVENT_HOMEASSISTANT_START),
    CoreState.running: (frozenset({CoreState.starting}), EVENT_HOMEASSISTANT_STARTED),
    CoreState.stopping: (frozenset({CoreState.starting, CoreState.running}), EVENT_HOMEASSISTANT_STOP),
    CoreState.final_write: (frozenset({CoreState.stopping}), EVENT_HOMEASSISTANT_FINAL_WRITE),
    CoreState.not_running: (frozenset({CoreState.final_write}), EVENT_HOMEASSISTANT_CLOSE),
    CoreState.stopped: (frozenset({CoreState.not_running}), None),
}


class Lifecycle:
    """The run state; `advance(state)` moves to it and fires its event, refusing a step out of order."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self.state = CoreState.not_running

    @property
    def is_running(self) -> bool:
        return self.state is CoreState.running

    def advance(self, state: CoreState) -> None:
        allowed, event = _STEPS[state]
        if self.state not in allowed:
            raise RuntimeError(f"the hub cannot go from {self.state} to {state}")
        _LOGGER.debug("Hub state %s -> %s", self.state, state)
        self.state = state
        if event is not None:
            self._bus.fire(event, {})
