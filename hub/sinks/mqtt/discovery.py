"""Home Assistant MQTT discovery payloads, derived from registry entries (ha-protocols.md section 3).

Staleness is told by availability, never by `expire_after`: every entity names two availability topics with
`availability_mode: all`, the node's (`online` while the hub is connected, `offline` as its Last Will) and its
own (`offline` while the hub holds the entity `unavailable`). A value that holds still is published once,
retained, and stays live for as long as the hub does (docs/mqtt.md, "Staleness").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import DeviceInfo, RegistryEntry

from .topics import Topics

__all__ = ["Discovery", "device_payload"]

ORIGIN_NAME = "homelab-hub"
SUPPORT_URL = "https://github.com/homelab-hub/homelab-hub"

# Our binary_sensor and switch states are `on`/`off`; HA's defaults are `ON`/`OFF` (section 3.4).
_STATE_ON = "on"
_STATE_OFF = "off"
_STATEFUL = frozenset({"sensor", "binary_sensor", "switch"})
# HA refuses a sensor whose entity_category is `config` (3.3: sensors are diagnostic only).
_CATEGORY_ALLOWED = {"sensor": {"diagnostic"}, "binary_sensor": {"diagnostic"}}


def _device(device: DeviceInfo) -> dict[str, Any]:
    payload: dict[str, Any] = {"identifiers": [device.identifier], "name": device.name}
    for key in ("manufacturer", "model", "sw_version", "via_device", "configuration_url"):
        value = getattr(device, key)
        if value is not None:
            payload[key] = value
    return payload


@dataclass(frozen=True, slots=True)
class Discovery:
    """Builds the discovery messages of one node's entities."""

    topics: Topics
    version: str

    @property
    def origin(self) -> dict[str, str]:
        return {"name": ORIGIN_NAME, "sw_version": self.version, "support_url": SUPPORT_URL}

    def component(self, entry: RegistryEntry) -> dict[str, Any]:
        """The per-component payload: works on every Home Assistant from 2024.3 on."""
        payload = self.entity_options(entry)
        payload["device"] = _device(entry.device)
        payload["origin"] = self.origin
        return payload

    def entity_options(self, entry: RegistryEntry) -> dict[str, Any]:
        """What describes the entity itself, its availability included, without device and origin."""
        object_id = entry.object_id
        payload: dict[str, Any] = {
            "name": entry.name,
            "unique_id": entry.unique_id,
            "object_id": object_id,
            "default_entity_id": entry.entity_id,
            "json_attributes_topic": self.topics.attributes(object_id),
            "availability": [
                {"topic": self.topics.availability},
                {"topic": self.topics.entity_availability(object_id)},
            ],
            "availability_mode": "all",
        }
        if entry.platform in _STATEFUL:
            payload["state_topic"] = self.topics.state(object_id)
        for key, value in (
            ("unit_of_measurement", entry.unit),
            ("device_class", entry.device_class),
            ("state_class", entry.state_class if entry.platform == "sensor" else None),
            ("icon", entry.icon),
        ):
            if value is not None:
                payload[key] = value
        category = entry.entity_category
        if category is not None and category in _CATEGORY_ALLOWED.get(entry.platform, {category}):
            payload["entity_category"] = category
        payload.update(_platform_options(entry, self.topics.command(object_id)))
        return payload


def _platform_options(entry: RegistryEntry, command_topic: str) -> dict[str, Any]:
    if entry.platform == "binary_sensor":
        return {"payload_on": _STATE_ON, "payload_off": _STATE_OFF}
    if entry.platform == "switch":
        # HA requires a command topic; a switch that declares no commands has every payload refused there.
        return {
            "command_topic": command_topic,
            "payload_on": "ON",
            "payload_off": "OFF",
            "state_on": _STATE_ON,
            "state_off": _STATE_OFF,
        }
    if entry.platform == "button":
        return {"command_topic": command_topic, "payload_press": "PRESS"}
    return {}


def device_payload(
    discovery: Discovery, device: DeviceInfo, entries: Iterable[RegistryEntry], removed: Mapping[str, str]
) -> dict[str, Any]:
    """One device-discovery message (HA 2024.12+): the device, origin and its components, each with its availability.

    `removed` maps object ids of components that went away to their platform: each is sent once as
    `{"platform": ...}` alone, which is how HA is told to drop one component of a device (3.5).
    """
    components: dict[str, Any] = {object_id: {"platform": platform} for object_id, platform in removed.items()}
    for entry in entries:
        components[entry.object_id] = {"platform": entry.platform, **discovery.entity_options(entry)}
    return {
        "device": _device(device),
        "origin": discovery.origin,
        "components": components,
    }
