"""`Ingest`: what each subscribed topic means, and the readings it changes (no network here).

A message that cannot be used (not UTF-8, not JSON where JSON is expected, no value at the JSON path, a value
longer than a state holds) is logged, at most once a minute per topic, and never stops the messages after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hub.core import EntityDetails, StateValue
from hub.core.log_limit import LogLimit, shown
from hub.core.states import MAX_STATE_LENGTH

from .config import MqttIngestConfig, TopicEntity
from .discovery import DiscoveryTopic, Unusable, json_value, parse_config, parse_topic
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

    def __init__(self, config: MqttIngestConfig, node: str, junk: LogLimit) -> None:
        self._config = config
        self._node = node
        self._junk = junk
        self.readings: dict[str, Reading] = {}
        self._routes: dict[str, dict[str, set[str]]] = {}
        """Topic -> kind of message there (state, availability, attributes) -> the instances it feeds."""
        self._discovery_root = f"{config.discovery_prefix}/" if config.discovery else None
        self._from_config: dict[str, list[str]] = {}
        self._last: dict[str, bytes] = {}
        """The latest payload of each routed topic: an entity joining a shared topic (the availability of a
        whole node) starts from it, since the broker replays retained messages only on a new subscription."""
        for entity in config.topics:
            self._add(_topic_remote(entity), Changes())

    def subscriptions(self) -> list[str]:
        """Every topic to subscribe to on (re)connect."""
        topics = set(self._routes)
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
        if self._discovery_root is not None and topic.startswith(self._discovery_root):
            where = parse_topic(self._config.discovery_prefix, topic)
            if where is not None:
                if where.node != self._node:  # our own node's configs: ingesting them would loop
                    self._configure(topic, where, payload, changes)
                return changes
        routes = self._routes.get(topic)
        if routes is not None:
            self._last[topic] = payload
            for kind, instances in routes.items():
                for instance in instances:
                    self._apply_one(topic, kind, instance, payload, changes)
        return changes

    def _apply_one(self, topic: str, kind: str, instance: str, payload: bytes, changes: Changes) -> None:
        remote = self.readings[instance].remote
        if kind == "state":
            if payload:  # HA ignores an empty state payload too
                try:
                    value = _parse(remote, payload)
                except Unusable as err:  # the entity reads unknown, as HA's does when its template fails
                    self._unusable(topic, payload, err)
                    value = None
                self._set(instance, changes, value=value)
        elif kind == "availability":
            text = payload.decode(errors="replace")
            for item in remote.availability:
                if item.topic == topic and text in (item.payload_available, item.payload_not_available):
                    reading = self.readings[instance]
                    self._set(instance, changes, **reading.hearing(topic, text == item.payload_available))
        else:
            try:
                attributes = _json_object(payload)
            except Unusable as err:
                self._unusable(topic, payload, err)
            else:
                self._set(instance, changes, attributes=attributes)

    def _unusable(self, topic: str, payload: bytes, err: Unusable) -> None:
        self._junk.warning(topic, "Unusable MQTT message on %s: %s; payload %s", topic, err, shown(payload))

    def _set(self, instance: str, changes: Changes, **fields: Any) -> None:
        reading = self.readings[instance]
        updated = replace(reading, **fields)
        if updated != reading:
            self.readings[instance] = updated
            changes.changed.add(instance)

    def _configure(self, topic: str, where: DiscoveryTopic, payload: bytes, changes: Changes) -> None:
        try:
            remotes = list(parse_config(where, payload)) if payload else []
        except Unusable as err:  # HA ignores it too, and keeps what the topic described before
            self._unusable(topic, payload, err)
            return
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
        self.readings[remote.instance] = Reading(remote, available=not remote.availability)
        for kind, topic in self._topics_of(remote):
            if topic not in self._routes:
                changes.subscribe.append(topic)
            self._routes.setdefault(topic, {}).setdefault(kind, set()).add(remote.instance)
            if topic in self._last:
                self._apply_one(topic, kind, remote.instance, self._last[topic], changes)
        changes.changed.add(remote.instance)

    def _drop(self, instance: str, changes: Changes) -> None:
        reading = self.readings.pop(instance)
        changes.changed.discard(instance)
        changes.restructured = True
        for kind, topic in self._topics_of(reading.remote):
            routes = self._routes.get(topic)
            route = routes.get(kind) if routes is not None else None
            if routes is None or route is None:
                continue
            route.discard(instance)
            if not route:
                del routes[kind]
            if not routes:
                del self._routes[topic]
                changes.unsubscribe.append(topic)
                self._last.pop(topic, None)

    @staticmethod
    def _topics_of(remote: Remote) -> list[tuple[str, str]]:
        pairs = [
            ("state", remote.state_topic),
            *(("availability", item.topic) for item in remote.availability),
            ("attributes", remote.attributes_topic),
        ]
        return [(kind, topic) for kind, topic in pairs if topic]


_HA_UNKNOWN = "None"
"""The state payload Home Assistant reads as unknown (PAYLOAD_NONE); a hub publishes `unknown` so."""


def _json_object(payload: bytes) -> dict[str, Any]:
    data = json_value(payload)
    if not isinstance(data, dict):
        raise Unusable(f"expected a JSON object, got {type(data).__name__}")
    return data


def _parse(remote: Remote, payload: bytes) -> StateValue:
    """A state payload as a value: the text, or the value at the JSON path; on/off for two-state platforms."""
    if not remote.json_path:
        try:
            value: Any = payload.decode()
        except UnicodeDecodeError as err:
            raise Unusable("not UTF-8") from err
    else:
        value = json_value(payload)
        try:
            for part in remote.json_path:
                value = value[int(part)] if isinstance(value, list) else value[part]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise Unusable(f"no value at {'.'.join(remote.json_path)}") from err
    if remote.platform in ("binary_sensor", "switch"):
        text = str(value)
        if text not in (remote.payload_on, remote.payload_off):
            raise Unusable(f"neither {remote.payload_on} nor {remote.payload_off}")
        return text == remote.payload_on
    if not isinstance(value, bool | int | float | str):
        raise Unusable(f"expected a number or text, got {type(value).__name__}")
    if isinstance(value, str) and len(value) > MAX_STATE_LENGTH:
        raise Unusable(f"{len(value)} characters, more than a state holds ({MAX_STATE_LENGTH})")
    return value if value not in ("", _HA_UNKNOWN) else None
