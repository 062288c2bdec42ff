"""`Ingest`: what each subscribed topic means, and the readings it changes (no network here)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hub.core import EntityDetails, StateValue

from .config import MqttIngestConfig, TopicEntity
from .discovery import DiscoveryTopic, parse_config, parse_topic
from .entities import IngestSnapshot, Reading, Remote

__all__ = ["Changes", "Ingest"]


@dataclass(slots=True)
class Changes:
    """What one message did: readings to report, whether entities came or went, topics to (un)subscribe."""

    changed: set[str] = field(default_factory=set)
    restructured: bool = False
    subscribe: list[str] = field(default_factory=list)
    unsubscribe: list[str] = field(default_factory=list)


def _topic_remote(entity: TopicEntity) -> Remote:
    return Remote(
        instance=entity.key,
        platform=entity.platform,
        state_topic=entity.topic,
        details=EntityDetails(
            name=entity.name, unit=entity.unit, device_class=entity.device_class, state_class=entity.state_class
        ),
        json_path=tuple(entity.json_path.split(".")) if entity.json_path else (),
        payload_on=entity.payload_on,
        payload_off=entity.payload_off,
    )


class Ingest:
    """Readings by instance, and the routes from topics to the instances they feed."""

    def __init__(self, config: MqttIngestConfig, node: str) -> None:
        self._config = config
        self._node = node
        self.readings: dict[str, Reading] = {}
        self._routes: dict[str, dict[str, set[str]]] = {"state": {}, "availability": {}, "attributes": {}}
        self._from_config: dict[str, list[str]] = {}
        self._last: dict[str, bytes] = {}
        """The latest payload of each routed topic: an entity joining a shared topic (the availability of a
        whole node) starts from it, since the broker replays retained messages only on a new subscription."""
        for entity in config.topics:
            self._add(_topic_remote(entity), Changes())

    def subscriptions(self) -> list[str]:
        """Every topic to subscribe to on (re)connect."""
        topics = {topic for routes in self._routes.values() for topic in routes}
        if self._config.discovery:
            prefix = self._config.discovery_prefix
            topics |= {f"{prefix}/+/+/config", f"{prefix}/+/+/+/config"}
        return sorted(topics)

    def snapshot(self, instances: Iterable[str] | None = None) -> IngestSnapshot:
        if instances is None:
            return IngestSnapshot(dict(self.readings))
        return IngestSnapshot({i: self.readings[i] for i in instances if i in self.readings})

    def handle(self, topic: str, payload: bytes, changes: Changes | None = None) -> Changes:
        """One message, its effects added to `changes` (a batch's shared set) or to a new one."""
        changes = Changes() if changes is None else changes
        if self._config.discovery:
            where = parse_topic(self._config.discovery_prefix, topic)
            if where is not None:
                if where.node != self._node:  # our own node's configs: ingesting them would loop
                    self._configure(topic, where, payload, changes)
                return changes
        if any(topic in routes for routes in self._routes.values()):
            self._last[topic] = payload
            self._apply(topic, payload, changes)
        return changes

    def _apply(self, topic: str, payload: bytes, changes: Changes) -> None:
        """A message on a routed topic, for every instance it feeds."""
        for kind, routes in self._routes.items():
            for instance in routes.get(topic, ()):
                self._apply_one(kind, instance, payload, changes)

    def _apply_one(self, kind: str, instance: str, payload: bytes, changes: Changes) -> None:
        remote = self.readings[instance].remote
        if kind == "state":
            if payload:  # HA ignores an empty state payload too
                self._set(instance, changes, value=_parse(remote, payload))
        elif kind == "availability":
            text = payload.decode(errors="replace")
            if text in (remote.payload_available, remote.payload_not_available):
                self._set(instance, changes, available=text == remote.payload_available)
        else:
            attributes = _json_object(payload)
            if attributes is not None:
                self._set(instance, changes, attributes=attributes)

    def _set(self, instance: str, changes: Changes, **fields: Any) -> None:
        reading = self.readings[instance]
        updated = replace(reading, **fields)
        if updated != reading:
            self.readings[instance] = updated
            changes.changed.add(instance)

    def _configure(self, topic: str, where: DiscoveryTopic, payload: bytes, changes: Changes) -> None:
        remotes = list(parse_config(where, payload)) if payload else []
        old = self._from_config.pop(topic, [])
        new = [remote.instance for remote in remotes]
        for instance in old:
            if instance not in new:
                self._drop(instance, changes)
        for remote in remotes:
            current = self.readings.get(remote.instance)
            if current is not None and current.remote == remote:
                continue
            if current is not None:
                self._drop(remote.instance, changes)
            self._add(remote, changes)
        if new:
            self._from_config[topic] = new

    def _add(self, remote: Remote, changes: Changes) -> None:
        # With an availability topic the entity is unavailable until it says otherwise (HA does the same).
        self.readings[remote.instance] = Reading(remote, available=remote.availability_topic is None)
        for kind, topic in self._topics_of(remote):
            if not any(topic in routes for routes in self._routes.values()):
                changes.subscribe.append(topic)
            self._routes[kind].setdefault(topic, set()).add(remote.instance)
            if topic in self._last:
                self._apply_one(kind, remote.instance, self._last[topic], changes)
        changes.changed.add(remote.instance)

    def _drop(self, instance: str, changes: Changes) -> None:
        reading = self.readings.pop(instance)
        changes.changed.discard(instance)
        changes.restructured = True
        for kind, topic in self._topics_of(reading.remote):
            route = self._routes[kind].get(topic)
            if route is None:
                continue
            route.discard(instance)
            if not route:
                del self._routes[kind][topic]
                if not any(topic in r for r in self._routes.values()):
                    changes.unsubscribe.append(topic)
                    self._last.pop(topic, None)

    @staticmethod
    def _topics_of(remote: Remote) -> list[tuple[str, str]]:
        pairs = [
            ("state", remote.state_topic),
            ("availability", remote.availability_topic),
            ("attributes", remote.attributes_topic),
        ]
        return [(kind, topic) for kind, topic in pairs if topic]


def _json_object(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # nesting too deep is junk too (tests/chaos/test_fuzz_mqtt_payloads.py)
        return None
    return data if isinstance(data, dict) else None


def _parse(remote: Remote, payload: bytes) -> StateValue:
    """A state payload as a value: the text, or the value at the JSON path; on/off for two-state platforms."""
    value: Any = payload.decode(errors="replace")
    if remote.json_path:
        try:
            value = json.loads(value)
            for part in remote.json_path:
                value = value[int(part)] if isinstance(value, list) else value[part]
        except (ValueError, RecursionError, KeyError, IndexError, TypeError):
            return None
    if remote.platform in ("binary_sensor", "switch"):
        text = str(value)
        return True if text == remote.payload_on else False if text == remote.payload_off else None
    if isinstance(value, bool | int | float | str):
        return value if value != "" else None
    return None
