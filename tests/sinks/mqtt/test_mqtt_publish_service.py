"""`mqtt.publish` against a real Mosquitto: sent in order, refused when malformed, kept while the broker is away."""

from __future__ import annotations

import asyncio

import pytest

from hub.config.models import MqttConfig
from hub.core import Core, ServiceValidationError
from hub.health import HealthRegistry
from hub.sinks.mqtt import mqtt_sink
from tests.fixtures.eventually import eventually
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import recording

pytestmark = pytest.mark.usefixtures("instant_backoff")


async def test_publish_service_sends_in_order_and_refuses_junk(mosquitto: ServerProcess) -> None:
    core = Core("nas")
    config = MqttConfig(host=mosquitto.host, port=mosquitto.port)
    async with (
        mqtt_sink(core, config, HealthRegistry().create("mqtt", "sink"), version="0.1.0"),
        recording(mosquitto.port, "alerts/#") as seen,
    ):
        for index in range(5):
            await core.services.call("mqtt", "publish", {"topic": "alerts/disk", "payload": f"m{index}"})
        await core.services.call("mqtt", "publish", {"topic": "alerts/kept", "payload": "on", "retain": True, "qos": 1})
        await eventually(lambda: len(seen.messages) == 6, what="six messages")
        assert [bytes(m.payload) for m in seen.on("alerts/disk")] == [b"m0", b"m1", b"m2", b"m3", b"m4"]  # type: ignore[arg-type]
        for bad in (
            {"topic": "alerts/+", "payload": "x"},
            {"topic": "alerts//x", "payload": "x"},
            {"topic": "alerts/x", "payload": 5},
            {"topic": "alerts/x", "qos": 3},
            {"topic": "alerts/x", "retain": "yes"},
            {"topic": "alerts/x", "extra": 1},
            {"payload": "no topic"},
        ):
            with pytest.raises(ServiceValidationError):
                await core.services.call("mqtt", "publish", bad)


async def test_messages_wait_for_the_broker_and_go_out_when_it_returns(mosquitto: ServerProcess) -> None:
    core = Core("nas")
    config = MqttConfig(host=mosquitto.host, port=mosquitto.port)
    async with mqtt_sink(core, config, HealthRegistry().create("mqtt", "sink"), version="0.1.0"):
        await asyncio.sleep(0.3)
        mosquitto.stop()
        await core.services.call("mqtt", "publish", {"topic": "alerts/late", "payload": "kept", "retain": True})
        mosquitto.start()
        async with recording(mosquitto.port, "alerts/#") as seen:
            await eventually(lambda: seen.payload("alerts/late") == b"kept", timeout=10, what="the waiting message")
