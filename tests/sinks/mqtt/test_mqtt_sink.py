"""The MQTT sink against a real Mosquitto: discovery payloads, retained states, birth, removal, commands."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import pytest

from hub.config.models import MqttConfig
from hub.core import Core
from hub.health import HealthRegistry, HealthStatus
from hub.sinks.mqtt import Bridge, mqtt_sink
from hub.sinks.mqtt.bridge import CLEAR_DELAY
from tests.fixtures.eventually import eventually
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import add_entity, make_core, recording

ORIGIN = {"name": "homelab-hub", "sw_version": "0.1.0", "support_url": "https://github.com/homelab-hub/homelab-hub"}
HOST_DEVICE = {
    "identifiers": ["nas"],
    "name": "NAS",
    "manufacturer": "homelab-hub",
    "model": "Linux x86_64",
    "sw_version": "0.1.0",
}
NGINX_DEVICE = {
    "identifiers": ["nas_docker_nginx"],
    "name": "nginx",
    "manufacturer": "Docker",
    "model": "nginx:1",
    "via_device": "nas",
}


pytestmark = pytest.mark.usefixtures("instant_backoff")


def _availability(object_id: str) -> list[dict[str, str]]:
    return [{"topic": "homelab/nas/availability"}, {"topic": f"homelab/nas/{object_id}/availability"}]


def _config(broker: ServerProcess, **options: Any) -> MqttConfig:
    return MqttConfig(host=broker.host, port=broker.port, birth_delay="10ms", **options)


@asynccontextmanager
async def running(core: Core, config: MqttConfig) -> AsyncIterator[tuple[Bridge, HealthRegistry]]:
    health = HealthRegistry()
    async with mqtt_sink(core, config, health.create("mqtt", "sink"), version="0.1.0") as bridge:
        yield bridge, health


async def test_discovery_payloads_match_the_reference(mosquitto: ServerProcess) -> None:
    core, _ = make_core()
    async with running(core, _config(mosquitto)):
        await asyncio.sleep(0.3)
        # A subscriber arriving later gets everything retained, as Home Assistant after its restart would.
        async with recording(mosquitto.port, "homeassistant/#", "homelab/#") as seen:
            await eventually(lambda: len(seen.latest) >= 12, what="retained configs and states")
    sensor = seen.json("homeassistant/sensor/nas/nas_cpu_percent/config")
    assert sensor == {
        "name": "CPU",
        "unique_id": "nas_test_cpu_percent",
        "object_id": "nas_cpu_percent",
        "default_entity_id": "sensor.nas_cpu_percent",
        "json_attributes_topic": "homelab/nas/nas_cpu_percent/attributes",
        "state_topic": "homelab/nas/nas_cpu_percent/state",
        "unit_of_measurement": "%",
        "state_class": "measurement",
        "availability": _availability("nas_cpu_percent"),
        "availability_mode": "all",
        "device": HOST_DEVICE,
        "origin": ORIGIN,
    }
    binary = seen.json("homeassistant/binary_sensor/nas/nas_docker_nginx_running/config")
    assert binary["state_topic"] == "homelab/nas/nas_docker_nginx_running/state"
    assert (binary["payload_on"], binary["payload_off"], binary["device_class"]) == ("on", "off", "running")
    assert binary["device"] == NGINX_DEVICE
    assert binary["default_entity_id"] == "binary_sensor.nas_docker_nginx_running"
    switch = seen.json("homeassistant/switch/nas/nas_docker_nginx_power/config")
    assert switch["command_topic"] == "homelab/nas/nas_docker_nginx_power/set"
    assert switch["state_topic"] == "homelab/nas/nas_docker_nginx_power/state"
    assert (switch["payload_on"], switch["payload_off"], switch["state_on"], switch["state_off"]) == (
        "ON",
        "OFF",
        "on",
        "off",
    )
    button = seen.json("homeassistant/button/nas/nas_docker_nginx_restart/config")
    assert button["command_topic"] == "homelab/nas/nas_docker_nginx_restart/set"
    assert button["payload_press"] == "PRESS"
    assert "state_topic" not in button
    assert button["device_class"] == "restart"
    for payload in (sensor, binary, switch, button):
        assert payload["origin"] == ORIGIN
        assert payload["availability"] == _availability(payload["object_id"])
        assert payload["availability_mode"] == "all"
        assert "expire_after" not in payload
        assert all(
            level and "+" not in level and "#" not in level for level in payload["json_attributes_topic"].split("/")
        )
    assert all(m.retain for m in seen.messages)
    assert seen.payload("homelab/nas/nas_cpu_percent/state") == b"12.5"
    assert seen.payload("homelab/nas/nas_docker_nginx_running/state") == b"on"
    # The Last Will was never sent: a clean stop says offline itself.
    assert seen.payload("homelab/nas/availability") == b"online"


async def test_states_follow_changes_and_attributes_only_when_changed(mosquitto: ServerProcess) -> None:
    core, _ = make_core()
    async with (
        running(core, _config(mosquitto)),
        recording(mosquitto.port, "homelab/nas/nas_cpu_percent/#") as seen,
    ):
        await eventually(lambda: seen.payload("homelab/nas/nas_cpu_percent/state") == b"12.5")
        for value in ("13", "14", "15"):
            await asyncio.sleep(0.05)  # changes within one loop turn are conflated: the latest wins
            core.states.set("sensor.nas_cpu_percent", value, core.states.get("sensor.nas_cpu_percent").attributes)  # type: ignore[union-attr]
        await eventually(lambda: seen.payload("homelab/nas/nas_cpu_percent/state") == b"15")
        core.states.set("sensor.nas_cpu_percent", "15", {"friendly_name": "NAS CPU", "cores": 4})
        await eventually(lambda: seen.json("homelab/nas/nas_cpu_percent/attributes") == {"cores": 4})
    states = [bytes(m.payload) for m in seen.on("homelab/nas/nas_cpu_percent/state")]  # type: ignore[arg-type]
    assert states == [b"12.5", b"13", b"14", b"15", b"15"]  # the last one carried new attributes
    assert len(seen.on("homelab/nas/nas_cpu_percent/attributes")) == 2


async def test_unavailable_is_told_on_the_entity_availability_and_unknown_as_none(mosquitto: ServerProcess) -> None:
    """`unavailable` never reaches the state topic (HA would read the word as a number); the entity's own
    availability topic goes offline, and online again after the next real value; `unknown` is HA's `None`."""
    core, _ = make_core()
    cpu = "sensor.nas_cpu_percent"
    prefix = "homelab/nas/nas_cpu_percent"
    async with running(core, _config(mosquitto)), recording(mosquitto.port, f"{prefix}/#") as seen:
        await eventually(lambda: seen.payload(f"{prefix}/availability") == b"online", what="entity online")
        core.states.set(cpu, "unavailable")
        await eventually(lambda: seen.payload(f"{prefix}/availability") == b"offline", what="entity offline")
        core.states.set(cpu, "unknown")
        await eventually(lambda: seen.payload(f"{prefix}/availability") == b"online", what="entity back online")
        core.states.set(cpu, "42")
        await eventually(lambda: seen.payload(f"{prefix}/state") == b"42")
    states = [bytes(m.payload) for m in seen.on(f"{prefix}/state")]  # type: ignore[arg-type]
    assert states == [b"12.5", b"None", b"42"]
    availability = [bytes(m.payload) for m in seen.on(f"{prefix}/availability")]  # type: ignore[arg-type]
    assert availability == [b"online", b"offline", b"online"]
    # The new value precedes `online`, so Home Assistant never shows the value from before the outage.
    order = [(m.topic.value.rpartition("/")[2], bytes(m.payload)) for m in seen.messages]  # type: ignore[arg-type]
    assert order.index(("state", b"None")) < len(order) - 1 - order[::-1].index(("availability", b"online"))


