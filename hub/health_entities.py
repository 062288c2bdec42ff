"""The hub's own entities: one `problem` binary_sensor per integration and sink, from its `Health`."""

from __future__ import annotations

from hub.core import (
    EVENT_INTEGRATION_HEALTH_CHANGED,
    Core,
    DeviceInfo,
    RegistryEntry,
    Unsubscribe,
    entity_id_for,
)

from .health import Health, HealthRegistry, HealthStatus

__all__ = ["HealthEntities", "health_entity_id"]


def health_entity_id(node: str, part: str) -> str:
    return entity_id_for("binary_sensor", node, f"{part}_health")


class HealthEntities:
    """Keeps `binary_sensor.<node>_<part>_health` in step with each part's health (on = failing)."""

    def __init__(self, core: Core, registry: HealthRegistry, device: DeviceInfo) -> None:
        self._core = core
        self._registry = registry
        self._device = device

    def remove(self, part: str) -> None:
        """Forget a part that stopped for good (an integration removed by a reload)."""
        entity_id = health_entity_id(self._core.node, part)
        self._core.states.remove(entity_id)
        self._core.entities.remove(entity_id)

    def start(self) -> Unsubscribe:
        for health in self._registry:
            self.write(health, status_changed=False)
        return self._registry.listen(self.write)

    def write(self, health: Health, status_changed: bool) -> None:
        entity_id = health_entity_id(self._core.node, health.name)
        if self._core.entities.get(entity_id) is None:
            self._core.entities.add(
                RegistryEntry(
                    entity_id=entity_id,
                    unique_id=f"{self._core.node}_hub_{health.name}_health",
                    platform="binary_sensor",
                    name=f"{health.name} health",
                    node=self._core.node,
                    integration="hub",
                    device=self._device,
                    device_class="problem",
                    entity_category="diagnostic",
                )
            )
        self._core.states.set(
            entity_id,
            "on" if health.status is HealthStatus.failing else "off",
            {
                "status": health.status.value,
                "kind": health.kind,
                "error_count": health.error_count,
                "consecutive_errors": health.consecutive_errors,
                "last_error": health.last_error,
                "last_duration": _rounded(health.last_duration),
                "mean_duration": _rounded(health.mean_duration),
                "device_class": "problem",
                "friendly_name": f"{self._device.name} {health.name} health",
            },
        )
        if status_changed:
            self._core.bus.fire(EVENT_INTEGRATION_HEALTH_CHANGED, health.as_dict())


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
