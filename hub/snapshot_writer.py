"""`SnapshotWriter`: turns an integration's snapshots into entity states through its descriptions."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hub.core import (
    NO_INSTANCE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Core,
    DeviceInfo,
    EntityDescription,
    EntityDetails,
    RegistryEntry,
    StateValue,
    clock,
    entity_id_for,
    slugify,
)
from hub.core.states import MAX_STATE_LENGTH

__all__ = ["SnapshotWriter", "format_state"]

_LOGGER = logging.getLogger(__name__)
_ON_OFF_PLATFORMS = frozenset({"binary_sensor", "switch"})


def format_state(value: StateValue, platform: str, precision: int | None) -> str:
    """A value as Home Assistant state text: `on`/`off`, a rounded number, ISO time, or `unknown`."""
    if value is None:
        return STATE_UNKNOWN
    if isinstance(value, bool):
        return ("on" if value else "off") if platform in _ON_OFF_PLATFORMS else str(value).lower()
    if isinstance(value, float):
        if not math.isfinite(value):
            return STATE_UNKNOWN
        if precision is not None:
            value = round(value, precision)
            return str(int(value)) if precision == 0 else str(value)
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True, slots=True)
class _Slot:
    """One concrete entity: a description and the instance it stands for."""

    description: EntityDescription[Any]
    instance: str
    entity_id: str


class SnapshotWriter:
    """Writes one integration's entities: registers them, derives counter rates, removes vanished ones."""

    def __init__(
        self,
        core: Core,
        *,
        integration_id: str,
        domain: str,
        descriptions: Iterable[EntityDescription[Any]],
        default_device: DeviceInfo,
    ) -> None:
        self._core = core
        self._integration_id = integration_id
        self._domain = domain
        self._descriptions = tuple(descriptions)
        self._default_device = default_device
        self._slots: dict[str, _Slot] = {}
        self._detailed: dict[tuple[str, str], str] = {}
        """Entity id of each (description key, instance) whose id comes from `details`."""
        self._counters: dict[str, tuple[float, float]] = {}

    def instance_of(self, entity_id: str) -> str | None:
        slot = self._slots.get(entity_id)
        return slot.instance if slot is not None else None

    def entity_ids(self) -> list[str]:
        return list(self._slots)

    def write(self, snapshot: Any, taken_at: float | None = None, *, partial: bool = False) -> None:
        """Apply one snapshot: every entity it has is written, entities it no longer has are removed.

        A `partial` snapshot carries only some entities (a push integration's latest changes): those are
        written, nothing is removed, and known entities' `details` are not read again.
        """
        taken_at = clock.monotonic() if taken_at is None else taken_at
        seen: set[str] = set()
        for description in self._descriptions:
            for instance in self._instances(description, snapshot):
                slot = self._slot(description, instance, snapshot, refresh=not partial)
                if slot is None:
                    continue
                seen.add(slot.entity_id)
                self._write_slot(slot, snapshot, taken_at)
        if partial:
            return
        for entity_id in [e for e in self._slots if e not in seen]:
            self._forget(entity_id)

    def mark_unavailable(self) -> None:
        """Every entity of the integration becomes `unavailable`, keeping its attributes."""
        for entity_id in self._slots:
            current = self._core.states.get(entity_id)
            attributes = current.attributes if current is not None else None
            self._core.states.set(entity_id, STATE_UNAVAILABLE, attributes)
        self._counters.clear()

    def remove_all(self) -> None:
        for entity_id in list(self._slots):
            self._forget(entity_id)

    def _instances(self, description: EntityDescription[Any], snapshot: Any) -> Iterable[str]:
        if description.instances is None:
            return (NO_INSTANCE,)
        try:
            return list(description.instances(snapshot))
        except Exception:
            _LOGGER.exception("Instances of %s.%s failed", self._integration_id, description.key)
            return ()

    def _slot(
        self, description: EntityDescription[Any], instance: str, snapshot: Any, *, refresh: bool
    ) -> _Slot | None:
        key = description.key_for(instance)
        if description.details is None:
            entity_id = entity_id_for(description.platform, self._core.node, key)
            slot = self._slots.get(entity_id)
            if slot is not None and slot.description is description:
                if refresh and description.device is not None:
                    self._refresh_device(slot, snapshot)
                return slot
            return self._register(description, instance, snapshot, entity_id, EntityDetails())
        known = self._detailed.get((description.key, instance))
        if known is not None and not refresh and known in self._slots:
            return self._slots[known]
        try:
            details = description.details(snapshot, instance)
        except Exception:
            _LOGGER.exception("Details of %s.%s failed", self._integration_id, key)
            return None
        if details.object_id:
            entity_id = f"{description.platform}.{slugify(details.object_id)}"
        else:
            entity_id = entity_id_for(description.platform, self._core.node, key)
        self._detailed[(description.key, instance)] = entity_id
        return self._register(description, instance, snapshot, entity_id, details)

    def _register(
        self,
        description: EntityDescription[Any],
        instance: str,
        snapshot: Any,
        entity_id: str,
        details: EntityDetails,
    ) -> _Slot | None:
        try:
            device = description.device(snapshot, instance) if description.device else self._default_device
        except Exception:
            _LOGGER.exception("Device of %s failed", entity_id)
            return None
        slot = self._slots.get(entity_id)
        if slot is None or slot.description is not description or slot.instance != instance:
            slot = _Slot(description, instance, entity_id)
            self._slots[entity_id] = slot
        self._core.entities.add(
            RegistryEntry(
                entity_id=entity_id,
                unique_id=f"{self._core.node}_{self._integration_id}_{description.key_for(instance)}",
                platform=description.platform,
                name=details.name or description.name_for(instance),
                node=details.node or self._core.node,
                integration=self._integration_id,
                device=device,
                unit=details.unit or description.unit,
                device_class=details.device_class or description.device_class,
                state_class=details.state_class or description.state_class,
                icon=details.icon or description.icon,
                entity_category=details.entity_category or description.entity_category,
                commands={payload: f"{self._domain}.{svc}" for payload, svc in description.commands.items()},
            )
        )
        return slot

    def _refresh_device(self, slot: _Slot, snapshot: Any) -> None:
        """A device learns facts after its first reading (a UPS's maker, a disk's firmware): the entry follows, and
        its registry update tells the sinks (MQTT discovery sends the device again)."""
        assert slot.description.device is not None
        try:
            device = slot.description.device(snapshot, slot.instance)
        except Exception:
            _LOGGER.exception("Device of %s failed", slot.entity_id)
            return
        entry = self._core.entities.get(slot.entity_id)
        if entry is not None and entry.device != device:
            self._core.entities.add(replace(entry, device=device))

    def _write_slot(self, slot: _Slot, snapshot: Any, taken_at: float) -> None:
        description = slot.description
        try:
            value = description.value(snapshot, slot.instance)
            extra = description.attributes(snapshot, slot.instance) if description.attributes else None
        except Exception:
            _LOGGER.exception("Value of %s failed", slot.entity_id)
            value, extra = None, None
        if description.counter:
            value = self._rate(slot.entity_id, value, taken_at)
            if value is None:
                if self._core.states.get(slot.entity_id) is None:
                    self._core.states.set(slot.entity_id, STATE_UNKNOWN, self._attributes(slot, extra))
                return
        state = format_state(value, description.platform, description.precision)
        if len(state) > MAX_STATE_LENGTH:
            # Home Assistant's answer: the entity reads unknown. Raised out of here, one long MQTT payload once
            # stopped the ingest for good (tests/chaos/test_fuzz_mqtt_payloads.py).
            _LOGGER.warning(
                "Value of %s has %d characters (at most %d); unknown", slot.entity_id, len(state), MAX_STATE_LENGTH
            )
            state = STATE_UNKNOWN
        self._core.states.set(slot.entity_id, state, self._attributes(slot, extra))

    def _rate(self, entity_id: str, value: StateValue, taken_at: float) -> float | None:
        """Per-second rate between this and the previous snapshot; None on the first one and on resets."""
        if not isinstance(value, int | float) or isinstance(value, bool):
            self._counters.pop(entity_id, None)
            return None
        previous = self._counters.get(entity_id)
        self._counters[entity_id] = (float(value), taken_at)
        if previous is None:
            return None
        elapsed = taken_at - previous[1]
        delta = float(value) - previous[0]
        if elapsed <= 0 or delta < 0:
            return None
        return delta / elapsed

    def _attributes(self, slot: _Slot, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        entry = self._core.entities.get(slot.entity_id)
        attributes: dict[str, Any] = dict(extra) if extra else {}
        if entry is None:
            attributes["friendly_name"] = f"{self._core.node} {slot.description.name_for(slot.instance)}"
            return attributes
        if entry.state_class:
            attributes["state_class"] = entry.state_class
        if entry.unit:
            attributes["unit_of_measurement"] = entry.unit
        if entry.device_class:
            attributes["device_class"] = entry.device_class
        if entry.icon:
            attributes["icon"] = entry.icon
        attributes["friendly_name"] = f"{entry.device.name} {entry.name}"
        return attributes

    def _forget(self, entity_id: str) -> None:
        slot = self._slots.pop(entity_id, None)
        if slot is not None and self._detailed.get((slot.description.key, slot.instance)) == entity_id:
            del self._detailed[(slot.description.key, slot.instance)]
        self._counters.pop(entity_id, None)
        self._core.states.remove(entity_id)
        self._core.entities.remove(entity_id)