async def test_attributes_are_json_home_assistant_reads(mosquitto: ServerProcess) -> None:
    """Times in ISO 8601 and a non-finite float as null, as the API writes them: `str()` of a datetime and a bare
    NaN were what the bridge sent before, and Home Assistant logs a NaN as erroneous JSON."""
    core, _ = make_core()
    topic = "homelab/nas/nas_cpu_percent/attributes"
    since = datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)
    async with running(core, _config(mosquitto)), recording(mosquitto.port, topic) as seen:
        await eventually(lambda: seen.payload(topic) is not None, what="the first attributes")
        core.states.set("sensor.nas_cpu_percent", "13", {"since": since, "spread": math.nan, "cores": 4})
        await eventually(lambda: b"since" in (seen.payload(topic) or b""), what="the new attributes")
    assert json.loads(seen.payload(topic) or b"") == {"since": "2026-12-06T01:02:03+00:00", "spread": None, "cores": 4}


async def test_birth_republishes_configs_then_states(mosquitto: ServerProcess) -> None:
    core, _ = make_core()
    async with running(core, _config(mosquitto)):
        await asyncio.sleep(0.3)
        async with recording(mosquitto.port, "homeassistant/+/nas/#", "homelab/nas/+/state") as seen:
            await eventually(lambda: len(seen.messages) >= 7, what="retained replay")
            replayed = len(seen.messages)
            async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="ha") as ha:
                await ha.publish("homeassistant/status", "online")
            await eventually(lambda: len(seen.messages) >= replayed + 7, what="re-published configs and states")
    fresh = seen.messages[replayed:]
    assert not any(m.retain for m in fresh)  # live deliveries, not the broker's replay
    kinds = ["config" if m.topic.value.endswith("/config") else "state" for m in fresh]
    assert kinds == sorted(kinds)  # every config before any state
    assert kinds.count("config") == 4


