"""What each array and pool shows, one device each: its state, whether it is degraded (a problem), repair progress
(md) or errors, use and the age of the last scrub (ZFS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core import DeviceInfo, EntityDescription, ItemField, StateValue

from .mdstat import MdArray
from .zfs import Pool

__all__ = ["ENTITIES", "RaidSnapshot"]


@dataclass(frozen=True, slots=True)
class RaidSnapshot:
    node: str
    arrays: Mapping[str, MdArray]
    pools: Mapping[str, Pool]
    read_at: datetime


def _arrays(snapshot: RaidSnapshot) -> list[str]:
    return list(snapshot.arrays)


def _pools(snapshot: RaidSnapshot) -> list[str]:
    return list(snapshot.pools)


def _array_device(snapshot: RaidSnapshot, name: str) -> DeviceInfo:
    array = snapshot.arrays[name]
    return DeviceInfo(
        identifier=f"{snapshot.node}_md_{name}",
        name=name,
        model=f"Linux software RAID {array.level or ''}".strip(),
        via_device=snapshot.node,
    )


def _pool_device(snapshot: RaidSnapshot, name: str) -> DeviceInfo:
    return DeviceInfo(identifier=f"{snapshot.node}_zpool_{name}", name=name, model="ZFS pool", via_device=snapshot.node)


def _array_state(snapshot: RaidSnapshot, name: str) -> StateValue:
    array = snapshot.arrays[name]
    return "degraded" if array.degraded and array.state == "active" else array.state


def _array_attributes(snapshot: RaidSnapshot, name: str) -> Mapping[str, Any]:
    array = snapshot.arrays[name]
    facts: dict[str, Any] = {
        "level": array.level,
        "devices": array.devices,
        "failed_devices": array.failed,
        "spare_devices": array.spares,
        "in_sync": None if array.wanted is None else f"{array.in_sync}/{array.wanted}",
        "action": array.action,
        "finish_minutes": array.finish_minutes,
    }
    return {key: value for key, value in facts.items() if value not in (None, [])}


def _pool_attributes(snapshot: RaidSnapshot, name: str) -> Mapping[str, Any]:
    pool = snapshot.pools[name]
    facts: dict[str, Any] = {
        "size_bytes": pool.size_bytes,
        "allocated_bytes": pool.allocated_bytes,
        "free_bytes": pool.free_bytes,
        "last_scrub": pool.last_scrub.isoformat() if pool.last_scrub else None,
        "scrub_errors": pool.scrub_errors,
        "scrubbing": pool.scrubbing,
    }
    return {key: value for key, value in facts.items() if value is not None}


def _scrub_days(snapshot: RaidSnapshot, name: str) -> StateValue:
    last = snapshot.pools[name].last_scrub
    return None if last is None else round((snapshot.read_at - last).total_seconds() / 86400, 1)


def _failed_count(snapshot: RaidSnapshot, name: str) -> StateValue:
    return len(snapshot.arrays[name].failed)


def _array_problem(snapshot: RaidSnapshot, name: str) -> StateValue:
    array = snapshot.arrays[name]
    return array.degraded or bool(array.failed) or array.state == "inactive"


def _pool_problem(snapshot: RaidSnapshot, name: str) -> StateValue:
    pool = snapshot.pools[name]
    return pool.health != "ONLINE" or bool(pool.errors)


def _array_items(snapshot: RaidSnapshot) -> Mapping[str, Any]:
    return snapshot.arrays


def _pool_items(snapshot: RaidSnapshot) -> Mapping[str, Any]:
    return snapshot.pools


ENTITIES: tuple[EntityDescription[RaidSnapshot], ...] = (
    EntityDescription(
        key="md_{instance}_state",
        name="State",
        value=_array_state,
        instances=_arrays,
        attributes=_array_attributes,
        device=_array_device,
        icon="mdi:harddisk-plus",
    ),
    EntityDescription(
        key="md_{instance}_problem",
        name="Problem",
        platform="binary_sensor",
        value=_array_problem,
        instances=_arrays,
        device=_array_device,
        device_class="problem",
    ),
    EntityDescription(
        key="md_{instance}_failed_devices",
        name="Failed devices",
        value=_failed_count,
        instances=_arrays,
        device=_array_device,
        state_class="measurement",
    ),
    EntityDescription(
        key="md_{instance}_sync_progress",
        name="Repair progress",
        value=ItemField(_array_items, "progress").value,
        instances=_arrays,
        device=_array_device,
        unit="%",
        state_class="measurement",
        icon="mdi:progress-wrench",
    ),
    EntityDescription(
        key="zpool_{instance}_health",
        name="Health",
        value=ItemField(_pool_items, "health").value,
        instances=_pools,
        attributes=_pool_attributes,
        device=_pool_device,
        icon="mdi:database",
    ),
    EntityDescription(
        key="zpool_{instance}_problem",
        name="Problem",
        platform="binary_sensor",
        value=_pool_problem,
        instances=_pools,
        device=_pool_device,
        device_class="problem",
    ),
    EntityDescription(
        key="zpool_{instance}_capacity",
        name="Capacity used",
        value=ItemField(_pool_items, "capacity_percent").value,
        instances=ItemField(_pool_items, "capacity_percent").instances,
        device=_pool_device,
        unit="%",
        state_class="measurement",
    ),
    EntityDescription(
        key="zpool_{instance}_fragmentation",
        name="Fragmentation",
        value=ItemField(_pool_items, "fragmentation_percent").value,
        instances=ItemField(_pool_items, "fragmentation_percent").instances,
        device=_pool_device,
        unit="%",
        state_class="measurement",
        entity_category="diagnostic",
    ),
    EntityDescription(
        key="zpool_{instance}_errors",
        name="Errors",
        value=ItemField(_pool_items, "errors").value,
        instances=ItemField(_pool_items, "errors").instances,
        device=_pool_device,
        state_class="measurement",
        icon="mdi:alert-circle",
    ),
    EntityDescription(
        key="zpool_{instance}_last_scrub",
        name="Days since scrub",
        value=_scrub_days,
        instances=ItemField(_pool_items, "last_scrub").instances,
        device=_pool_device,
        unit="d",
        state_class="measurement",
        icon="mdi:broom",
    ),
)
