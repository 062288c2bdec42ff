"""`Connector` and `Link`: the broker connection (will, birth, reconnect forever) and pipelined publishing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import aiomqtt
import paho.mqtt.client as paho

from hub.backoff import Backoff
from hub.config.models import MqttConfig
from hub.config.models.mqtt import MqttTls
from hub.core import HubError, clock
from hub.health import Health

from .topics import Topics

__all__ = ["AVAILABLE", "NOT_AVAILABLE", "ConnectionLost", "Connector", "Link", "Session"]

_LOGGER = logging.getLogger(__name__)

AVAILABLE = "online"
NOT_AVAILABLE = "offline"
_INFLIGHT = 1000
"""QoS 1 messages awaiting PUBACK at once; paho's default of 20 caps QoS 1 at a few thousand messages/s."""
_GOODBYE_TIMEOUT = 2.0


class ConnectionLost(HubError):
    """The broker connection went away while publishing; the connector reconnects."""


class Link:
    """One live connection. `publish` hands a message to paho without awaiting it; `drain` is the back-pressure.

    aiomqtt awaits every publish's completion, which reached only about 4k msg/s here (issue 5); paho
    underneath queues a message in microseconds and aiomqtt's socket writer sends the queue on the next
    loop turn, so many messages go out per turn.
    """

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self._paho: paho.Client = client._client  # paho underneath aiomqtt: the pipelined path
        self._last: paho.MQTTMessageInfo | None = None

    def publish(self, topic: str, payload: str | bytes, qos: int, retain: bool) -> None:
        info = self._paho.publish(topic, payload, qos, retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionLost(f"publishing to {topic} failed: {paho.error_string(info.rc)}")
        self._last = info

    async def drain(self) -> None:
        """Wait until everything handed to paho so far is sent (QoS 0) or acknowledged (QoS 1)."""
        last, self._last = self._last, None
        spins = 0
        while last is not None and not _published(last):
            spins += 1
            await asyncio.sleep(0 if spins < 50 else 0.001)


def _published(info: paho.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except (RuntimeError, ValueError) as err:
        raise ConnectionLost(f"message {info.mid} was not sent: {err}") from err


Session = Callable[[Link], Awaitable[None]]
"""What runs while connected; it returns or raises `aiomqtt.MqttError`/`ConnectionLost` when the link drops."""


class Connector:
    """Connects with a Last Will, announces `online`, runs the session, and reconnects with backoff forever."""

    def __init__(self, config: MqttConfig, topics: Topics, health: Health, session: Session) -> None:
        self._config = config
        self._topics = topics
        self._health = health
        self._session = session
        self._backoff = Backoff(initial=1.0, cap=60.0)

    def _client(self) -> aiomqtt.Client:
        config = self._config
        tls = config.tls
        return aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=config.password.reveal() if config.password is not None else None,
            identifier=config.client_id or f"homelab-hub-{self._topics.node}",
            keepalive=int(config.keepalive.total_seconds()),
            will=aiomqtt.Will(self._topics.availability, NOT_AVAILABLE, config.qos.availability, retain=True),
            max_inflight_messages=_INFLIGHT,
            tls_params=_tls_params(tls) if tls is not None else None,
            tls_insecure=tls.insecure if tls is not None else None,
            logger=_LOGGER,
        )

    async def run(self) -> None:
        """Until cancelled; on cancel, say `offline` ourselves (a clean disconnect sends no Last Will)."""
        attempt = 0
        where = f"{self._config.host}:{self._config.port}"
        while True:
            try:
                async with self._client() as client:
                    await self._announce(client, AVAILABLE)
                    if attempt:
                        _LOGGER.info("Connected to MQTT broker %s again", where)
                    attempt = 0
                    self._health.success()
                    await self._serve(client)
            except (aiomqtt.MqttError, ConnectionLost) as err:
                attempt += 1
                self._health.fail_now(f"MQTT broker {where}: {err}")
            await clock.sleep(self._backoff.delay(attempt))

    async def _serve(self, client: aiomqtt.Client) -> None:
        try:
            await self._session(Link(client))
        except asyncio.CancelledError:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(_GOODBYE_TIMEOUT):
                    await self._announce(client, NOT_AVAILABLE)
            raise

    async def _announce(self, client: aiomqtt.Client, payload: str) -> None:
        await client.publish(self._topics.availability, payload, qos=self._config.qos.availability, retain=True)


def _tls_params(tls: MqttTls) -> aiomqtt.TLSParameters:
    return aiomqtt.TLSParameters(
        ca_certs=str(tls.ca_file) if tls.ca_file else None,
        certfile=str(tls.cert_file) if tls.cert_file else None,
        keyfile=str(tls.key_file) if tls.key_file else None,
    )
