"""`MqttIngest`: entities read from a broker, from configured topics and from Home Assistant discovery."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, ClassVar, Protocol

import aiomqtt

from hub.core import ServiceCall, ServiceValidationError
from hub.integration import Integration, IntegrationService, NotReady

from .config import MqttIngestConfig
from .entities import ENTITIES, IngestSnapshot
from .ingest import Changes, Ingest

__all__ = ["MqttIngest"]

RESTRUCTURE_DELAY = 0.2
"""Seconds to gather discovery updates and removals into one full report (a fleet's configs arrive in bursts)."""


class _Commandable(Protocol):
    async def command(self, call: ServiceCall, payload: str) -> Mapping[str, Any] | None: ...


def _service(name: str, payload: str) -> IntegrationService[MqttIngestConfig]:
    async def handle(integration: _Commandable, call: ServiceCall) -> Mapping[str, Any] | None:
        return await integration.command(call, payload)

    return IntegrationService(name=name, handler=handle, description=f"Send {payload} to an ingested MQTT entity.")


SERVICES = (_service("turn_on", "ON"), _service("turn_off", "OFF"), _service("press", "PRESS"))
"""What `switch.turn_on`, `switch.turn_off` and `button.press` on an ingested entity call (its `commands`)."""


class MqttIngest(Integration[MqttIngestConfig, IngestSnapshot]):
    domain = "mqtt"
    config_model = MqttIngestConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=60)
    entities = ENTITIES
    services = SERVICES

    _client: aiomqtt.Client | None = None
    _ingest: Ingest | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        config = self.config
        where = f"MQTT broker {config.host}:{config.port}"
        client = aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=config.password.reveal() if config.password is not None else None,
            identifier=config.client_id or f"homelab-hub-{self.ctx.node}-ingest",
            tls_params=aiomqtt.TLSParameters(ca_certs=str(config.ca_file)) if config.ca_file else None,
            logger=self.ctx.logger,
        )
        try:
            async with client:
                self._client = client
                self._ingest = Ingest(config, self.ctx.node)
                self.ctx.logger.info("Reading %s", where)
                yield
        except aiomqtt.MqttError as err:
            # Refused at start or lost later: the hub marks the entities unavailable and retries with backoff.
            raise NotReady(f"{where}: {err}") from err
        finally:
            self._client = None

    async def run(self) -> None:
        client, ingest = self._require()
        for topic in ingest.subscriptions():
            await client.subscribe(topic, qos=1)
        self.ctx.report(ingest.snapshot())
        pending: set[str] = set()
        loop = asyncio.get_running_loop()
        restructure: asyncio.TimerHandle | None = None

        def flush() -> None:
            # Every message the loop took in this turn goes out in one partial report. Cleared even if the report
            # raises: a pending set left full never schedules another flush, and the ingest would go silent.
            try:
                self.ctx.report(ingest.snapshot(pending), partial=True)
            finally:
                pending.clear()

        def report_all() -> None:
            nonlocal restructure
            restructure = None
            self.ctx.report(ingest.snapshot())

        subscriptions = _Subscriptions(client)
        try:
            async for message in client.messages:
                changes = ingest.handle(message.topic.value, _bytes(message.payload))
                subscriptions.change(changes)
                if changes.changed:
                    if not pending:
                        loop.call_soon(flush)
                    pending |= changes.changed
                if changes.restructured and restructure is None:
                    restructure = loop.call_later(RESTRUCTURE_DELAY, report_all)
        finally:
            subscriptions.close()
            if restructure is not None:
                restructure.cancel()

    async def command(self, call: ServiceCall, payload: str) -> Mapping[str, Any] | None:
        """Send our payload (ON, OFF, PRESS) as the remote entity's own payload to its command topic."""
        if self._client is None or self._ingest is None:
            raise ServiceValidationError("The mqtt integration is not connected to its broker")
        client, ingest = self._client, self._ingest
        entity_ids = call.data.get("entity_id")
        for entity_id in [entity_ids] if isinstance(entity_ids, str) else list(entity_ids or ()):
            instance = self.ctx.instance_of(entity_id)
            reading = ingest.readings.get(instance) if instance is not None else None
            if reading is None or reading.remote.command_topic is None or payload not in reading.remote.commands:
                raise ServiceValidationError(f"{entity_id} is not an MQTT entity that accepts {payload}")
            await client.publish(reading.remote.command_topic, reading.remote.commands[payload], qos=1)
        return None

    def _require(self) -> tuple[aiomqtt.Client, Ingest]:
        if self._client is None or self._ingest is None:
            raise NotReady("not connected to the MQTT broker")
        return self._client, self._ingest


class _Subscriptions:
    """Subscribes to the topics new entities need, many per SUBSCRIBE, without holding up the message loop.

    Awaiting one SUBSCRIBE per discovered entity made a 10,000-entity fleet take most of a minute to appear.
    """

    def __init__(self, client: aiomqtt.Client) -> None:
        self._client = client
        self._pending: list[tuple[bool, str]] = []
        self._task: asyncio.Task[None] | None = None

    def change(self, changes: Changes) -> None:
        self._pending += [(True, topic) for topic in changes.subscribe]
        self._pending += [(False, topic) for topic in changes.unsubscribe]
        if self._pending and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._send(), name="mqtt-ingest:subscribe")

    async def _send(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                # In order, a run at a time: an updated config unsubscribes and subscribes the same topic.
                for wanted, run in itertools.groupby(batch, key=lambda item: item[0]):
                    topics = [topic for _, topic in run]
                    if wanted:
                        # QoS 0: a state is superseded by the next, and a PUBACK per message halved ingest speed.
                        await self._client.subscribe([(topic, 0) for topic in topics])
                    else:
                        await self._client.unsubscribe(topics)
        except aiomqtt.MqttError:
            return  # the connection is gone; the message loop ends and the hub reconnects
        finally:
            self._task = None

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _bytes(payload: Any) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()
