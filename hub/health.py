"""`Health` of each integration and sink (`ok | degraded | failing`), logging transitions, not repeats."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from hub.core import Unsubscribe, clock

__all__ = ["FAILING_AFTER", "Health", "HealthListener", "HealthRegistry", "HealthStatus"]

_LOGGER = logging.getLogger(__name__)

FAILING_AFTER = 3
"""Consecutive errors after which a part counts as failing; fewer make it degraded."""

_MEAN_WEIGHT = 0.2


class HealthStatus(enum.StrEnum):
    ok = "ok"
    degraded = "degraded"
    failing = "failing"


@dataclass(slots=True)
class Health:
    """Counters and status of one part; every change of status is announced to the registry's listeners."""

    name: str
    kind: Literal["integration", "sink"]
    status: HealthStatus = HealthStatus.ok
    consecutive_errors: int = 0
    error_count: int = 0
    success_count: int = 0
    timeouts: int = 0
    skipped: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_success_at: datetime | None = None
    last_duration: float | None = None
    mean_duration: float | None = None
    queue_depth: int | None = None
    """Items a sink holds waiting to be written (None for parts without a queue); the sink keeps it current."""
    _on_change: Callable[[Health, bool], None] | None = field(default=None, repr=False)

    def success(self, duration: float | None = None) -> None:
        """A poll or write that worked; a failing part recovers at once."""
        self.success_count += 1
        self.last_success_at = clock.utcnow()
        self._record_duration(duration)
        if self.consecutive_errors:
            _LOGGER.info("%s %s recovered after %d errors", self.kind, self.name, self.consecutive_errors)
        self.consecutive_errors = 0
        self._set(HealthStatus.ok)

    def failure(self, error: str, duration: float | None = None, *, timeout: bool = False) -> None:
        """A poll or write that failed; the first is logged as an error, repeats at debug."""
        self.error_count += 1
        self.consecutive_errors += 1
        self.timeouts += timeout
        self.last_error = error
        self.last_error_at = clock.utcnow()
        self._record_duration(duration)
        if self.consecutive_errors == 1:
            _LOGGER.error("%s %s failed: %s", self.kind, self.name, error)
        else:
            _LOGGER.debug("%s %s still failing (%d): %s", self.kind, self.name, self.consecutive_errors, error)
        self._set(HealthStatus.failing if self.consecutive_errors >= FAILING_AFTER else HealthStatus.degraded)

    def fail_now(self, error: str) -> None:
        """A failure that is certain at once (connection refused): failing without waiting for repeats."""
        self.failure(error)
        self._set(HealthStatus.failing)

    def _record_duration(self, duration: float | None) -> None:
        if duration is None:
            return
        self.last_duration = duration
        previous = self.mean_duration
        self.mean_duration = duration if previous is None else previous + _MEAN_WEIGHT * (duration - previous)

    def _set(self, status: HealthStatus) -> None:
        changed = status is not self.status
        self.status = status
        if self._on_change is not None:
            self._on_change(self, changed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "consecutive_errors": self.consecutive_errors,
            "error_count": self.error_count,
            "success_count": self.success_count,
            "timeouts": self.timeouts,
            "skipped": self.skipped,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_duration": self.last_duration,
            "mean_duration": self.mean_duration,
            "queue_depth": self.queue_depth,
        }


HealthListener = Callable[[Health, bool], None]
"""Called after every recorded outcome, with whether the status changed."""


class HealthRegistry:
    """Every part's `Health`, and listeners for its updates."""

    def __init__(self) -> None:
        self._parts: dict[str, Health] = {}
        self._listeners: list[HealthListener] = []

    def create(self, name: str, kind: Literal["integration", "sink"]) -> Health:
        health = Health(name=name, kind=kind, _on_change=self._changed)
        self._parts[name] = health
        return health

    def remove(self, name: str) -> None:
        self._parts.pop(name, None)

    def get(self, name: str) -> Health | None:
        return self._parts.get(name)

    def __iter__(self) -> Iterator[Health]:
        return iter(list(self._parts.values()))

    def listen(self, listener: HealthListener) -> Unsubscribe:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, health: Health, status_changed: bool) -> None:
        for listener in list(self._listeners):
            try:
                listener(health, status_changed)
            except Exception:
                _LOGGER.exception("Health listener failed for %s", health.name)
