"""`EntityDescription` and `DeviceInfo`: entities declared as frozen data, plus the id and slug rules."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "NO_INSTANCE",
    "DeviceInfo",
    "EntityDescription",
    "EntityDetails",
    "ItemField",
    "Platform",
    "StateValue",
    "entity_id_for",
    "finite_number",
    "slugify",
]

Platform = Literal["sensor", "binary_sensor", "switch", "button"]
StateValue = str | int | float | bool | datetime | None
NO_INSTANCE = ""

_SnapT = TypeVar("_SnapT")
_NON_SLUG = re.compile(r"[^a-z0-9_]+")
_UNDERSCORES = re.compile(r"_{2,}")


def slugify(text: str, *, separator: str = "_") -> str:
    """Home Assistant's slug: ASCII lowercase, runs of other characters folded into one separator."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _UNDERSCORES.sub("_", _NON_SLUG.sub("_", ascii_text.lower())).strip("_")
    return slug.replace("_", separator) if separator != "_" else slug


def entity_id_for(platform: str, node: str, key: str) -> str:
    """`<platform>.<node>_<key>`, both parts slugged."""
    return f"{platform}.{slugify(f'{node}_{key}')}"


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceInfo:
    """A device entities belong to: the host itself, or one container on it (`via_device` the host)."""

    identifier: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    via_device: str | None = None
    configuration_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__slots__ if getattr(self, key) is not None}


@dataclass(frozen=True, kw_only=True, slots=True)
class EntityDetails:
    """Per-instance facts that override a description's, for entities known only at run time (MQTT ingest).

    `object_id` replaces `<node>_<key>` in the entity id, so an entity ingested from another node keeps its own
    id (`sensor.pi_cpu_percent`); `node` names the node the entity belongs to (sinks publish only their own).
    """

    object_id: str | None = None
    node: str | None = None
    name: str | None = None
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    icon: str | None = None
    entity_category: Literal["diagnostic", "config"] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EntityDescription(Generic[_SnapT]):
    """One kind of entity an integration provides, with a pure function from its snapshot to a value.

    `value(snapshot, instance)` gets `NO_INSTANCE` for a single entity; with `instances`, one entity is
    made per instance the snapshot has (a disk, an interface, a container) and `key` and `name` may hold
    `{instance}`. With `counter=True` the value is a cumulative counter and the hub publishes its rate per
    second between two snapshots instead. For `switch` and `button` entities, `commands` maps an accepted
    payload (`ON`, `OFF`, `PRESS`) to the service of the integration's domain that carries it out. `details`,
    when set, gives each instance its own id, unit, classes and node (read once, when the entity first appears);
    `device` is read with every full snapshot, so a device's facts that arrive late (a UPS's maker) still reach it.
    """

    key: str
    name: str
    value: Callable[[_SnapT, str], StateValue]
    platform: Platform = "sensor"
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    icon: str | None = None
    entity_category: Literal["diagnostic", "config"] | None = None
    instances: Callable[[_SnapT], Iterable[str]] | None = None
    attributes: Callable[[_SnapT, str], Mapping[str, Any]] | None = None
    device: Callable[[_SnapT, str], DeviceInfo] | None = None
    counter: bool = False
    precision: int | None = None
    commands: Mapping[str, str] = field(default_factory=dict)
    details: Callable[[_SnapT, str], EntityDetails] | None = None

    def key_for(self, instance: str) -> str:
        return slugify(self.key.format(instance=instance)) if instance else self.key

    def name_for(self, instance: str) -> str:
        return self.name.format(instance=instance) if instance else self.name


def finite_number(value: object) -> float | None:
    """A state or a reading as a finite float (`"21.5"`, `21.5`), or None for anything else: text that is no number,
    NaN, an infinity, a bool, None (Home Assistant's rule for what a numeric state is)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class ItemField(Generic[_SnapT]):
    """One field of each item of a snapshot's collection (disks, pools, GPUs, UPSes), as a description's
    `instances` and `value`: an entity per item that has the field (not None), whose value is the field.

    `items` gives the collection by instance key; an item is read by key when it is a mapping, else by attribute.
    """

    items: Callable[[_SnapT], Mapping[str, Any]]
    name: str

    def instances(self, snapshot: _SnapT) -> list[str]:
        return [key for key, item in self.items(snapshot).items() if self._read(item) is not None]

    def value(self, snapshot: _SnapT, key: str) -> StateValue:
        return self._read(self.items(snapshot)[key])  # type: ignore[no-any-return]

    def _read(self, item: Any) -> Any:
        return item.get(self.name) if isinstance(item, Mapping) else getattr(item, self.name)
