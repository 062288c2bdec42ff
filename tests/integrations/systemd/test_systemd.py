"""The systemd integration over a real dbus-daemon (a bus of the test's own, on a socket in tmp_path) with a test
service that speaks systemd's D-Bus API (org.freedesktop.systemd1: ListUnitsByPatterns, ListUnitsFiltered,
StartUnit/StopUnit/RestartUnit, the Service interface's NRestarts): this machine runs no systemd (it is not PID 1).
Units change state, fail and restart; the hub's switch and button act on them; the discovery of each kind."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.config import load_config
from hub.core import ServiceValidationError
from hub.runtime import Hub
from integrations.systemd import Systemd
from tests.fixtures.dbus import dbus_daemon
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.fixtures.systemd1 import FakeUnit, serve
from tests.sinks.mqtt.mqtttools import recording

AVAILABLE = {"systemd": Systemd}


@dataclass
class Systemd1:
    address: str
    units: dict[str, FakeUnit]


@pytest.fixture
def dbus_address(tmp_path: Path) -> Iterator[str]:
    with dbus_daemon(tmp_path) as address:
        yield address


@pytest.fixture
async def systemd1(dbus_address: str) -> AsyncIterator[Systemd1]:
    """The test service, owning org.freedesktop.systemd1 on the test's bus."""
    units = {name: FakeUnit(name) for name in ("nginx.service", "backup.timer", "postgresql.service", "cron.service")}
    units["postgresql.service"].active, units["postgresql.service"].sub = "failed", "failed"
    bus = await serve(dbus_address, units)
    yield Systemd1(dbus_address, units)
    bus.disconnect()


@pytest.fixture
async def hub(tmp_path: Path, systemd1: Systemd1, mosquitto: ServerProcess) -> AsyncIterator[Hub]:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
        "integrations:\n  - platform: systemd\n    interval: 300ms\n    controls: true\n"
        f"    bus_address: '{systemd1.address}'\n    units: [nginx.service, 'post*.service', '*.timer']\n"
    )
    running = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with running.lifespan():
        yield running


async def test_watched_units_their_failures_and_controls(
    hub: Hub, systemd1: Systemd1, mosquitto: ServerProcess
) -> None:
    states = hub.core.states

    def state(entity_id: str) -> str | None:
        found = states.get(entity_id)
        return found.state if found else None

    await eventually(lambda: state("sensor.nas_systemd_nginx_state") == "active", 10, "nginx watched")
    assert state("binary_sensor.nas_systemd_nginx_failed") == "off"
    assert (state("sensor.nas_systemd_postgresql_state"), state("binary_sensor.nas_systemd_postgresql_failed")) == (
        "failed",
        "on",
    )
    assert state("sensor.nas_systemd_backup_timer_state") == "active"
    assert states.get("sensor.nas_systemd_backup_timer_restarts") is None  # timers have no restarts
    assert states.get("sensor.nas_systemd_cron_state") is None  # not watched
    assert state("sensor.nas_systemd_failed_units") == "1"
    nginx = states.get("sensor.nas_systemd_nginx_state")
    assert nginx is not None
    assert (nginx.attributes["sub_state"], nginx.attributes["unit"]) == ("running", "nginx.service")

    await hub.core.services.call("switch", "turn_off", {"entity_id": "switch.nas_systemd_nginx_running"})
    await eventually(lambda: state("sensor.nas_systemd_nginx_state") == "inactive", 5, "nginx stopped")
    await hub.core.services.call("button", "press", {"entity_id": "button.nas_systemd_postgresql_restart"})
    await eventually(lambda: state("binary_sensor.nas_systemd_postgresql_failed") == "off", 5, "postgresql restarted")
    assert state("sensor.nas_systemd_postgresql_restarts") == "1"
    assert state("sensor.nas_systemd_failed_units") == "0"
    assert systemd1.units["nginx.service"].calls == ["stop"]
    assert systemd1.units["postgresql.service"].calls == ["restart"]
    with pytest.raises(ServiceValidationError, match=r"cron\.service is not a unit this integration watches"):
        await hub.core.services.call("systemd", "restart", {"unit": "cron.service"})
    assert systemd1.units["cron.service"].calls == []

    prefix = "homeassistant/{}/nas/nas_systemd_{}/config"
    async with recording(mosquitto.port, "homeassistant/#") as seen:
        await eventually(lambda: seen.payload(prefix.format("button", "nginx_restart")), 10, "discovery")
        failed_units = seen.json(prefix.format("sensor", "failed_units"))
        unit_state = seen.json(prefix.format("sensor", "nginx_state"))
        failed = seen.json(prefix.format("binary_sensor", "nginx_failed"))
        restarts = seen.json(prefix.format("sensor", "nginx_restarts"))
        switch = seen.json(prefix.format("switch", "nginx_running"))
        button = seen.json(prefix.format("button", "nginx_restart"))
    assert failed_units["state_class"] == "measurement"
    assert unit_state["device"]["identifiers"] == ["nas_systemd"]
    assert failed["device_class"] == "problem"
    assert (restarts["state_class"], restarts["entity_category"]) == ("total_increasing", "diagnostic")
    assert (switch["command_topic"], switch["payload_on"]) == ("homelab/nas/nas_systemd_nginx_running/set", "ON")
    assert (button["payload_press"], button["device_class"]) == ("PRESS", "restart")


async def test_without_controls_and_without_a_bus(tmp_path: Path, systemd1: Systemd1) -> None:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: systemd\n    interval: 300ms\n    bus_address: '{systemd1.address}'\n"
        "    units: [nginx.service]\n"
        f"  - platform: systemd\n    name: nowhere\n    bus_address: 'unix:path={tmp_path / 'no-bus'}'\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with hub.lifespan():
        await eventually(lambda: hub.core.states.get("sensor.nas_systemd_nginx_state"), 10, "nginx watched")
        assert hub.core.states.get("switch.nas_systemd_nginx_running") is None
        with pytest.raises(ServiceValidationError, match="controls are off"):
            await hub.core.services.call("systemd", "stop", {"unit": "nginx.service"})
        nowhere = hub.health.get("nowhere")
        assert nowhere is not None
        await eventually(lambda: nowhere.last_error, 10, "the missing bus's error")
        assert nowhere.last_error.startswith(f"cannot reach unix:path={tmp_path / 'no-bus'}")  # type: ignore[union-attr]
    assert systemd1.units["nginx.service"].calls == []
