"""`Bridge`: the node's states and discovery configs onto the broker, and its command topics back into services.

The bus listeners only mark an entity as pending (latest wins per entity, so memory is bounded by the number of
entities however long the broker is away); one writer task publishes pending configs, then states, in batches.
An `unavailable` entity is told on its own availability topic (`offline`), never as a state: Home Assistant
would read the word as the sensor's value. `unknown` goes out as `None`, Home Assistant's payload for it, where
Home Assistant 2024.3 reads it so (see `_unknown_payload`). A removed entity's config is emptied first and its
retained state, attributes and availability a moment later, once Home Assistant has dropped the entity: cleared
at once, they reached the entity while it still listened, and were logged as invalid.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Mapping
from typing import Any

import aiomqtt

from hub.config.models import MqttConfig
from hub.core import (
    EVENT_ENTITY_REGISTRY_UPDATED,
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Core,
    Event,
    RegistryEntry,
    Unsubscribe,
    clock,
)
from hub.health import Health
from hub.jsonenc import dumps
from hub.pacing import Pacer

from .client import AVAILABLE, NOT_AVAILABLE, Link
from .commands import CommandRouter
from .discovery import Discovery, device_payload
from .outbox import Outbox
from .topics import Topics

__all__ = ["Bridge"]

_LOGGER = logging.getLogger(__name__)

BATCH = 2000
"""Messages handed to paho between two drains: large enough to fill the socket, small enough to bound memory."""
_IN_CONFIG = frozenset({"friendly_name", "unit_of_measurement", "device_class", "state_class", "icon"})
"""Attributes the discovery config already carries; the JSON attributes topic holds the rest."""
_BIRTH = b"online"
_HA_UNKNOWN = "None"
"""The state payload Home Assistant's MQTT entities read as unknown (PAYLOAD_NONE)."""
CLEAR_DELAY = 2.0
"""Seconds from emptying a removed entity's config to clearing its other retained topics."""


