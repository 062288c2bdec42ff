"""What each disk shows, one device per disk (by serial, so a disk keeps its history when it moves from sda to
sdb): SMART status and problem, temperature, power-on hours, sector counts (ATA), wear and media errors (NVMe).

A disk gets only the entities its readings have; an unsupported device gets its status alone, saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import DeviceInfo, EntityDescription, ItemField, StateValue

from .parser import DiskReading

__all__ = ["ENTITIES", "SmartSnapshot"]


@dataclass(frozen=True, slots=True)
class SmartSnapshot:
    """Each disk's latest reading by its instance key (serial, else device name); the node reading them."""

    node: str
    disks: Mapping[str, DiskReading]


def _names(snapshot: SmartSnapshot) -> list[str]:
    return list(snapshot.disks)


def _status(snapshot: SmartSnapshot, key: str) -> StateValue:
    return snapshot.disks[key].state


def _problem(snapshot: SmartSnapshot, key: str) -> StateValue:
    health = snapshot.disks[key].health
    return None if health is None else health == "failed"


def _status_attributes(snapshot: SmartSnapshot, key: str) -> Mapping[str, Any]:
    disk = snapshot.disks[key]
    facts = {
        "device": disk.device,
        "protocol": disk.protocol,
        "model": disk.model,
        "serial": disk.serial,
        "firmware": disk.firmware,
        "capacity_bytes": disk.capacity_bytes,
        "reason": disk.reason,
        "failing_attributes": list(disk.failing_attributes) or None,
    }
    return {name: value for name, value in facts.items() if value is not None}


def _device(snapshot: SmartSnapshot, key: str) -> DeviceInfo:
    disk = snapshot.disks[key]
    return DeviceInfo(
        identifier=f"{snapshot.node}_disk_{key}",
        name=f"{disk.model} ({disk.device})" if disk.model else disk.device,
        model=disk.model,
        sw_version=disk.firmware,
        via_device=snapshot.node,
    )


def _disks(snapshot: SmartSnapshot) -> Mapping[str, Any]:
    return snapshot.disks


def _number(key: str, name: str, field: str, **options: Any) -> EntityDescription[SmartSnapshot]:
    read = ItemField(_disks, field)
    return EntityDescription(
        key=f"smart_{{instance}}_{key}",
        name=name,
        value=read.value,
        instances=read.instances,
        device=_device,
        **options,
    )


ENTITIES: tuple[EntityDescription[SmartSnapshot], ...] = (
    EntityDescription(
        key="smart_{instance}_status",
        name="SMART status",
        value=_status,
        instances=_names,
        attributes=_status_attributes,
        device=_device,
        icon="mdi:harddisk",
    ),
    EntityDescription(
        key="smart_{instance}_problem",
        name="SMART problem",
        platform="binary_sensor",
        value=_problem,
        instances=ItemField(_disks, "health").instances,
        device=_device,
        device_class="problem",
    ),
    _number(
        "temperature", "Temperature", "temperature", unit="°C", device_class="temperature", state_class="measurement"
    ),
    _number(
        "power_on_hours",
        "Power-on hours",
        "power_on_hours",
        unit="h",
        device_class="duration",
        state_class="total_increasing",
        entity_category="diagnostic",
    ),
    _number(
        "power_cycles", "Power cycles", "power_cycles", state_class="total_increasing", entity_category="diagnostic"
    ),
    _number(
        "reallocated_sectors",
        "Reallocated sectors",
        "reallocated_sectors",
        state_class="measurement",
        icon="mdi:harddisk-remove",
    ),
    _number(
        "pending_sectors", "Pending sectors", "pending_sectors", state_class="measurement", icon="mdi:harddisk-remove"
    ),
    _number(
        "uncorrectable_sectors",
        "Uncorrectable sectors",
        "uncorrectable_sectors",
        state_class="measurement",
        icon="mdi:harddisk-remove",
    ),
    _number("percentage_used", "Wear", "percentage_used", unit="%", state_class="measurement", icon="mdi:gauge"),
    _number(
        "available_spare",
        "Available spare",
        "available_spare",
        unit="%",
        state_class="measurement",
        entity_category="diagnostic",
    ),
    _number("media_errors", "Media errors", "media_errors", state_class="measurement", icon="mdi:alert-circle"),
)