async def test_removal_empties_the_retained_config(mosquitto: ServerProcess) -> None:
    core, _ = make_core()
    async with running(core, _config(mosquitto)), recording(mosquitto.port, "homeassistant/#", "homelab/#") as seen:
        topic = "homeassistant/sensor/nas/nas_cpu_percent/config"
        await eventually(lambda: seen.payload(topic) not in (None, b""))
        core.states.remove("sensor.nas_cpu_percent")
        core.entities.remove("sensor.nas_cpu_percent")
        await eventually(lambda: seen.payload(topic) == b"")
        emptied = time.monotonic()
        # The entity's other topics a moment later, once Home Assistant has dropped it: cleared at once, they
        # reached the entity while it still listened, and HA logged an empty state and empty JSON as invalid.
        others = [f"homelab/nas/nas_cpu_percent/{kind}" for kind in ("state", "attributes", "availability")]
        assert all(seen.payload(other) != b"" for other in others)
        await eventually(lambda: all(seen.payload(other) == b"" for other in others), 5, "the other topics cleared")
        assert time.monotonic() - emptied >= CLEAR_DELAY - 0.5
    async with recording(mosquitto.port, "homeassistant/#", "homelab/#") as later:
        await eventually(lambda: len(later.latest) >= 3, what="retained replay")
        await asyncio.sleep(0.2)
    assert topic not in later.latest  # nothing retained any more: no ghost entity
    assert not [other for other in others if other in later.latest]


