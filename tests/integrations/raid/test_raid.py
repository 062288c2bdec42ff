"""The raid integration: md arrays from recorded /proc/mdstat (this kernel has no md; data/PROVENANCE.md), ZFS pools
from a real zpool (Debian's zfs-fuse, a pool of mirrored files made by the test, taken offline and scrubbed), and the
Home Assistant discovery payload of each entity kind."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hub.config import load_config
from hub.runtime import Hub
from integrations.raid import Raid
from integrations.raid.mdstat import parse_mdstat
from integrations.raid.zfs import read_pools
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.fixtures.zfs import zfs_pool
from tests.sinks.mqtt.mqtttools import recording

AVAILABLE = {"raid": Raid}
MDSTAT = Path(__file__).parent / "data" / "mdstat"


def test_recorded_mdstat() -> None:
    arrays = parse_mdstat(MDSTAT.read_text())
    assert len(arrays) == 17
    md3 = arrays["md3"]
    assert (md3.state, md3.level, md3.wanted, md3.in_sync, md3.degraded) == ("active", "raid6", 8, 8, False)
    assert md3.spares == ["sdd1", "sdd2"]
    md6 = arrays["md6"]
    assert (md6.degraded, md6.failed, md6.action, md6.progress, md6.finish_minutes) == (
        True,
        ["sdb2"],
        "recovery",
        8.5,
        17.0,
    )
    assert (arrays["md8"].action, arrays["md8"].progress) == ("resync", 8.5)
    assert (arrays["md201"].action, arrays["md201"].progress) == ("check", 5.7)
    assert (arrays["md7"].degraded, arrays["md7"].failed, arrays["md7"].in_sync) == (True, ["sdc1"], 3)
    md9 = arrays["md9"]
    assert (md9.action, md9.progress, md9.failed, md9.degraded) == ("resync", None, ["sde", "sdf"], False)
    assert (arrays["md4"].state, arrays["md11"].state, arrays["md101"].state) == (
        "inactive",
        "auto-read-only",
        "read-only",
    )
    assert (arrays["md10"].level, arrays["md10"].wanted, arrays["md10"].degraded) == ("raid0", None, False)
    assert (arrays["md219"].state, arrays["md219"].level, arrays["md120"].level) == ("inactive", None, "linear")


def test_hostile_mdstat_is_skipped_not_raised() -> None:
    assert parse_mdstat("md0 : active raid1 [1/0] [\n\x00\x01 garbage\nmd1 :\n" + "x" * 100_000) == {
        "md0": parse_mdstat("md0 : active raid1")["md0"]
    }


@pytest.fixture
def zpool(tmp_path: Path) -> Iterator[Path]:
    with zfs_pool(tmp_path) as binary:
        yield binary


async def test_a_real_pool(zpool: Path, tmp_path: Path) -> None:
    pools = await read_pools(str(zpool), 10)
    pool = pools["labpool"]
    assert (pool.health, pool.errors, pool.last_scrub, pool.scrubbing) == ("ONLINE", 0, None, False)
    assert pool.size_bytes is not None
    assert 100 * 2**20 < pool.size_bytes < 130 * 2**20  # zfs-fuse rounds: `123M`
    assert pool.fragmentation_percent is None  # zfs-fuse's pool version 23 has no fragmentation
    assert pool.capacity_percent == 0.0


@pytest.fixture
async def hub(tmp_path: Path, zpool: Path, mosquitto: ServerProcess) -> AsyncIterator[Hub]:
    mdstat = tmp_path / "mdstat"
    shutil.copy(MDSTAT, mdstat)
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
        f"integrations:\n  - platform: raid\n    interval: 500ms\n    mdstat: {mdstat}\n    zpool: {zpool}\n"
    )
    running = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with running.lifespan():
        yield running


async def _zpool(zpool: Path, *args: str) -> None:
    await asyncio.to_thread(subprocess.run, [str(zpool), *args], check=True, capture_output=True, timeout=30)


async def test_arrays_and_pools_as_devices(hub: Hub, zpool: Path, tmp_path: Path, mosquitto: ServerProcess) -> None:
    states = hub.core.states

    def state(entity_id: str) -> str | None:
        found = states.get(entity_id)
        return found.state if found else None

    await eventually(lambda: state("sensor.nas_zpool_labpool_health") == "ONLINE", 10, "the pool")
    assert state("binary_sensor.nas_zpool_labpool_problem") == "off"
    assert state("sensor.nas_zpool_labpool_errors") == "0"
    assert state("sensor.nas_zpool_labpool_capacity") == "0.0"
    assert states.get("sensor.nas_zpool_labpool_last_scrub") is None  # never scrubbed
    assert (state("sensor.nas_md_md6_state"), state("binary_sensor.nas_md_md6_problem")) == ("degraded", "on")
    assert state("sensor.nas_md_md6_sync_progress") == "8.5"
    assert states.get("sensor.nas_md_md6_state").attributes["failed_devices"] == ["sdb2"]  # type: ignore[union-attr]
    assert (state("sensor.nas_md_md3_state"), state("binary_sensor.nas_md_md3_problem")) == ("active", "off")
    assert state("sensor.nas_md_md3_sync_progress") == "unknown"  # nothing running

    await _zpool(zpool, "scrub", "labpool")
    scrubbed = await eventually(lambda: states.get("sensor.nas_zpool_labpool_last_scrub"), 15, "the scrub")
    assert float(scrubbed.state) < 0.1  # days
    await _zpool(zpool, "offline", "labpool", str(tmp_path / "disk2"))
    await eventually(lambda: state("sensor.nas_zpool_labpool_health") == "DEGRADED", 10, "the pool degraded")
    assert state("binary_sensor.nas_zpool_labpool_problem") == "on"

    (tmp_path / "mdstat").write_text(
        MDSTAT.read_text().replace("[2/1] [U_]", "[2/2] [UU]").replace("sdb2[2](F)", "sdb2[2]")
    )
    await eventually(lambda: state("binary_sensor.nas_md_md6_problem") == "off", 10, "md6 repaired")

    prefix = "homeassistant/{}/nas/nas_{}/config"
    async with recording(mosquitto.port, "homeassistant/#") as seen:
        await eventually(lambda: seen.payload(prefix.format("sensor", "zpool_labpool_last_scrub")), 10, "discovery")
        md_state = seen.json(prefix.format("sensor", "md_md6_state"))
        md_problem = seen.json(prefix.format("binary_sensor", "md_md6_problem"))
        progress = seen.json(prefix.format("sensor", "md_md6_sync_progress"))
        health = seen.json(prefix.format("sensor", "zpool_labpool_health"))
        capacity = seen.json(prefix.format("sensor", "zpool_labpool_capacity"))
        scrub = seen.json(prefix.format("sensor", "zpool_labpool_last_scrub"))
    assert md_state["json_attributes_topic"] == "homelab/nas/nas_md_md6_state/attributes"
    assert md_state["device"]["identifiers"] == ["nas_md_md6"]
    assert md_state["device"]["model"] == "Linux software RAID raid1"
    assert md_problem["device_class"] == "problem"
    assert (progress["unit_of_measurement"], progress["state_class"]) == ("%", "measurement")
    assert (health["device"]["identifiers"], health["device"]["model"]) == (["nas_zpool_labpool"], "ZFS pool")
    assert capacity["unit_of_measurement"] == "%"
    assert (scrub["unit_of_measurement"], scrub["icon"]) == ("d", "mdi:broom")


async def test_a_machine_without_md_or_zfs_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: raid\n    interval: 200ms\n    mdstat: {tmp_path / 'none'}\n"
        "    zpool: no-such-zpool\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    caplog.set_level("INFO")
    async with hub.lifespan():
        health = hub.health.get("raid")
        assert health is not None
        await eventually(lambda: health.success_count >= 3, 5, "three polls")
        assert not [state for state in hub.core.states.all() if "_md_" in state.entity_id or "zpool" in state.entity_id]
    said = [record.getMessage() for record in caplog.records]
    assert said.count(f"{tmp_path / 'none'} does not exist: this kernel has no software RAID (md)") == 1
    assert said.count("no-such-zpool not found: ZFS pools are not read") == 1
