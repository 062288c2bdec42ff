"""The ups integration against a real NUT upsd with the dummy-ups driver (Debian nut-server), driven through mains
loss and a low battery by rewriting its .dev file; the protocol parser against hostile answers; the discovery
payloads Home Assistant gets for each kind of entity."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hub.config import ConfigErrors, load_config
from hub.runtime import Hub
from integrations.ups import Ups
from integrations.ups.entities import status_text
from integrations.ups.nut import NutClient, NutError, parse_words
from tests.fixtures.eventually import eventually
from tests.fixtures.nut import MAINS, Upsd, running_upsd
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import recording

AVAILABLE = {"ups": Ups}


@pytest.fixture
def upsd(tmp_path: Path) -> Iterator[Upsd]:
    with running_upsd(tmp_path) as server:
        yield server


@pytest.fixture
async def hub(tmp_path: Path, upsd: Upsd) -> AsyncIterator[Hub]:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        "  recorder: {commit_interval: 100ms}\n"
        f"integrations:\n  - platform: ups\n    port: {upsd.port}\n    interval: 1s\n"
    )
    running = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with running.lifespan():
        yield running


async def test_every_ups_becomes_a_device_and_follows_mains_loss(hub: Hub, upsd: Upsd) -> None:
    states = hub.core.states

    def state(entity_id: str) -> str | None:
        found = states.get(entity_id)
        return found.state if found else None

    await eventually(lambda: state("sensor.nas_ups_lab_status") == "OL CHRG", 10, "the lab UPS online")
    assert states.get("sensor.nas_ups_lab_status").attributes["status_text"] == "Online, Charging"  # type: ignore[union-attr]
    assert state("binary_sensor.nas_ups_lab_on_battery") == "off"
    assert state("binary_sensor.nas_ups_lab_low_battery") == "off"
    assert state("sensor.nas_ups_lab_battery_charge") == "100.0"
    assert state("sensor.nas_ups_lab_battery_runtime") == "1800.0"
    assert state("sensor.nas_ups_lab_load") == "23.0"
    assert state("sensor.nas_ups_lab_input_voltage") == "230.4"
    assert state("sensor.nas_ups_spare_battery_charge") == "87.0"
    assert states.get("sensor.nas_ups_spare_load") is None  # the spare reports no load: no such entity
    entry = hub.core.entities.get("sensor.nas_ups_lab_battery_charge")
    assert entry is not None
    assert (entry.device.name, entry.device.manufacturer, entry.device.model) == ("Rack UPS", "Lab Power", "Dummy 1500")
    assert (entry.unit, entry.device_class, entry.state_class) == ("%", "battery", "measurement")

    upsd.set(MAINS.replace("OL CHRG", "OB DISCHRG").replace("battery.runtime: 1800", "battery.runtime: 1200"))
    await eventually(lambda: state("binary_sensor.nas_ups_lab_on_battery") == "on", 10, "on battery")
    assert state("sensor.nas_ups_lab_battery_runtime") == "1200.0"
    assert state("binary_sensor.nas_ups_lab_low_battery") == "off"

    upsd.set(MAINS.replace("OL CHRG", "OB DISCHRG LB").replace("battery.charge: 100", "battery.charge: 9"))
    await eventually(lambda: state("binary_sensor.nas_ups_lab_low_battery") == "on", 10, "low battery")
    assert state("sensor.nas_ups_lab_battery_charge") == "9.0"
    assert states.get("sensor.nas_ups_lab_status").attributes["status_text"] == (  # type: ignore[union-attr]
        "On battery, Discharging, Low battery"
    )


async def test_a_named_ups_upsd_lacks_and_a_stopped_upsd_say_why(tmp_path: Path, upsd: Upsd) -> None:
    client = NutClient("127.0.0.1", upsd.port, 2.0)
    async with client.connect():
        assert await client.list_ups() == {"lab": "Rack UPS", "spare": "Description unavailable"}
        with pytest.raises(NutError, match="upsd refused: UNKNOWN-UPS"):
            await client.variables("nope")
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: ups\n    port: {upsd.port}\n    ups: [lab, garage]\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with hub.lifespan():
        health = hub.health.get("ups")
        assert health is not None
        await eventually(lambda: health.last_error, 10, "the poll's error")
        assert health.last_error == f"upsd at 127.0.0.1:{upsd.port} serves no UPS named garage (it has: lab, spare)"


async def test_nothing_listening_is_refused() -> None:
    with pytest.raises(ConnectionRefusedError):
        async with NutClient("127.0.0.1", free_port(), 1.0).connect():
            pass


def test_protocol_words_and_status_flags() -> None:
    assert parse_words('VAR lab ups.status "OB DISCHRG LB"') == ["VAR", "lab", "ups.status", "OB DISCHRG LB"]
    assert parse_words(r'UPS lab "a \"quoted\" \\ desc"') == ["UPS", "lab", 'a "quoted" \\ desc']
    with pytest.raises(NutError, match="unterminated"):
        parse_words('VAR lab x "open')
    assert status_text("OL TRIM XYZ") == "Online, Trimming voltage, XYZ"


async def _hostile_server(answer: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n", "not a NUT answer"),
        (b"BEGIN LIST UPS\n" + b"X" * 10_000 + b"\n", "longer than 4096 bytes"),
        (b"BEGIN LIST UPS\n" + b'UPS x "y"\n' * 6000, "more than 5000 lines"),
        (b"BEGIN LIST UPS\nUPS lab", "did not answer"),  # then silence
    ],
)
async def test_hostile_servers_are_bounded(answer: bytes, error: str) -> None:
    server, port = await _hostile_server(answer)
    try:
        client = NutClient("127.0.0.1", port, 0.5)
        started = time.monotonic()
        with pytest.raises((NutError, TimeoutError)) as raised:
            async with client.connect():
                await client.list_ups()
        if error == "did not answer":
            assert raised.type is TimeoutError
        else:
            assert error in str(raised.value)
        assert time.monotonic() - started < 1.0
    finally:
        server.close()


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("integrations:\n  - platform: ups\n    port: 99999\n    ups: [lab, '']\n")
    with pytest.raises(ConfigErrors) as raised:
        load_config(tmp_path, AVAILABLE)
    text = str(raised.value)
    assert "hub.yaml:3" in text
    assert "port" in text
    assert "hub.yaml:4" in text


async def test_home_assistant_discovery_of_each_kind(tmp_path: Path, upsd: Upsd, mosquitto: ServerProcess) -> None:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
        f"integrations:\n  - platform: ups\n    port: {upsd.port}\n    interval: 1s\n    ups: [lab]\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    prefix = "homeassistant/{}/nas/nas_ups_lab_{}/config"
    async with hub.lifespan(), recording(mosquitto.port, "homeassistant/#") as seen:
        await eventually(lambda: seen.payload(prefix.format("sensor", "output_voltage")), 10, "the discovery")
        status = seen.json(prefix.format("sensor", "status"))
        on_battery = seen.json(prefix.format("binary_sensor", "on_battery"))
        low = seen.json(prefix.format("binary_sensor", "low_battery"))
        charge = seen.json(prefix.format("sensor", "battery_charge"))
        runtime = seen.json(prefix.format("sensor", "battery_runtime"))
        voltage = seen.json(prefix.format("sensor", "input_voltage"))
    device = {
        "identifiers": ["nas_ups_lab"],
        "name": "Rack UPS",
        "manufacturer": "Lab Power",
        "model": "Dummy 1500",
        "via_device": "nas",
    }
    for config in (status, on_battery, low, charge, runtime, voltage):
        assert {key: config["device"].get(key) for key in device} == device
        assert config["availability_mode"] == "all"
    assert status["json_attributes_topic"] == "homelab/nas/nas_ups_lab_status/attributes"
    assert "unit_of_measurement" not in status
    assert (status["icon"], status["default_entity_id"]) == ("mdi:power-plug-battery", "sensor.nas_ups_lab_status")
    assert (on_battery["payload_on"], on_battery["payload_off"]) == ("on", "off")
    assert "device_class" not in on_battery
    assert low["device_class"] == "battery"
    assert (charge["device_class"], charge["unit_of_measurement"], charge["state_class"]) == (
        "battery",
        "%",
        "measurement",
    )
    assert (runtime["device_class"], runtime["unit_of_measurement"]) == ("duration", "s")
    assert (voltage["device_class"], voltage["unit_of_measurement"]) == ("voltage", "V")