async def test_commands_run_declared_payloads_only(mosquitto: ServerProcess, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "hub.sinks.mqtt")
    core, calls = make_core()
    async with running(core, _config(mosquitto)), recording(mosquitto.port, "homelab/nas/availability") as seen:
        await eventually(lambda: seen.payload("homelab/nas/availability") == b"online")
        await asyncio.sleep(0.2)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="ha") as ha:
            await ha.publish("homelab/nas/nas_docker_nginx_power/set", "ON", qos=1)
            await ha.publish("homelab/nas/nas_docker_nginx_restart/set", "PRESS", qos=1)
            await eventually(lambda: len(calls) == 2, what="two service calls")
            for topic, junk in (
                ("homelab/nas/nas_docker_nginx_power/set", "PRESS"),
                ("homelab/nas/nas_docker_nginx_power/set", "on; rm -rf /"),
                ("homelab/nas/nas_docker_nginx_restart/set", b"\xff\xfe"),
                ("homelab/nas/nas_docker_nginx_restart/set", ""),
                ("homelab/nas/nas_cpu_percent/set", "ON"),
                ("homelab/nas/nas_nothing/set", "ON"),
            ):
                await ha.publish(topic, junk, qos=1)
            await ha.publish("homelab/nas/nas_docker_nginx_power/set", "OFF", qos=1)
            await eventually(lambda: len(calls) == 3, what="the OFF call")
            await asyncio.sleep(0.2)
    assert [(c.domain, c.service, dict(c.data)) for c in calls] == [
        ("test", "start", {"entity_id": "switch.nas_docker_nginx_power"}),
        ("test", "restart", {"entity_id": "button.nas_docker_nginx_restart"}),
        ("test", "stop", {"entity_id": "switch.nas_docker_nginx_power"}),
    ]
    ignored = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Ignored MQTT command")]
    # One line per topic (a flood of junk does not flood the log), saying the topic, an excerpt and why.
    assert len(ignored) == 4
    assert ignored[0] == (
        "Ignored MQTT command on homelab/nas/nas_docker_nginx_power/set for switch.nas_docker_nginx_power: "
        "'PRESS' (5 characters); accepts only ON, OFF"
    )
    assert "b'\\xff\\xfe' (2 bytes); accepts only PRESS" in ignored[1]


async def test_broker_down_then_back_reconnects_and_republishes(mosquitto: ServerProcess) -> None:
    core, _ = make_core()
    health = HealthRegistry()
    sink_health = health.create("mqtt", "sink")
    async with mqtt_sink(core, _config(mosquitto), sink_health, version="0.1.0") as bridge:
        async with recording(mosquitto.port, "homelab/nas/#") as seen:
            await eventually(lambda: seen.payload("homelab/nas/nas_cpu_percent/state") == b"12.5")
        mosquitto.stop()  # no persistence: the broker forgets every retained message
        await eventually(lambda: sink_health.status is HealthStatus.failing, what="sink failing")
        core.states.set("sensor.nas_cpu_percent", "99", {"friendly_name": "NAS CPU"})
        add_entity(core, "sensor", "load", "Load", "0.5")
        await asyncio.sleep(10.0)  # the broker stays away 10 s, as in the issue; retries are instant in testing mode
        mosquitto.start()
        await eventually(lambda: sink_health.status is HealthStatus.ok, timeout=10, what="reconnected")
        async with recording(mosquitto.port, "homelab/nas/#", "homeassistant/sensor/nas/#") as seen:
            await eventually(lambda: seen.payload("homelab/nas/nas_load/state") == b"0.5", what="republished states")
            await eventually(lambda: seen.payload("homelab/nas/availability") == b"online")
            await eventually(lambda: seen.payload("homeassistant/sensor/nas/nas_load/config") is not None)
        assert seen.payload("homelab/nas/nas_cpu_percent/state") == b"99"
        assert seen.json("homeassistant/sensor/nas/nas_load/config")["unique_id"] == "nas_test_load"
        assert bridge.published > 0
    assert sink_health.consecutive_errors == 0