class Bridge:
    """Publishes this node's entities and routes their commands; `session` runs once per connection."""

    def __init__(self, core: Core, config: MqttConfig, topics: Topics, health: Health, version: str) -> None:
        self._core = core
        self._config = config
        self._topics = topics
        self._health = health
        self._discovery = Discovery(topics, version)
        self._commands = CommandRouter(core, topics)
        self._configs: dict[str, None] = {}
        self._removed: dict[str, RegistryEntry] = {}
        self._clears: dict[str, tuple[float, RegistryEntry]] = {}
        """Removed entities whose retained state topics are still to be cleared, with when."""
        self._states: dict[str, None] = {}
        self._sent_attributes: dict[str, Mapping[str, Any]] = {}
        self._sent_available: dict[str, bool] = {}
        self._pacer = Pacer()
        self._births: set[asyncio.Task[None]] = set()
        self.outbox = Outbox(self._pacer)
        self.published = 0
        """Messages handed to the broker so far (tests and the benchmark)."""

    def listen(self) -> list[Unsubscribe]:
        return [
            self._core.bus.listen(EVENT_STATE_CHANGED, self._on_state),
            self._core.bus.listen(EVENT_ENTITY_REGISTRY_UPDATED, self._on_registry),
            self._commands.close,
            self._cancel_births,
        ]

    def _cancel_births(self) -> None:
        for task in list(self._births):
            task.cancel()

    def _on_state(self, event: Event[Mapping[str, Any]]) -> None:
        if event.data["new_state"] is not None:
            self._states[event.data["entity_id"]] = None
            self._pacer.wake()

    def _on_registry(self, event: Event[Mapping[str, Any]]) -> None:
        entity_id = event.data["entity_id"]
        if event.data["action"] == "remove":
            entry: RegistryEntry = event.data["entry"]
            self._commands.forget(entry)
            if entry.node == self._topics.node:
                self._configs.pop(entity_id, None)
                self._states.pop(entity_id, None)
                self._removed[entity_id] = entry
        else:
            self._removed.pop(entity_id, None)
            self._clears.pop(entity_id, None)
            self._configs[entity_id] = None
        self._pacer.wake()

    def resync(self) -> None:
        """Every config, then every state, again: after a (re)connect and on Home Assistant's `online`."""
        self._sent_attributes.clear()
        self._sent_available.clear()
        own = [entry.entity_id for entry in self._core.entities if entry.node == self._topics.node]
        self._configs.update(dict.fromkeys(own))
        self._states.update(dict.fromkeys(own))
        for entry in self._core.entities:
            self._commands.learn(entry)
        self._pacer.wake()

    async def session(self, link: Link) -> None:
        """One connection's life: subscribe, re-publish everything, then write and listen until it drops."""
        client = link.client
        await client.subscribe(self._topics.birth, qos=1)
        await client.subscribe(self._topics.command_filter, qos=self._config.qos.commands)
        self.resync()
        tasks = (
            asyncio.create_task(self._write(link), name="mqtt-sink:writer"),
            asyncio.create_task(self._listen(client), name="mqtt-sink:listener"),
        )
        try:
            # Not a TaskGroup: its ExceptionGroup would hide the one MqttError the connector retries on.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = message.topic.value
            if topic == self._topics.birth:
                if message.payload == _BIRTH:
                    task = asyncio.get_running_loop().create_task(self._after_birth(), name="mqtt-sink:birth")
                    self._births.add(task)
                    task.add_done_callback(self._births.discard)
                continue
            self._commands.handle(topic, message.payload)

    async def _after_birth(self) -> None:
        """A random wait first, so a fleet of hubs does not answer Home Assistant's birth all at once (3.6)."""
        await clock.sleep(random.uniform(0, self._config.birth_delay.total_seconds()))
        _LOGGER.info("Home Assistant came online: re-publishing discovery and states")
        self.resync()

    async def _write(self, link: Link) -> None:
        while True:
            due = min((when for when, _ in self._clears.values()), default=None)
            await self._pacer.next(None if due is None else due - clock.monotonic())
            self._publish_clears(link)
            while self._removed or self._configs or self._states or self.outbox:
                requested = self.outbox.flush(link)
                self._publish_removals(link)
                self._publish_configs(link)
                self._publish_states(link)
                await link.drain()
                self.outbox.confirm(requested)
                self._health.queue_depth = len(self._states)

    def _publish_removals(self, link: Link) -> None:
        if not self._removed:
            return
        removed, self._removed = self._removed, {}
        qos = self._config.qos
        clear_at = clock.monotonic() + CLEAR_DELAY
        for entry in removed.values():
            self._sent_attributes.pop(entry.entity_id, None)
            self._sent_available.pop(entry.entity_id, None)
            self._clears[entry.entity_id] = (clear_at, entry)
            if self._config.discovery and self._config.discovery_mode == "component":
                link.publish(self._topics.component_config(entry), b"", qos.discovery, True)
        if self._config.discovery and self._config.discovery_mode == "device":
            devices = {e.device.identifier for e in removed.values()}
            self._publish_devices(link, devices, removed)
            # Then each device again without the removed components, so its retained message no longer
            # names them (3.5: send the component as its platform alone, then re-send without it).
            for entry in self._core.entities:
                if entry.node == self._topics.node and entry.device.identifier in devices:
                    self._configs[entry.entity_id] = None

    def _publish_clears(self, link: Link) -> None:
        """Empty the retained state, attributes and availability of removed entities whose delay has passed."""
        now = clock.monotonic()
        qos = self._config.qos
        for entity_id, (when, entry) in list(self._clears.items()):
            if when <= now:
                del self._clears[entity_id]
                link.publish(self._topics.state(entry.object_id), b"", qos.states, True)
                link.publish(self._topics.attributes(entry.object_id), b"", qos.states, True)
                link.publish(self._topics.entity_availability(entry.object_id), b"", qos.availability, True)

    def _publish_configs(self, link: Link) -> None:
        if not self._configs:
            return
        configs, self._configs = self._configs, {}
        entries = [e for e in map(self._core.entities.get, configs) if e is not None]
        for entry in entries:
            self._commands.learn(entry)
        entries = [e for e in entries if e.node == self._topics.node]
        if not self._config.discovery:
            return
        if self._config.discovery_mode == "device":
            self._publish_devices(link, {e.device.identifier for e in entries}, {})
            return
        for entry in entries:
            payload = dumps(self._discovery.component(entry))
            link.publish(self._topics.component_config(entry), payload, self._config.qos.discovery, True)
            self.published += 1

    def _publish_devices(self, link: Link, identifiers: set[str], removed: Mapping[str, RegistryEntry]) -> None:
        """Device discovery: one message per touched device with all its current components."""
        members: dict[str, list[RegistryEntry]] = {identifier: [] for identifier in identifiers}
        for entry in self._core.entities:
            if entry.node == self._topics.node and entry.device.identifier in members:
                members[entry.device.identifier].append(entry)
        for identifier, entries in members.items():
            topic = self._topics.device_config(identifier)
            gone = {e.object_id: e.platform for e in removed.values() if e.device.identifier == identifier}
            if not entries:
                link.publish(topic, b"", self._config.qos.discovery, True)
                continue
            payload = device_payload(self._discovery, entries[0].device, entries, gone)
            link.publish(topic, dumps(payload), self._config.qos.discovery, True)
            self.published += 1

    def _publish_states(self, link: Link) -> None:
        batch = list(itertools.islice(self._states, BATCH))
        qos = self._config.qos.states
        for entity_id in batch:
            del self._states[entity_id]
            state = self._core.states.get(entity_id)
            entry = self._core.entities.get(entity_id)
            if state is None or entry is None or entry.node != self._topics.node:
                continue
            object_id = entry.object_id
            available = state.state != STATE_UNAVAILABLE
            value = _unknown_payload(entry) if state.state == STATE_UNKNOWN else state.state
            if available and value is not None:
                link.publish(self._topics.state(object_id), value, qos, True)
                self.published += 1
            if self._sent_available.get(entity_id) is not available:
                # After the state, so Home Assistant shows the new value, not the last one, when it comes back.
                self._sent_available[entity_id] = available
                payload = AVAILABLE if available else NOT_AVAILABLE
                link.publish(self._topics.entity_availability(object_id), payload, self._config.qos.availability, True)
                self.published += 1
            attributes = state.attributes
            sent = self._sent_attributes.get(entity_id)
            if sent is attributes or sent == attributes:
                continue
            self._sent_attributes[entity_id] = attributes
            extra = {key: value for key, value in attributes.items() if key not in _IN_CONFIG}
            link.publish(self._topics.attributes(object_id), dumps(extra), qos, True)
            self.published += 1


def _unknown_payload(entry: RegistryEntry) -> str | None:
    """What tells Home Assistant an entity is unknown: `None` for binary sensors, switches and numeric sensors.

    Home Assistant 2024.3 reads `None` as unknown for those only: a text sensor would show the word, and a
    timestamp sensor logs it as invalid. Those get nothing (a new entity is unknown there until its first value).
    """
    if entry.platform == "sensor" and entry.unit is None and entry.state_class is None:
        return None
    return _HA_UNKNOWN
