"""What systemd shows: one device per node (`systemd`) with the count of failed units, and per watched unit its
state (active, inactive, failed...), whether it failed, its restarts, and switch/button when controls are allowed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import DeviceInfo, EntityDescription, StateValue

from .bus import Unit

__all__ = ["ENTITIES", "SystemdSnapshot"]


@dataclass(frozen=True, slots=True)
class SystemdSnapshot:
    node: str
    units: Mapping[str, Unit]
    failed_units: int
    controls: bool


def _device(snapshot: SystemdSnapshot, _key: str) -> DeviceInfo:
    return DeviceInfo(
        identifier=f"{snapshot.node}_systemd",
        name=f"{snapshot.node} systemd",
        model="systemd",
        via_device=snapshot.node,
    )


def _names(snapshot: SystemdSnapshot) -> list[str]:
    return list(snapshot.units)


def _controlled(snapshot: SystemdSnapshot) -> list[str]:
    return list(snapshot.units) if snapshot.controls else []


def _of(read: Callable[[Unit], StateValue]) -> Callable[[SystemdSnapshot, str], StateValue]:
    def value(snapshot: SystemdSnapshot, name: str) -> StateValue:
        return read(snapshot.units[name])

    return value


def _attributes(snapshot: SystemdSnapshot, name: str) -> Mapping[str, Any]:
    unit = snapshot.units[name]
    return {
        "unit": unit.name,
        "description": unit.description,
        "sub_state": unit.sub_state,
        "load_state": unit.load_state,
    }


def _with_restarts(snapshot: SystemdSnapshot) -> list[str]:
    return [name for name, unit in snapshot.units.items() if unit.restarts is not None]


def _unit_entity(
    key: str, name: str, value: Callable[[Unit], StateValue], **options: Any
) -> EntityDescription[SystemdSnapshot]:
    return EntityDescription(
        key=f"systemd_{{instance}}_{key}",
        name=f"{{instance}} {name}",
        value=_of(value),
        device=_device,
        **{"instances": _names, **options},
    )


ENTITIES: tuple[EntityDescription[SystemdSnapshot], ...] = (
    EntityDescription(
        key="systemd_failed_units",
        name="Failed units",
        value=lambda snapshot, _: snapshot.failed_units,
        device=_device,
        state_class="measurement",
        icon="mdi:alert-octagon",
    ),
    _unit_entity("state", "state", lambda unit: unit.active_state, attributes=_attributes, icon="mdi:cog"),
    _unit_entity(
        "failed", "failed", lambda unit: unit.active_state == "failed", platform="binary_sensor", device_class="problem"
    ),
    _unit_entity(
        "restarts",
        "restarts",
        lambda unit: unit.restarts,
        instances=_with_restarts,
        state_class="total_increasing",
        entity_category="diagnostic",
    ),
    _unit_entity(
        "running",
        "running",
        lambda unit: unit.active_state in ("active", "activating", "reloading"),
        platform="switch",
        instances=_controlled,
        commands={"ON": "start", "OFF": "stop"},
        icon="mdi:play-pause",
    ),
    _unit_entity(
        "restart",
        "restart",
        lambda _unit: None,
        platform="button",
        instances=_controlled,
        commands={"PRESS": "restart"},
        device_class="restart",
    ),
)
