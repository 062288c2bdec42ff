"""`PublishReader` decoding PUBLISH packets itself: every message in order, acknowledged, oversized ones dropped."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiomqtt
import paho.mqtt.client as paho
import pytest

from hub.core.log_limit import LogLimit
from hub.sinks.mqtt.client import publish_packet
from integrations.mqtt.reader import MAX_PACKET, PublishReader
from tests.fixtures.eventually import eventually
from tests.fixtures.process import ServerProcess

_LOGGER = logging.getLogger("test.reader")


async def test_messages_in_order_with_qos1_acknowledged_and_oversized_dropped(
    mosquitto: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[tuple[str, bytes]] = []
    big = bytes(range(256)) * 3500  # 896,000 bytes: many reads, kept whole
    sent = [(f"t/{index}/é", str(index).encode() * (index % 7)) for index in range(300)]
    writer = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="writer")
    writer.connect("127.0.0.1", mosquitto.port)
    writer.loop_start()
    try:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="reader") as reader:
            deliver = lambda topic, payload: got.append((topic, payload))  # noqa: E731
            PublishReader(reader._client, deliver, LogLimit(_LOGGER)).install()
            await reader.subscribe("t/#", qos=1)
            # QoS 1 well beyond the broker's 20 in flight: the rest arrive only if each is acknowledged.
            for index, (topic, payload) in enumerate(sent):
                writer.publish(topic, payload, qos=index % 2)
            writer.publish("t/big", big, qos=1)
            writer.publish("t/huge", b"h" * (MAX_PACKET + 1), qos=1)
            writer.publish("t/after", b"still reading", qos=1)
            sent += [("t/big", big), ("t/after", b"still reading")]
            await eventually(lambda: len(got) >= len(sent), timeout=10, what="every message")
    finally:
        writer.loop_stop()
        writer.disconnect()
    # MQTT keeps the order within each QoS (the broker holds QoS 1 back beyond 20 in flight, not QoS 0).
    qos1 = {topic for index, (topic, _) in enumerate(sent) if index % 2 or index >= 300}
    assert [m for m in got if m[0] in qos1] == [m for m in sent if m[0] in qos1]
    assert [m for m in got if m[0] not in qos1] == [m for m in sent if m[0] not in qos1]
    size = MAX_PACKET + 1 + 10  # topic length, topic, packet id, payload
    assert f"Dropped MQTT message on t/huge: a packet of {size} bytes, more than the {MAX_PACKET}" in caplog.text


def test_packets_cut_at_every_byte() -> None:
    """A stream arriving one byte per read, over a real socket, gives the same messages as in one read."""
    got: list[tuple[str, bytes]] = []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    client._sock = ours
    PublishReader(client, lambda topic, payload: got.append((topic, payload)), LogLimit(_LOGGER)).install()
    sent = [(f"a/{i}", b"x" * (i * 40)) for i in range(8)]  # remaining lengths of one and two bytes
    stream = b"".join(publish_packet(topic, payload, False) for topic, payload in sent)
    with ours, theirs:
        for index in range(len(stream)):
            theirs.send(stream[index : index + 1])
            assert client.loop_read() == paho.MQTT_ERR_SUCCESS
    assert got == sent


async def test_socket_closed_ends_the_connection(mosquitto: ServerProcess) -> None:
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="reader") as reader:
        PublishReader(reader._client, lambda topic, payload: None, LogLimit(_LOGGER)).install()
        await reader.subscribe("t/#")
        mosquitto.stop()
        async with asyncio.timeout(5):
            with pytest.raises(aiomqtt.MqttError):
                await anext(aiter(reader.messages))
        mosquitto.start()