async def test_device_discovery_one_message_per_device(mosquitto: ServerProcess) -> None:
    """discovery_mode: device (Home Assistant 2024.12+), checked against ha-protocols.md 3.5 field by field."""
    core, _ = make_core()
    config = _config(mosquitto, discovery_mode="device")
    nginx_topic = "homeassistant/device/nas/nas_docker_nginx/config"
    async with running(core, config), recording(mosquitto.port, "homeassistant/#") as seen:
        await eventually(lambda: seen.payload(nginx_topic) not in (None, b""), what="the nginx device")
        await eventually(lambda: seen.payload("homeassistant/device/nas/nas/config") is not None, what="the host")
        nginx = seen.json(nginx_topic)
        assert nginx == {
            "device": NGINX_DEVICE,
            "origin": ORIGIN,
            "components": {
                "nas_docker_nginx_running": {
                    "platform": "binary_sensor",
                    "name": "Running",
                    "unique_id": "nas_test_docker_nginx_running",
                    "object_id": "nas_docker_nginx_running",
                    "default_entity_id": "binary_sensor.nas_docker_nginx_running",
                    "json_attributes_topic": "homelab/nas/nas_docker_nginx_running/attributes",
                    "availability": _availability("nas_docker_nginx_running"),
                    "availability_mode": "all",
                    "state_topic": "homelab/nas/nas_docker_nginx_running/state",
                    "device_class": "running",
                    "payload_on": "on",
                    "payload_off": "off",
                },
                "nas_docker_nginx_power": {
                    "platform": "switch",
                    "name": "Power",
                    "unique_id": "nas_test_docker_nginx_power",
                    "object_id": "nas_docker_nginx_power",
                    "default_entity_id": "switch.nas_docker_nginx_power",
                    "json_attributes_topic": "homelab/nas/nas_docker_nginx_power/attributes",
                    "availability": _availability("nas_docker_nginx_power"),
                    "availability_mode": "all",
                    "state_topic": "homelab/nas/nas_docker_nginx_power/state",
                    "command_topic": "homelab/nas/nas_docker_nginx_power/set",
                    "payload_on": "ON",
                    "payload_off": "OFF",
                    "state_on": "on",
                    "state_off": "off",
                },
                "nas_docker_nginx_restart": {
                    "platform": "button",
                    "name": "Restart",
                    "unique_id": "nas_test_docker_nginx_restart",
                    "object_id": "nas_docker_nginx_restart",
                    "default_entity_id": "button.nas_docker_nginx_restart",
                    "json_attributes_topic": "homelab/nas/nas_docker_nginx_restart/attributes",
                    "availability": _availability("nas_docker_nginx_restart"),
                    "availability_mode": "all",
                    "device_class": "restart",
                    "command_topic": "homelab/nas/nas_docker_nginx_restart/set",
                    "payload_press": "PRESS",
                },
            },
        }
        host = seen.json("homeassistant/device/nas/nas/config")
        assert (host["device"], host["origin"]) == (HOST_DEVICE, ORIGIN)
        assert host["components"]["nas_cpu_percent"]["availability"] == _availability("nas_cpu_percent")
        assert [m.topic.value for m in seen.messages if "/device/" not in m.topic.value] == []  # no per-component

        # One component goes: sent as its platform alone, then the device again without it.
        before = len(seen.on(nginx_topic))
        core.states.remove("switch.nas_docker_nginx_power")
        core.entities.remove("switch.nas_docker_nginx_power")
        await eventually(lambda: len(seen.on(nginx_topic)) >= before + 2, what="removal, then the device without it")
        marked, clean = (json.loads(bytes(m.payload)) for m in seen.on(nginx_topic)[before : before + 2])  # type: ignore[arg-type]
        assert marked["components"]["nas_docker_nginx_power"] == {"platform": "switch"}
        assert "nas_docker_nginx_running" in marked["components"]
        assert set(clean["components"]) == {"nas_docker_nginx_running", "nas_docker_nginx_restart"}

        # The device's last components go: an empty retained payload removes the device.
        for entity_id in ("binary_sensor.nas_docker_nginx_running", "button.nas_docker_nginx_restart"):
            core.states.remove(entity_id)
            core.entities.remove(entity_id)
        await eventually(lambda: seen.payload(nginx_topic) == b"", what="an empty config for the device")
    async with recording(mosquitto.port, "homeassistant/#") as later:
        await eventually(lambda: "homeassistant/device/nas/nas/config" in later.latest, what="retained replay")
        await asyncio.sleep(0.2)
    assert nginx_topic not in later.latest  # nothing retained: no ghost device
