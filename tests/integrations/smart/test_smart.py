"""The smart integration: the parser on real recorded smartctl output of a SATA and an NVMe disk (data/PROVENANCE.md),
the runner against this machine's real smartctl (which finds no disk here: a clear unsupported state, said once),
and a hub whose smartctl answers with the recorded disks, down to the discovery payload of each entity kind."""

from __future__ import annotations

import copy
import json
import logging
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.config import load_config
from hub.runtime import Hub
from integrations.smart import Smart
from integrations.smart.config import DiskSpec
from integrations.smart.parser import parse_smartctl
from integrations.smart.runner import read_disk, scan
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess, fail_missing
from tests.sinks.mqtt.mqtttools import recording

AVAILABLE = {"smart": Smart}
DATA = Path(__file__).parent / "data"
SATA = json.loads((DATA / "sata-wdc-wuh721816ale6l4.json").read_text())
NVME = json.loads((DATA / "nvme-wd-black-sn770.json").read_text())


def _smartctl() -> str:
    found = shutil.which("smartctl", path="/usr/sbin:/sbin:/usr/bin")
    if found is None:
        fail_missing("smartctl", "smartmontools")
    return found


def test_sata_disk() -> None:
    disk = parse_smartctl("/dev/sda", SATA)
    assert (disk.state, disk.health, disk.reason, disk.protocol) == ("passed", "passed", None, "ATA")
    assert (disk.model, disk.serial, disk.firmware) == ("WDC WUH721816ALE6L4", "3WJMHZ6L", "PCGNW232")
    assert disk.capacity_bytes == 16_000_900_661_248
    assert (disk.temperature, disk.power_on_hours, disk.power_cycles) == (26.0, 593, 6)
    assert (disk.reallocated_sectors, disk.pending_sectors, disk.uncorrectable_sectors) == (0, 0, 0)
    assert (disk.percentage_used, disk.available_spare, disk.media_errors) == (None, None, None)


def test_nvme_disk() -> None:
    disk = parse_smartctl("/dev/nvme0", NVME)
    assert (disk.state, disk.protocol, disk.model, disk.serial) == (
        "passed",
        "NVMe",
        "WD_BLACK SN770 500GB",
        "22050Y803439",
    )
    assert (disk.temperature, disk.power_on_hours, disk.power_cycles) == (33.0, 670, 81)
    assert (disk.percentage_used, disk.available_spare, disk.media_errors) == (0, 100, 0)
    assert disk.reallocated_sectors is None  # an ATA attribute; NVMe has none


def test_a_failing_disk() -> None:
    """The SATA file as smartctl writes it for a disk whose reallocated sectors crossed the threshold: the overall
    status failed, exit status bit 3 ("disk failing"), attribute 5 raw 1,208 and `when_failed: now`."""
    failing = copy.deepcopy(SATA)
    failing["smart_status"]["passed"] = False
    failing["smartctl"]["exit_status"] = 8
    reallocated = next(row for row in failing["ata_smart_attributes"]["table"] if row["id"] == 5)
    reallocated.update(value=1, when_failed="now", raw={"value": 1208, "string": "1208"})
    disk = parse_smartctl("/dev/sda", failing)
    assert (disk.state, disk.health, disk.reallocated_sectors) == ("failed", "failed", 1208)
    assert disk.failing_attributes == ("Reallocated_Sector_Ct",)
    assert disk.reason == "smartctl reports the disk failing"


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"smartctl": "x", "smart_status": {"passed": "yes"}},
        {"smartctl": {"exit_status": "4", "messages": "no"}, "smart_status": {"passed": True}, "temperature": []},
        {"smart_status": {"passed": True}, "ata_smart_attributes": {"table": [1, {"id": "5"}, {"id": 5, "raw": 7}]}},
    ],
)
def test_hostile_answers_never_raise(answer: dict[str, Any]) -> None:
    disk = parse_smartctl("/dev/sdx", answer)
    assert disk.state in ("passed", "unsupported")


async def test_real_smartctl_on_devices_that_are_no_disks() -> None:
    smartctl = _smartctl()
    null, _ = await read_disk(smartctl, DiskSpec(name="/dev/null"), wake=False, allowed=10)
    assert (null.state, null.reason) == ("unsupported", "/dev/null: Unable to detect device type")
    missing, seconds = await read_disk(smartctl, DiskSpec(name="/dev/no-such-disk"), wake=False, allowed=10)
    assert (missing.state, missing.reason) == ("unsupported", "/dev/no-such-disk: Unable to detect device type")
    assert 0 < seconds < 10
    # Read as a SAT disk, /dev/null looks asleep to smartctl: a sleeping disk is not woken.
    asleep, _ = await read_disk(smartctl, DiskSpec(name="/dev/null", type="sat"), wake=False, allowed=10)
    assert (asleep.state, asleep.reason) == ("standby", "Device is in SLEEP mode, exit(2)")


