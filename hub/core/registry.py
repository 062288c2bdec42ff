"""`EntityRegistry`: what is known about each entity beyond its state (description, device, owner)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .entity import DeviceInfo, Platform
from .events import EventBus, EventType

__all__ = ["EVENT_ENTITY_REGISTRY_UPDATED", "EntityRegistry", "RegistryEntry"]

EVENT_ENTITY_REGISTRY_UPDATED: Final[EventType[Mapping[str, Any]]] = EventType("entity_registry_updated")


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryEntry:
    """The static facts of one entity, derived from its description; sinks and the API read these."""

    entity_id: str
    unique_id: str
    platform: Platform
    name: str
    node: str
    integration: str
    device: DeviceInfo
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    icon: str | None = None
    entity_category: str | None = None
    commands: Mapping[str, str] = field(default_factory=dict)

    @property
    def object_id(self) -> str:
        return self.entity_id.partition(".")[2]

    def as_dict(self) -> dict[str, Any]:
        """Home Assistant's `config/entity_registry/list` shape, for what we have."""
        return {
            "entity_id": self.entity_id,
            "unique_id": self.unique_id,
            "platform": self.integration,
            "name": None,
            "original_name": self.name,
            "device_id": self.device.identifier,
            "area_id": None,
            "disabled_by": None,
            "hidden_by": None,
            "entity_category": self.entity_category,
            "icon": None,
            "has_entity_name": False,
            "labels": [],
            "options": {},
            "translation_key": None,
            "id": self.unique_id,
        }


class EntityRegistry:
    """Entries by entity id; additions, updates and removals fire `entity_registry_updated`."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._entries: dict[str, RegistryEntry] = {}

    def get(self, entity_id: str) -> RegistryEntry | None:
        return self._entries.get(entity_id)

    def __iter__(self) -> Iterator[RegistryEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def devices(self) -> dict[str, DeviceInfo]:
        """Every device that has at least one entity, by identifier."""
        return {entry.device.identifier: entry.device for entry in self._entries.values()}

    def add(self, entry: RegistryEntry) -> None:
        """Add or replace an entry; fires only when something changed."""
        old = self._entries.get(entry.entity_id)
        if old == entry:
            return
        self._entries[entry.entity_id] = entry
        action = "create" if old is None else "update"
        self._bus.fire(EVENT_ENTITY_REGISTRY_UPDATED, {"action": action, "entity_id": entry.entity_id})

    def remove(self, entity_id: str) -> RegistryEntry | None:
        entry = self._entries.pop(entity_id, None)
        if entry is not None:
            self._bus.fire(
                EVENT_ENTITY_REGISTRY_UPDATED,
                {"action": "remove", "entity_id": entity_id, "entry": entry},
            )
        return entry
