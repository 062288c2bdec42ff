"""The systemd integration over a real dbus-daemon (a bus of the test's own, on a socket in tmp_path) with a test
service that speaks systemd's D-Bus API (org.freedesktop.systemd1: ListUnitsByPatterns, ListUnitsFiltered,
StartUnit/StopUnit/RestartUnit, the Service interface's NRestarts): this machine runs no systemd (it is not PID 1).
Units change state, fail and restart; the hub's switch and button act on them; the discovery of each kind."""

import fnmatch
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

from hub.config import load_config
from hub.core import ServiceValidationError
from hub.runtime import Hub
from integrations.systemd import Systemd
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess, fail_missing, launch, read_log_tail
from tests.sinks.mqtt.mqtttools import recording

AVAILABLE = {"systemd": Systemd}
UNIT_ROOT = "/org/freedesktop/systemd1/unit/"


@dataclass
class FakeUnit:
    name: str
    active: str = "active"
    sub: str = "running"
    restarts: int = 0
    calls: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return UNIT_ROOT + "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in self.name)

    def row(self) -> list[object]:
        return [self.name, f"The {self.name}", "loaded", self.active, self.sub, "", self.path, 0, "", "/"]


class Manager(ServiceInterface):
    def __init__(self, units: dict[str, FakeUnit]) -> None:
        super().__init__("org.freedesktop.systemd1.Manager")
        self.units = units

    @method()
    def ListUnitsByPatterns(self, states: "as", patterns: "as") -> "a(ssssssouso)":  # type: ignore[name-defined]  # noqa: F821, F722
        return [
            unit.row()
            for unit in self.units.values()
            if any(fnmatch.fnmatchcase(unit.name, pattern) for pattern in patterns)
            and (not states or unit.active in states)
        ]

    @method()
    def ListUnitsFiltered(self, states: "as") -> "a(ssssssouso)":  # type: ignore[name-defined]  # noqa: F821, F722
        return [unit.row() for unit in self.units.values() if unit.active in states]

    def _job(self, name: str, action: str) -> str:
        unit = self.units[name]
        unit.calls.append(action)
        if action == "stop":
            unit.active, unit.sub = "inactive", "dead"
        else:
            unit.active, unit.sub = "active", "running"
            unit.restarts += action == "restart"
        return "/org/freedesktop/systemd1/job/1"

    @method()
    def StartUnit(self, name: "s", mode: "s") -> "o":  # type: ignore[name-defined]  # noqa: F821
        return self._job(name, "start")

    @method()
    def StopUnit(self, name: "s", mode: "s") -> "o":  # type: ignore[name-defined]  # noqa: F821
        return self._job(name, "stop")

    @method()
    def RestartUnit(self, name: "s", mode: "s") -> "o":  # type: ignore[name-defined]  # noqa: F821
        return self._job(name, "restart")


class Service(ServiceInterface):
    def __init__(self, unit: FakeUnit) -> None:
        super().__init__("org.freedesktop.systemd1.Service")
        self.unit = unit

    @dbus_property(access=PropertyAccess.READ)
    def NRestarts(self) -> "u":  # type: ignore[name-defined]  # noqa: F821
        return self.unit.restarts


@dataclass
class Systemd1:
    address: str
    units: dict[str, FakeUnit]


@pytest.fixture
def dbus_address(tmp_path: Path) -> Iterator[str]:
    """A dbus-daemon of the test's own, listening on a socket in tmp_path."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        fail_missing("dbus-daemon", "dbus-daemon")
    socket = tmp_path / "bus"
    config = tmp_path / "bus.conf"
    config.write_text(
        '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
        f"<busconfig><type>session</type><listen>unix:path={socket}</listen>\n"
        '<auth>EXTERNAL</auth><policy context="default"><allow send_destination="*" eavesdrop="true"/>'
        '<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>\n'
    )
    process = launch([daemon, f"--config-file={config}", "--nofork", "--nopidfile"], tmp_path / "dbus.log")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"dbus-daemon did not start:\n{read_log_tail(tmp_path / 'dbus.log')}", pytrace=False)
        time.sleep(0.02)
    yield f"unix:path={socket}"
    process.kill()
    process.wait()


@pytest.fixture
async def systemd1(dbus_address: str) -> AsyncIterator[Systemd1]:
    """The test service, owning org.freedesktop.systemd1 on the test's bus."""
    units = {name: FakeUnit(name) for name in ("nginx.service", "backup.timer", "postgresql.service", "cron.service")}
    units["postgresql.service"].active, units["postgresql.service"].sub = "failed", "failed"
    bus = await MessageBus(bus_address=dbus_address).connect()
    bus.export("/org/freedesktop/systemd1", Manager(units))
    for unit in units.values():
        if unit.name.endswith(".service"):
            bus.export(unit.path, Service(unit))
    await bus.request_name("org.freedesktop.systemd1")
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
