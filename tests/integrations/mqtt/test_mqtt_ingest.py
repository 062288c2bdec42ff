"""The mqtt ingest against a real Mosquitto: configured topics, HA discovery, availability, removal, commands."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from hub.config import load_config
from hub.config.models import MqttConfig
from hub.core import Core, DeviceInfo
from hub.entity_commands import run_command
from hub.health import HealthRegistry
from hub.host import IntegrationHost
from hub.sinks.mqtt import mqtt_sink
from integrations.mqtt import MqttIngest
from tests.fixtures.eventually import eventually
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import make_core, recording

HOST = DeviceInfo(identifier="central", name="Central")


pytestmark = pytest.mark.usefixtures("instant_backoff")


@asynccontextmanager
async def ingesting(tmp_path: Path, options: str) -> AsyncIterator[Core]:
    """The mqtt integration hosted on a core named `central`, configured by the YAML `options`."""
    (tmp_path / "hub.yaml").write_text(f"hub:\n  name: central\nintegrations:\n  - platform: mqtt\n{options}")
    config = load_config(tmp_path, {"mqtt": MqttIngest})
    core = Core("central")
    host = IntegrationHost(
        core, config.integrations[0], MqttIngest, HealthRegistry().create("mqtt", "integration"),
        offset=0.0, host_device=HOST,
    )  # fmt: skip
    async with host.lifespan():
        await asyncio.wait_for(host.wait_ready(), 5)
        await asyncio.sleep(0.2)  # subscriptions made
        yield core


def _state(core: Core, entity_id: str) -> str | None:
    state = core.states.get(entity_id)
    return state.state if state is not None else None


async def _publish(port: int, *messages: tuple[str, Any], retain: bool = False) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier="publisher") as client:
        for topic, payload in messages:
            data = json.dumps(payload) if isinstance(payload, dict) else payload
            await client.publish(topic, data, qos=1, retain=retain)


async def test_configured_topics_plain_and_json(mosquitto: ServerProcess, tmp_path: Path) -> None:
    options = f"""    port: {mosquitto.port}
    topics:
      - {{topic: lab/garage/temp, name: Garage temperature, key: garage_temp, unit: "°C",
          device_class: temperature, state_class: measurement}}
      - {{topic: lab/ups, name: UPS load, key: ups_load, json_path: ups.0.load, unit: "%"}}
      - {{topic: lab/door, name: Door, key: door, platform: binary_sensor, payload_on: open, payload_off: closed}}
"""
    async with ingesting(tmp_path, options) as core:
        await _publish(
            mosquitto.port,
            ("lab/garage/temp", "21.5"),
            ("lab/ups", {"ups": [{"load": 37}]}),
            ("lab/door", "open"),
        )
        await eventually(lambda: _state(core, "binary_sensor.central_door") == "on", what="door on")
        await eventually(lambda: _state(core, "sensor.central_ups_load") == "37", what="ups load")
        assert _state(core, "sensor.central_garage_temp") == "21.5"
        garage = core.states.get("sensor.central_garage_temp")
        assert garage is not None
        assert garage.attributes["unit_of_measurement"] == "°C"
        assert garage.attributes["device_class"] == "temperature"
        assert garage.attributes["friendly_name"] == "Central Garage temperature"
        entry = core.entities.get("sensor.central_garage_temp")
        assert entry is not None
        assert (entry.node, entry.device) == ("central", HOST)
        await _publish(mosquitto.port, ("lab/door", "closed"), ("lab/ups", "not json"), ("lab/garage/temp", ""))
        await eventually(lambda: _state(core, "binary_sensor.central_door") == "off", what="door off")
        await eventually(lambda: _state(core, "sensor.central_ups_load") == "unknown", what="junk -> unknown")
        assert _state(core, "sensor.central_garage_temp") == "21.5"  # an empty payload is ignored, as in HA


async def test_junk_is_logged_once_per_topic_and_ingest_goes_on(
    mosquitto: ServerProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    options = f"""    port: {mosquitto.port}
    discovery: true
    topics:
      - {{topic: lab/temp, name: Temp, key: temp}}
      - {{topic: lab/ups, name: UPS load, key: ups_load, json_path: ups.0.load}}
      - {{topic: lab/door, name: Door, key: door, platform: binary_sensor}}
