"""system_info entities as data: value functions on hand-built snapshots, and the states the hub makes of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.core import NO_INSTANCE, Core, DeviceInfo, EntityDescription
from hub.snapshot_writer import SnapshotWriter
from integrations.system_info.entities import ENTITIES
from integrations.system_info.snapshot import Filesystem, Interface, SystemSnapshot, Temperature

_GIB = 1024**3
_MIB = 1024**2
BOOT = datetime(2026, 1, 1, tzinfo=UTC)


def snapshot(**changes: Any) -> SystemSnapshot:
    values: dict[str, Any] = {
        "taken_at": BOOT + timedelta(days=2, seconds=30),
        "boot_time": BOOT,
        "cpu_percent": 12.345,
        "cpu_per_core": (10.04, 14.66),
        "load": (0.5, 0.25, 0.125),
        "memory_total": 8 * _GIB,
        "memory_used": 3 * _GIB,
        "memory_available": 5 * _GIB,
        "memory_percent": 37.5,
        "swap_total": 2 * _GIB,
        "swap_used": 512 * _MIB,
        "swap_percent": 25.0,
        "filesystems": {
            "root": Filesystem(
                mountpoint="/",
                device="/dev/sda1",
                fstype="ext4",
                total=100 * _GIB,
                used=40 * _GIB,
                free=60 * _GIB,
                percent=40.0,
            ),
            "/mnt/nas": Filesystem(
                mountpoint="/mnt/nas", device="nas:/export", fstype="nfs4", problem="no answer within 2s"
            ),
        },
        "disk_read_bytes": 1000,
        "disk_write_bytes": 2000,
        "interfaces": {"eth0": Interface(bytes_recv=5000, bytes_sent=700)},
        "temperatures": {"coretemp Package id 0": Temperature(current=48.5, high=80.0, critical=100.0)},
        "process_count": 212,
    }
    values.update(changes)
    return SystemSnapshot(**values)


def description(key: str) -> EntityDescription[SystemSnapshot]:
    return next(d for d in ENTITIES if d.key == key)


def value(key: str, snap: SystemSnapshot, instance: str = NO_INSTANCE) -> Any:
    return description(key).value(snap, instance)


def state(core: Core, entity_id: str) -> str:
    current = core.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def test_keys_are_unique_and_every_numeric_sensor_has_a_state_class_or_is_a_timestamp() -> None:
    keys = [d.key for d in ENTITIES]
    assert len(keys) == len(set(keys))
    for d in ENTITIES:
        assert d.platform == "sensor"
        assert d.state_class == "measurement" or d.key in ("uptime", "boot_time"), d.key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("cpu_percent", 12.345),
        ("load_1m", 0.5),
        ("load_5m", 0.25),
        ("load_15m", 0.125),
        ("memory_used", 3072.0),
        ("memory_available", 5120.0),
        ("memory_percent", 37.5),
        ("swap_used", 512.0),
        ("swap_percent", 25.0),
        ("disk_read", 1000),
        ("disk_write", 2000),
        ("uptime", 2 * 86400 + 30.0),
        ("boot_time", BOOT),
        ("process_count", 212),
    ],
)
def test_host_values(key: str, expected: Any) -> None:
    assert value(key, snapshot()) == expected


def test_units_and_classes() -> None:
    expected = {
        "cpu_percent": ("%", None, 1),
        "memory_used": ("MiB", "data_size", 1),
        "memory_percent": ("%", None, 1),
        "disk_{instance}_used": ("GiB", "data_size", 2),
        "disk_{instance}_percent": ("%", None, 1),
        "disk_read": ("B/s", "data_rate", 0),
        "network_{instance}_rx": ("B/s", "data_rate", 0),
        "temperature_{instance}": ("°C", "temperature", 1),
        "uptime": ("s", "duration", 0),
        "boot_time": (None, "timestamp", None),
    }
    for key, (unit, device_class, precision) in expected.items():
        d = description(key)
        assert (d.unit, d.device_class, d.precision) == (unit, device_class, precision), key
    assert {d.key for d in ENTITIES if d.counter} == {
        "disk_read",
        "disk_write",
        "network_{instance}_rx",
        "network_{instance}_tx",
    }


def test_per_core_cpu_as_attributes_and_none_before_a_baseline() -> None:
    cpu = description("cpu_percent")
    assert cpu.attributes is not None
    assert cpu.attributes(snapshot(), NO_INSTANCE) == {"per_core": [10.0, 14.7]}
    first = snapshot(cpu_percent=None, cpu_per_core=())
    assert cpu.value(first, NO_INSTANCE) is None
    assert cpu.attributes(first, NO_INSTANCE) == {}


def test_filesystem_instances_values_and_a_mount_that_did_not_answer() -> None:
    snap = snapshot()
    percent = description("disk_{instance}_percent")
    assert percent.instances is not None
    assert list(percent.instances(snap)) == ["root", "/mnt/nas"]
    assert percent.key_for("root") == "disk_root_percent"
    assert percent.key_for("/mnt/nas") == "disk_mnt_nas_percent"
    assert value("disk_{instance}_percent", snap, "root") == 40.0
    assert value("disk_{instance}_used", snap, "root") == 40.0
    assert value("disk_{instance}_free", snap, "root") == 60.0
    assert value("disk_{instance}_used", snap, "/mnt/nas") is None
    assert percent.attributes is not None
    assert percent.attributes(snap, "root") == {
        "mountpoint": "/",
        "device": "/dev/sda1",
        "fstype": "ext4",
        "total_gib": 100.0,
    }
    assert percent.attributes(snap, "/mnt/nas")["problem"] == "no answer within 2s"


def test_interfaces_and_temperatures() -> None:
    snap = snapshot()
    assert value("network_{instance}_rx", snap, "eth0") == 5000
    assert value("network_{instance}_tx", snap, "eth0") == 700
    temperature = description("temperature_{instance}")
    assert temperature.key_for("coretemp Package id 0") == "temperature_coretemp_package_id_0"
    assert value("temperature_{instance}", snap, "coretemp Package id 0") == 48.5
    assert temperature.attributes is not None
    assert temperature.attributes(snap, "coretemp Package id 0") == {"high": 80.0, "critical": 100.0}
    assert temperature.instances is not None
    assert list(temperature.instances(snapshot(temperatures={}))) == []


def test_states_through_the_hub_writer_rates_from_the_second_snapshot() -> None:
    core = Core("nas")
    writer = SnapshotWriter(
        core,
        integration_id="system_info",
        domain="system_info",
        descriptions=ENTITIES,
        default_device=DeviceInfo(identifier="nas", name="nas"),
    )
    writer.write(snapshot(), taken_at=100.0)
    cpu = core.states.get("sensor.nas_cpu_percent")
    assert cpu is not None
    assert cpu.state == "12.3"
    assert cpu.attributes["unit_of_measurement"] == "%"
    assert cpu.attributes["per_core"] == [10.0, 14.7]
    assert state(core, "sensor.nas_memory_used") == "3072.0"
    assert state(core, "sensor.nas_disk_root_percent") == "40.0"
    assert state(core, "sensor.nas_disk_mnt_nas_used") == "unknown"
    assert state(core, "sensor.nas_boot_time") == "2026-01-01T00:00:00+00:00"
    assert state(core, "sensor.nas_temperature_coretemp_package_id_0") == "48.5"
    assert state(core, "sensor.nas_network_eth0_rx") == "unknown"
    assert state(core, "sensor.nas_disk_read") == "unknown"

    later = snapshot(
        disk_read_bytes=1000 + 10 * 4096,
        interfaces={"eth0": Interface(bytes_recv=5000 + 25_000, bytes_sent=700)},
        filesystems={},
    )
    writer.write(later, taken_at=110.0)
    assert state(core, "sensor.nas_disk_read") == "4096"
    assert state(core, "sensor.nas_disk_write") == "0"
    assert state(core, "sensor.nas_network_eth0_rx") == "2500"
    # A filesystem that is no longer mounted takes its entities with it.
    assert core.states.get("sensor.nas_disk_root_percent") is None
    assert core.entities.get("sensor.nas_disk_root_percent") is None
