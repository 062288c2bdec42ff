"""What the ingest reports: `Remote` entities with their latest values, and the descriptions the hub reads them by."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hub.core import STATE_UNAVAILABLE, DeviceInfo, EntityDescription, EntityDetails, Platform, StateValue

__all__ = ["ENTITIES", "Availability", "AvailabilityMode", "IngestSnapshot", "Reading", "Remote"]

AvailabilityMode = Literal["all", "any", "latest"]


@dataclass(frozen=True, slots=True)
class Availability:
    """One availability topic of a remote entity and the payloads it says `available` and `not available` with."""

    topic: str
    payload_available: str = "online"
    payload_not_available: str = "offline"


@dataclass(frozen=True, kw_only=True, slots=True)
class Remote:
    """The fixed facts of one ingested entity: from a configured topic or a discovery message."""

    instance: str
    platform: Platform
    state_topic: str | None
    details: EntityDetails
    device: DeviceInfo | None = None
    json_path: tuple[str, ...] = ()
    payload_on: str = "ON"
    payload_off: str = "OFF"
    command_topic: str | None = None
    commands: Mapping[str, str] = field(default_factory=dict)
    """Our payload (ON, OFF, PRESS) -> the payload the remote expects on its command topic."""
    availability: tuple[Availability, ...] = ()
    availability_mode: AvailabilityMode = "latest"
    attributes_topic: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """A remote entity and what is known of it now."""

    remote: Remote
    value: StateValue = None
    available: bool = True
    attributes: Mapping[str, Any] = field(default_factory=dict)
    heard: Mapping[str, bool] = field(default_factory=dict)
    """What each availability topic said last (a topic not heard from yet counts as not available, as in HA)."""

    def hearing(self, topic: str, available: bool) -> dict[str, Any]:
        """The fields that change when `topic` says `available`: HA's rule for the entity's availability mode."""
        heard = {**self.heard, topic: available}
        mode = self.remote.availability_mode
        if mode == "latest":
            now = available
        else:
            said = [heard.get(item.topic, False) for item in self.remote.availability]
            now = all(said) if mode == "all" else any(said)
        return {"heard": heard, "available": now}


@dataclass(frozen=True, slots=True)
class IngestSnapshot:
    """Readings by instance; a partial snapshot holds only those that changed."""

    readings: Mapping[str, Reading]


def _of(platform: Platform, discovered: bool) -> Callable[[IngestSnapshot], Iterable[str]]:
    def instances(snapshot: IngestSnapshot) -> Iterable[str]:
        return [
            instance
            for instance, reading in snapshot.readings.items()
            if reading.remote.platform == platform and (reading.remote.device is not None) == discovered
        ]

    return instances


def _value(snapshot: IngestSnapshot, instance: str) -> StateValue:
    reading = snapshot.readings[instance]
    return reading.value if reading.available else STATE_UNAVAILABLE


def _device(snapshot: IngestSnapshot, instance: str) -> DeviceInfo:
    device = snapshot.readings[instance].remote.device
    assert device is not None  # only discovered instances use this description
    return device


def _details(snapshot: IngestSnapshot, instance: str) -> EntityDetails:
    return snapshot.readings[instance].remote.details


def _attributes(snapshot: IngestSnapshot, instance: str) -> Mapping[str, Any]:
    return snapshot.readings[instance].attributes


_COMMANDS: Mapping[Platform, Mapping[str, str]] = {
    "switch": {"ON": "turn_on", "OFF": "turn_off"},
    "button": {"PRESS": "press"},
}


def _description(platform: Platform, discovered: bool) -> EntityDescription[IngestSnapshot]:
    return EntityDescription(
        key="{instance}",
        name="{instance}",
        platform=platform,
        value=_value,
        instances=_of(platform, discovered),
        attributes=_attributes,
        device=_device if discovered else None,
        details=_details,
        commands=_COMMANDS.get(platform, {}),
    )


ENTITIES: tuple[EntityDescription[IngestSnapshot], ...] = (
    _description("sensor", False),
    _description("binary_sensor", False),
    *(_description(platform, True) for platform in ("sensor", "binary_sensor", "switch", "button")),
)