"""
    huge = b"x" * 2_000_000
    async with ingesting(tmp_path, options) as core:
        await _publish(mosquitto.port, ("lab/door", "ON"))
        await eventually(lambda: _state(core, "binary_sensor.central_door") == "on", what="the door's first reading")
        await _publish(
            mosquitto.port,
            *[("lab/ups", "not json")] * 50,
            ("lab/temp", huge),
            ("lab/temp", "y" * 300),
            ("homeassistant/sensor/pi/bad/config", "{not json"),
            ("lab/door", b"\xff\xfe\x00"),
            ("lab/door", "ajar"),
        )
        await eventually(lambda: _state(core, "binary_sensor.central_door") == "unknown", what="the last junk read")
        await _publish(mosquitto.port, ("lab/ups", {"ups": [{"load": 12}]}), ("lab/temp", "20.5"), ("lab/door", "ON"))
        await eventually(lambda: _state(core, "binary_sensor.central_door") == "on", what="good readings after junk")
        assert (_state(core, "sensor.central_ups_load"), _state(core, "sensor.central_temp")) == ("12", "20.5")
    # One line per topic a minute, whatever the junk, saying the topic, why, and at most 40 bytes of it.
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert lines == [
        "Unusable MQTT message on lab/ups: not JSON (invalid literal, expected 'null': line 1 column 1 (char 0)); "
        "payload b'not json' (8 bytes)",
        "Dropped MQTT message on lab/temp: a packet of 2000012 bytes, more than the 1048576 accepted",
        "Unusable MQTT message on homeassistant/sensor/pi/bad/config: not JSON (unexpected character, expected a "
        "string key: line 1 column 2 (char 1)); payload b'{not json' (9 bytes)",
        "Unusable MQTT message on lab/door: not UTF-8; payload b'\\xff\\xfe\\x00' (3 bytes)",
    ]


def _config(node: str, object_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "CPU",
        "uniq_id": f"{node}_{object_id}",
        "obj_id": f"{node}_{object_id}",
        "~": f"homelab/{node}/{node}_{object_id}",
        "stat_t": "~/state",
        "avty_t": f"homelab/{node}/availability",
        "unit_of_meas": "%",
        "stat_cla": "measurement",
        "dev": {"ids": [node], "name": node.upper(), "mf": "homelab-hub", "sw": "0.1.0"},
        "o": {"name": "homelab-hub"},
        **extra,
    }


async def test_discovery_creates_follows_and_removes(mosquitto: ServerProcess, tmp_path: Path) -> None:
    options = f"    port: {mosquitto.port}\n    discovery: true\n"
    async with ingesting(tmp_path, options) as core:
        await _publish(
            mosquitto.port,
            ("homeassistant/sensor/pi/pi_cpu/config", _config("pi", "cpu")),
            ("homeassistant/sensor/central/central_cpu/config", _config("central", "cpu")),  # our own: ignored
            ("homeassistant/sensor/bad.node/x/config", _config("bad", "x")),
            ("homeassistant/sensor/pi/junk/config", "{not json"),
            ("homeassistant/light/pi/lamp/config", _config("pi", "lamp")),  # unsupported platform
            (
                "homeassistant/sensor/0x00158d/temperature/config",
                {
                    "name": "Temperature",
                    "unique_id": "0x00158d_temperature",
                    "state_topic": "zigbee2mqtt/kitchen",
                    "value_template": "{{ value_json.temperature }}",
                    "availability": [{"topic": "zigbee2mqtt/bridge/state", "payload_available": "up"}],
                    "device": {"identifiers": ["zigbee2mqtt_0x00158d"], "name": "Kitchen sensor"},
                },
            ),
        )
        await eventually(lambda: core.entities.get("sensor.pi_cpu") is not None, what="pi cpu entity")
        await eventually(lambda: core.entities.get("sensor.0x00158d_temperature") is not None, what="zigbee entity")
        assert _state(core, "sensor.pi_cpu") == "unavailable"  # until its availability topic says online
        await _publish(
            mosquitto.port,
            ("homelab/pi/availability", "online"),
            ("homelab/pi/pi_cpu/state", "42.5"),
            ("zigbee2mqtt/bridge/state", "up"),
            ("zigbee2mqtt/kitchen", {"temperature": 19.25, "humidity": 40}),
        )
        await eventually(lambda: _state(core, "sensor.pi_cpu") == "42.5", what="pi cpu state")
        await eventually(lambda: _state(core, "sensor.0x00158d_temperature") == "19.25", what="zigbee value")
        entry = core.entities.get("sensor.pi_cpu")
        assert entry is not None
        assert (entry.node, entry.unit, entry.state_class, entry.device.identifier) == ("pi", "%", "measurement", "pi")
        state = core.states.get("sensor.pi_cpu")
        assert state is not None
        assert state.attributes["friendly_name"] == "PI CPU"
        assert core.entities.get("sensor.central_cpu") is None
        assert not [e for e in core.entities if "lamp" in e.entity_id or "bad" in e.entity_id]

        await _publish(mosquitto.port, ("homelab/pi/availability", "offline"))
        await eventually(lambda: _state(core, "sensor.pi_cpu") == "unavailable", what="pi offline")
        await _publish(mosquitto.port, ("homeassistant/sensor/pi/pi_cpu/config", ""))
        await eventually(lambda: core.entities.get("sensor.pi_cpu") is None, what="removed")
        assert core.states.get("sensor.pi_cpu") is None
        assert _state(core, "sensor.0x00158d_temperature") == "19.25"


async def test_discovered_switch_and_button_take_commands(mosquitto: ServerProcess, tmp_path: Path) -> None:
    options = f"    port: {mosquitto.port}\n    discovery: true\n"
    device = {"identifiers": ["plug1"], "name": "Plug"}
    async with (
        ingesting(tmp_path, options) as core,
        recording(mosquitto.port, "plug1/set", "plug1/restart") as seen,
    ):
        await _publish(
            mosquitto.port,
            (
                "homeassistant/switch/plug1/power/config",
                {"name": "Power", "unique_id": "plug1_power", "state_topic": "plug1/state",
                 "command_topic": "plug1/set", "payload_on": "1", "payload_off": "0", "device": device},
            ),
            (
                "homeassistant/button/plug1/restart/config",
                {"name": "Restart", "unique_id": "plug1_restart", "command_topic": "plug1/restart",
                 "payload_press": "reboot", "device": device},
            ),
        )  # fmt: skip
        await eventually(lambda: core.entities.get("switch.plug1_power") is not None, what="switch")
        await eventually(lambda: core.entities.get("button.plug1_restart") is not None, what="button")
        await _publish(mosquitto.port, ("plug1/state", "1"))
        await eventually(lambda: _state(core, "switch.plug1_power") == "on", what="switch on")
        await run_command(core, "switch.plug1_power", "OFF")
        await run_command(core, "button.plug1_restart", "PRESS")
        await eventually(lambda: seen.payload("plug1/restart") == b"reboot", what="press sent")
        assert seen.payload("plug1/set") == b"0"


async def test_device_discovery_from_another_hub(mosquitto: ServerProcess, tmp_path: Path) -> None:
    """A node publishing in `discovery_mode: device` is ingested like one publishing per component."""
    node, _ = make_core("nas")
    sink_config = MqttConfig(port=mosquitto.port, discovery_mode="device", birth_delay="10ms")
    options = f"    port: {mosquitto.port}\n    discovery: true\n"
    async with (
        mqtt_sink(node, sink_config, HealthRegistry().create("mqtt", "sink"), version="0.1.0"),
        ingesting(tmp_path, options) as core,
    ):
        await eventually(lambda: _state(core, "button.nas_docker_nginx_restart") is not None, what="nginx components")
        await eventually(lambda: _state(core, "sensor.nas_cpu_percent") == "12.5", what="the host's sensor")
        assert _state(core, "switch.nas_docker_nginx_power") == "on"
        entry = core.entities.get("binary_sensor.nas_docker_nginx_running")
        assert entry is not None
        assert (entry.node, entry.device.identifier, entry.device.via_device) == ("nas", "nas_docker_nginx", "nas")
        node.entities.remove("switch.nas_docker_nginx_power")
        await eventually(lambda: core.entities.get("switch.nas_docker_nginx_power") is None, what="one component gone")
        assert _state(core, "binary_sensor.nas_docker_nginx_running") == "on"
        for entity_id in ("binary_sensor.nas_docker_nginx_running", "button.nas_docker_nginx_restart"):
            node.entities.remove(entity_id)
        await eventually(lambda: core.entities.get("button.nas_docker_nginx_restart") is None, what="device gone")
        assert core.entities.get("binary_sensor.nas_docker_nginx_running") is None
        assert _state(core, "sensor.nas_cpu_percent") == "12.5"
