"""`Connector` and `Link`: the broker connection (will, birth, reconnect forever) and pipelined publishing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiomqtt
import paho.mqtt.client as paho

from hub.backoff import Backoff
from hub.config.models import MqttConfig
from hub.config.models.mqtt import MqttTls
from hub.core import HubError
from hub.health import Health
from hub.sinks.base import reconnect_forever

from .topics import Topics

__all__ = ["AVAILABLE", "NOT_AVAILABLE", "ConnectionLost", "Connector", "Link", "Session", "publish_packet"]

_LOGGER = logging.getLogger(__name__)

AVAILABLE = "online"
NOT_AVAILABLE = "offline"
_INFLIGHT = 1000
"""QoS 1 messages awaiting PUBACK at once; paho's default of 20 caps QoS 1 at a few thousand messages/s."""
_GOODBYE_TIMEOUT = 2.0
_WRITE_SIZE = 64 * 1024
"""Bytes of QoS 0 packets queued in paho as one write."""


class ConnectionLost(HubError):
    """The broker connection went away while publishing; the connector reconnects."""


def publish_packet(topic: str, payload: str | bytes, retain: bool) -> bytes:
    """An MQTT 3.1.1 PUBLISH packet at QoS 0 (spec 3.3): fixed header, remaining length, topic, payload."""
    topic_bytes = topic.encode()
    body = payload.encode() if isinstance(payload, str) else payload
    remaining = 2 + len(topic_bytes) + len(body)
    header = bytearray((0x30 | retain,))
    while True:
        byte, remaining = remaining % 128, remaining // 128
        header.append(byte | 0x80 if remaining else byte)
        if not remaining:
            break
    return bytes(header) + len(topic_bytes).to_bytes(2, "big") + topic_bytes + body


class Link:
    """One live connection. `publish` hands a message to paho without awaiting it; `drain` is the back-pressure.

    aiomqtt awaits every publish's completion, which reached only about 4k msg/s here (issue 5). Underneath it,
    paho queues a message in microseconds but sends each packet with its own `send()` call, which was most of
    the cost per message; so QoS 0 messages are encoded here and queued in paho as a few large writes, in
    order with everything else paho sends. QoS 1 messages go through paho's own publish (it tracks PUBACKs).
    """

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self._paho: paho.Client = client._client  # paho underneath aiomqtt: the pipelined path
        self._paho.disable_logger()  # paho logs every packet it sends at debug level, even when unheard
        self._last: paho.MQTTMessageInfo | None = None
        self._coalesced = bytearray()

    def publish(self, topic: str, payload: str | bytes, qos: int, retain: bool) -> None:
        if qos == 0:
            self._coalesced += publish_packet(topic, payload, retain)
            if len(self._coalesced) >= _WRITE_SIZE:
                self._queue_coalesced()
            return
        self._queue_coalesced()
        info = self._paho.publish(topic, payload, qos, retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionLost(f"publishing to {topic} failed: {paho.error_string(info.rc)}")
        self._last = info

    def _queue_coalesced(self) -> None:
        if not self._coalesced:
            return
        if not self._paho.is_connected():
            raise ConnectionLost("the broker connection is closed")
        info = paho.MQTTMessageInfo(0)
        # paho's own queue, so these bytes go out in order with its PUBLISH, PINGREQ and SUBSCRIBE packets.
        self._paho._packet_queue(paho.PUBLISH, bytes(self._coalesced), 0, 0, info)
        self._coalesced.clear()
        self._last = info

    async def drain(self) -> None:
        """Wait until everything handed to paho so far is sent (QoS 0) or acknowledged (QoS 1)."""
        self._queue_coalesced()
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
        self._where = f"{config.host}:{config.port}"

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
        await reconnect_forever(
            self._connection,
            self._serve,
            what=f"MQTT broker {self._where}",
            health=self._health,
            backoff=self._backoff,
            lost=(aiomqtt.MqttError, ConnectionLost),
            report=self._report,
        )

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiomqtt.Client]:
        """Connected, with the Last Will set, and `online` announced."""
        async with self._client() as client:
            await self._announce(client, AVAILABLE)
            self._health.success()
            yield client

    def _report(self, err: Exception) -> None:
        self._health.fail_now(f"MQTT broker {self._where}: {err}")

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
