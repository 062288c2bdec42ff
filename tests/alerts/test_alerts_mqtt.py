"""An alert's MQTT action through the hub's own broker connection, against a real Mosquitto."""

from __future__ import annotations

from hub.alerts import AlertEngine
from hub.config.models import MqttConfig
from hub.config.models.alerts import AlertRule
from hub.core import Core, DeviceInfo
from hub.health import HealthRegistry
from hub.sinks.mqtt import mqtt_sink
from tests.fixtures.eventually import eventually
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import recording


async def test_fire_and_clear_publish_through_the_broker(mosquitto: ServerProcess) -> None:
    core = Core("nas")
    rule = AlertRule.model_validate(
        {
            "name": "plex_down",
            "entity_id": "sensor.nas_plex_state",
            "not_state": "running",
            "on_fire": [
                {"mqtt": "homelab/alerts/{alert}", "payload": "{status}: {entity_id} is {state}", "retain": True}
            ],
            "on_clear": [{"mqtt": "homelab/alerts/{alert}", "payload": "{status}", "retain": True}],
        }
    )
    config = MqttConfig(host=mosquitto.host, port=mosquitto.port)
    async with (
        mqtt_sink(core, config, HealthRegistry().create("mqtt", "sink"), version="0.1.0"),
        AlertEngine(core, [rule], DeviceInfo(identifier="nas", name="nas")).lifespan(),
        recording(mosquitto.port, "homelab/alerts/#") as seen,
    ):
        core.states.set("sensor.nas_plex_state", "running")
        core.states.set("sensor.nas_plex_state", "exited")
        topic = "homelab/alerts/plex_down"
        await eventually(lambda: seen.payload(topic) == b"firing: sensor.nas_plex_state is exited", what="fire")
        core.states.set("sensor.nas_plex_state", "running")
        await eventually(lambda: seen.payload(topic) == b"cleared", what="clear")
    assert [bytes(m.payload) for m in seen.on(topic)] == [  # type: ignore[arg-type]
        b"firing: sensor.nas_plex_state is exited",
        b"cleared",
    ]
