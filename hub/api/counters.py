"""`ApiCounters`: figures the API counts itself for `/metrics` (state changes seen, requests answered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.core import EVENT_STATE_CHANGED, Event, EventBus, Unsubscribe

__all__ = ["ApiCounters"]


@dataclass(slots=True)
class ApiCounters:
    state_changes: int = 0
    requests: dict[int, int] = field(default_factory=dict)
    """Answered HTTP requests by status code."""

    def listen(self, bus: EventBus) -> Unsubscribe:
        return bus.listen(EVENT_STATE_CHANGED, self._state_changed)

    def _state_changed(self, _event: Event[Any]) -> None:
        self.state_changes += 1

    def answered(self, status: int) -> None:
        self.requests[status] = self.requests.get(status, 0) + 1
