"""`MqttIngest`: entities read from a broker, from configured topics and from Home Assistant discovery."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, ClassVar, Protocol

import aiomqtt

from hub.core import ServiceCall, ServiceValidationError
from hub.core.log_limit import LogLimit
from hub.integration import Integration, IntegrationService, NotReady

from .config import MqttIngestConfig
from .entities import ENTITIES, IngestSnapshot
from .ingest import Changes, Ingest
from .reader import PublishReader

__all__ = ["MqttIngest"]

RESTRUCTURE_DELAY = 0.2
"""Seconds to gather discovery updates and removals into one full report (a fleet's configs arrive in bursts)."""
BATCH_WINDOW = 0.002
"""Seconds a burst of messages gathers before it is handled as one batch and one partial report: messages keep
coming in while the window lasts, and the per-batch report (not the per-message work) is what a batch shares."""


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
    _inbox: _Inbox
    _junk: LogLimit

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        config = self.config
        where = f"MQTT broker {config.host}:{config.port}"
        self._inbox = _Inbox()
        self._junk = LogLimit(self.ctx.logger)
        client = aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=config.password.reveal() if config.password is not None else None,
            identifier=config.client_id or f"homelab-hub-{self.ctx.node}-ingest",
            tls_params=aiomqtt.TLSParameters(ca_certs=str(config.ca_file)) if config.ca_file else None,
            logger=self.ctx.logger,
            queue_type=self._inbox.queue_type(),
        )
        try:
            async with client:
                PublishReader(client._client, self._inbox.add, self._junk).install()
                self._client = client
                self._ingest = Ingest(config, self.ctx.node, self._junk)
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
        loop = asyncio.get_running_loop()
        restructure: asyncio.TimerHandle | None = None

        def report_all() -> None:
            nonlocal restructure
            restructure = None
            self.ctx.report(ingest.snapshot())

        subscriptions = _Subscriptions(client)
        try:
            # aiomqtt yields only the first message of each burst (and ends when the connection does); the whole
            # burst is taken from the inbox after the window.
            async for _ in client.messages:
                await asyncio.sleep(BATCH_WINDOW)
                changes = self._handle_batch(ingest)
                report = None
                if changes.changed:
                    report = functools.partial(self.ctx.report, ingest.snapshot(changes.changed), partial=True)
                subscriptions.change(changes, then=report)
                if changes.restructured and restructure is None:
                    restructure = loop.call_later(RESTRUCTURE_DELAY, report_all)
        finally:
            subscriptions.close()
            if restructure is not None:
                restructure.cancel()

    def _handle_batch(self, ingest: Ingest) -> Changes:
        """Every message of the inbox, in order, into one set of changes."""
        changes = Changes()
        for topic, payload in self._inbox.take():
            ingest.handle(topic, payload, changes)
        return changes

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
    Reports wait for the SUBACKs in flight, in order: an entity appears once its topics are subscribed (a state
    published as soon as it shows up is not lost), and an older report never lands after a newer one.
    """

    def __init__(self, client: aiomqtt.Client) -> None:
        self._client = client
        self._pending: list[tuple[bool, str]] = []
        self._after: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None

    def change(self, changes: Changes, then: Callable[[], None] | None) -> None:
        self._pending += [(True, topic) for topic in changes.subscribe]
        self._pending += [(False, topic) for topic in changes.unsubscribe]
        if self._pending and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._send(), name="mqtt-ingest:subscribe")
        if then is None:
            return
        if self._task is None:
            then()
        else:
            self._after.append(then)

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
            return  # the connection is gone; the message loop ends and the hub reconnects with a full report
        finally:
            self._task = None
        after, self._after = self._after, []
        for report in after:
            report()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


class _Inbox:
    """Messages as they are read, taken by the message loop a burst at a time.

    The loop waits on aiomqtt's message iterator, which also ends when the connection does; the inbox puts one
    wake-up in aiomqtt's queue per burst (its iterator costs a task and an `asyncio.wait` per item). Messages
    paho hands to aiomqtt itself (QoS 2) land here too, in order.
    """

    def __init__(self) -> None:
        self._messages: list[tuple[str, bytes]] = []
        self._wake: Callable[[], None] | None = None

    def queue_type(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        """aiomqtt's incoming queue, which the inbox wakes and into which paho's own deliveries are diverted."""
        inbox = self

        class _Queue(asyncio.Queue[aiomqtt.Message]):
            def __init__(self, maxsize: int = 0) -> None:
                super().__init__(maxsize)
                inbox._wake = functools.partial(super().put_nowait, _WAKE)

            def put_nowait(self, item: aiomqtt.Message) -> None:
                inbox.add(item.topic.value, _bytes(item.payload))

        return _Queue

    def add(self, topic: str, payload: bytes) -> None:
        if not self._messages and self._wake is not None:
            self._wake()
        self._messages.append((topic, payload))

    def take(self) -> list[tuple[str, bytes]]:
        messages, self._messages = self._messages, []
        return messages


_WAKE = aiomqtt.Message("wake", b"", 0, False, 0, None)
"""What the inbox puts in aiomqtt's queue to wake the message loop; the loop reads the inbox, never this."""


def _bytes(payload: Any) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()