async def test_a_machine_without_disks_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert await scan(_smartctl(), 10) == []  # this machine's disks are virtual: smartctl opens none
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        "integrations:\n  - platform: smart\n    interval: 200ms\n  - platform: smart\n    name: named\n"
        "    interval: 200ms\n    devices: [{name: /dev/null}]\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    caplog.set_level(logging.WARNING)
    async with hub.lifespan():
        status = await eventually(lambda: hub.core.states.get("sensor.nas_smart_null_status"), 5, "/dev/null's status")
        assert status.state == "unsupported"
        assert status.attributes["reason"] == "/dev/null: Unable to detect device type"
        health = hub.health.get("named")
        assert health is not None
        await eventually(lambda: health.success_count >= 3, 5, "three polls")
    said = [record.getMessage() for record in caplog.records]
    assert said.count("smartctl finds no disk it can read here (a VM's virtual disks have no SMART)") == 1
    assert said.count("/dev/null: no SMART reading (/dev/null: Unable to detect device type)") == 1


def _recorded_smartctl(tmp_path: Path) -> Path:
    """A smartctl that answers with the recorded disks: sda the SATA one, nvme0 the NVMe one."""
    script = tmp_path / "smartctl"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        f"data = pathlib.Path({str(DATA)!r})\n"
        "if '--scan-open' in sys.argv:\n"
        '    print(\'{"devices": [{"name": "/dev/sda", "type": "sat"}, {"name": "/dev/nvme0", "type": "nvme"}]}\')\n'
        "elif sys.argv[-1] == '/dev/sda':\n"
        "    print((data / 'sata-wdc-wuh721816ale6l4.json').read_text())\n"
        "else:\n"
        "    print((data / 'nvme-wd-black-sn770.json').read_text())\n"
    )
    script.chmod(0o755)
    return script


@pytest.fixture
async def recorded_hub(tmp_path: Path, mosquitto: ServerProcess) -> AsyncIterator[tuple[Hub, ServerProcess]]:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
        f"integrations:\n  - platform: smart\n    smartctl: {_recorded_smartctl(tmp_path)}\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with hub.lifespan():
        yield hub, mosquitto


async def test_recorded_disks_as_devices_and_their_discovery(recorded_hub: tuple[Hub, ServerProcess]) -> None:
    hub, mosquitto = recorded_hub
    states = hub.core.states
    sata = await eventually(lambda: states.get("sensor.nas_smart_3wjmhz6l_status"), 5, "the SATA disk")
    assert sata.state == "passed"
    assert sata.attributes["model"] == "WDC WUH721816ALE6L4"
    assert states.get("binary_sensor.nas_smart_3wjmhz6l_problem").state == "off"  # type: ignore[union-attr]
    assert states.get("sensor.nas_smart_3wjmhz6l_temperature").state == "26.0"  # type: ignore[union-attr]
    assert states.get("sensor.nas_smart_22050y803439_percentage_used").state == "0"  # type: ignore[union-attr]
    assert states.get("sensor.nas_smart_3wjmhz6l_percentage_used") is None  # NVMe only
    entry = hub.core.entities.get("sensor.nas_smart_22050y803439_temperature")
    assert entry is not None
    assert (entry.device.identifier, entry.device.name) == (
        "nas_disk_22050y803439",
        "WD_BLACK SN770 500GB (/dev/nvme0)",
    )
    prefix = "homeassistant/{}/nas/nas_smart_{}/config"
    async with recording(mosquitto.port, "homeassistant/#") as seen:
        await eventually(lambda: seen.payload(prefix.format("sensor", "22050y803439_media_errors")), 10, "discovery")
        status = seen.json(prefix.format("sensor", "3wjmhz6l_status"))
        problem = seen.json(prefix.format("binary_sensor", "3wjmhz6l_problem"))
        temperature = seen.json(prefix.format("sensor", "3wjmhz6l_temperature"))
        hours = seen.json(prefix.format("sensor", "3wjmhz6l_power_on_hours"))
        wear = seen.json(prefix.format("sensor", "22050y803439_percentage_used"))
    assert (status["icon"], status["json_attributes_topic"]) == (
        "mdi:harddisk",
        "homelab/nas/nas_smart_3wjmhz6l_status/attributes",
    )
    assert (problem["device_class"], problem["payload_on"]) == ("problem", "on")
    assert (temperature["device_class"], temperature["unit_of_measurement"]) == ("temperature", "°C")
    assert (hours["device_class"], hours["state_class"], hours["entity_category"]) == (
        "duration",
        "total_increasing",
        "diagnostic",
    )
    assert (wear["unit_of_measurement"], wear["state_class"]) == ("%", "measurement")
    assert status["device"]["identifiers"] == ["nas_disk_3wjmhz6l"]
    assert status["device"]["via_device"] == "nas"
