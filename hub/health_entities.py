"""The hub's own entities: one `problem` binary_sensor per integration and sink, from its `Health`.

They are described and written as an integration's are (an `EntityDescription` through a `SnapshotWriter`), so
their ids, registry entries, names and attributes follow the one rule every entity follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.core import EVENT_INTEGRATION_HEALTH_CHANGED, Core, DeviceInfo, EntityDescription, Unsubscribe

from .health import Health, HealthRegistry, HealthStatus
from .snapshot_writer import SnapshotWriter

__all__ = ["HealthEntities"]

Parts = Mapping[str, Health]


def _attributes(parts: Parts, name: str) -> dict[str, Any]:
    health = parts[name]
    return {
        "status": health.status.value,
        "kind": health.kind,
        "error_count": health.error_count,
        "consecutive_errors": health.consecutive_errors,
        "last_error": health.last_error,
        "last_duration": _rounded(health.last_duration),
        "mean_duration": _rounded(health.mean_duration),
    }


HEALTH: EntityDescription[Parts] = EntityDescription(
    key="{instance}_health",
    name="{instance} health",
    platform="binary_sensor",
    value=lambda parts, name: parts[name].status is HealthStatus.failing,
    instances=lambda parts: list(parts),
    attributes=_attributes,
    device_class="problem",
    entity_category="diagnostic",
)
"""`binary_sensor.<node>_<part>_health`: on while the part is failing."""


class HealthEntities:
    """Keeps each part's health entity in step with its `Health`."""

    def __init__(self, core: Core, registry: HealthRegistry, device: DeviceInfo) -> None:
        self._core = core
        self._registry = registry
        self._writer = SnapshotWriter(
            core, integration_id="hub", domain="hub", descriptions=(HEALTH,), default_device=device
        )

    def remove(self, part: str) -> None:
        """Forget a part that stopped for good (an integration removed by a reload)."""
        self._writer.write({health.name: health for health in self._registry if health.name != part})

    def start(self) -> Unsubscribe:
        self._writer.write({health.name: health for health in self._registry})
        return self._registry.listen(self.write)

    def write(self, health: Health, status_changed: bool) -> None:
        self._writer.write({health.name: health}, partial=True)
        if status_changed:
            self._core.bus.fire(EVENT_INTEGRATION_HEALTH_CHANGED, health.as_dict())


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
