"""The system_info entities as data: pure functions from a `SystemSnapshot` to each value, unit and class."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hub.core import EntityDescription, StateValue

from .snapshot import Filesystem, SystemSnapshot

__all__ = ["ENTITIES"]

_MIB = 1024**2
_GIB = 1024**3
_CPU_ICON = "mdi:cpu-64-bit"
_MEMORY_ICON = "mdi:memory"
_DISK_ICON = "mdi:harddisk"

Entity = EntityDescription[SystemSnapshot]


def _percent(key: str, name: str, value: Callable[[SystemSnapshot, str], StateValue], **options: Any) -> Entity:
    return EntityDescription(
        key=key, name=name, value=value, unit="%", state_class="measurement", precision=1, **options
    )


def _size(key: str, name: str, value: Callable[[SystemSnapshot, str], StateValue], unit: str, **options: Any) -> Entity:
    return EntityDescription(
        key=key,
        name=name,
        value=value,
        unit=unit,
        device_class="data_size",
        state_class="measurement",
        precision=2 if unit == "GiB" else 1,
        **options,
    )


def _rate(key: str, name: str, value: Callable[[SystemSnapshot, str], StateValue], **options: Any) -> Entity:
    """A cumulative byte counter the hub publishes as bytes per second, from the second snapshot on."""
    return EntityDescription(
        key=key,
        name=name,
        value=value,
        unit="B/s",
        device_class="data_rate",
        state_class="measurement",
        precision=0,
        counter=True,
        **options,
    )


def _mib(count: int) -> float:
    return count / _MIB


def _gib(count: int | None) -> float | None:
    return count / _GIB if count is not None else None


# CPU, load, memory, swap


def _cpu_attributes(snapshot: SystemSnapshot, _: str) -> Mapping[str, Any]:
    return {"per_core": [round(core, 1) for core in snapshot.cpu_per_core]} if snapshot.cpu_per_core else {}


def _load(minutes: int, index: int) -> Entity:
    return EntityDescription(
        key=f"load_{minutes}m",
        name=f"Load ({minutes} min)",
        value=lambda s, _: s.load[index],
        state_class="measurement",
        precision=2,
        icon=_CPU_ICON,
    )


_HOST: tuple[Entity, ...] = (
    _percent("cpu_percent", "CPU", lambda s, _: s.cpu_percent, attributes=_cpu_attributes, icon=_CPU_ICON),
    _load(1, 0),
    _load(5, 1),
    _load(15, 2),
    _size("memory_used", "Memory used", lambda s, _: _mib(s.memory_used), "MiB", icon=_MEMORY_ICON),
    _size("memory_available", "Memory available", lambda s, _: _mib(s.memory_available), "MiB", icon=_MEMORY_ICON),
    _percent("memory_percent", "Memory use", lambda s, _: s.memory_percent, icon=_MEMORY_ICON),
    _size("swap_used", "Swap used", lambda s, _: _mib(s.swap_used), "MiB", icon=_MEMORY_ICON),
    _percent("swap_percent", "Swap use", lambda s, _: s.swap_percent, icon=_MEMORY_ICON),
)

# Filesystems: one set of entities per mount point


def _filesystems(snapshot: SystemSnapshot) -> Iterable[str]:
    return snapshot.filesystems.keys()


def _fs(read: Callable[[Filesystem], StateValue]) -> Callable[[SystemSnapshot, str], StateValue]:
    return lambda snapshot, label: read(snapshot.filesystems[label])


def _fs_attributes(snapshot: SystemSnapshot, label: str) -> Mapping[str, Any]:
    fs = snapshot.filesystems[label]
    attributes: dict[str, Any] = {"mountpoint": fs.mountpoint, "device": fs.device, "fstype": fs.fstype}
    if fs.total is not None:
        attributes["total_gib"] = round(fs.total / _GIB, 2)
    if fs.problem is not None:
        attributes["problem"] = fs.problem
    return attributes


_PER_FS = {"instances": _filesystems, "attributes": _fs_attributes, "icon": _DISK_ICON}

_FILESYSTEMS: tuple[Entity, ...] = (
    _percent("disk_{instance}_percent", "Disk {instance} use", _fs(lambda fs: fs.percent), **_PER_FS),
    _size("disk_{instance}_used", "Disk {instance} used", _fs(lambda fs: _gib(fs.used)), "GiB", **_PER_FS),
    _size("disk_{instance}_free", "Disk {instance} free", _fs(lambda fs: _gib(fs.free)), "GiB", **_PER_FS),
)

# Throughput: counters the hub turns into rates


def _interfaces(snapshot: SystemSnapshot) -> Iterable[str]:
    return snapshot.interfaces.keys()


_THROUGHPUT: tuple[Entity, ...] = (
    _rate("disk_read", "Disk read", lambda s, _: s.disk_read_bytes, icon=_DISK_ICON),
    _rate("disk_write", "Disk write", lambda s, _: s.disk_write_bytes, icon=_DISK_ICON),
    _rate(
        "network_{instance}_rx",
        "Network {instance} received",
        lambda s, name: s.interfaces[name].bytes_recv,
        instances=_interfaces,
        icon="mdi:download-network",
    ),
    _rate(
        "network_{instance}_tx",
        "Network {instance} sent",
        lambda s, name: s.interfaces[name].bytes_sent,
        instances=_interfaces,
        icon="mdi:upload-network",
    ),
)

# Temperatures, uptime, processes


def _temperatures(snapshot: SystemSnapshot) -> Iterable[str]:
    return snapshot.temperatures.keys()


def _temperature_attributes(snapshot: SystemSnapshot, name: str) -> Mapping[str, Any]:
    sensor = snapshot.temperatures[name]
    limits = {"high": sensor.high, "critical": sensor.critical}
    return {key: value for key, value in limits.items() if value is not None}


_OTHERS: tuple[Entity, ...] = (
    EntityDescription(
        key="temperature_{instance}",
        name="Temperature {instance}",
        value=lambda s, name: s.temperatures[name].current,
        instances=_temperatures,
        attributes=_temperature_attributes,
        unit="°C",
        device_class="temperature",
        state_class="measurement",
        precision=1,
    ),
    EntityDescription(
        key="uptime",
        name="Uptime",
        value=lambda s, _: (s.taken_at - s.boot_time).total_seconds(),
        unit="s",
        device_class="duration",
        precision=0,
        icon="mdi:timer-outline",
    ),
    EntityDescription(
        key="boot_time",
        name="Boot time",
        value=lambda s, _: s.boot_time,
        device_class="timestamp",
        icon="mdi:restart",
    ),
    EntityDescription(
        key="process_count",
        name="Processes",
        value=lambda s, _: s.process_count,
        state_class="measurement",
        icon=_CPU_ICON,
    ),
)

ENTITIES: tuple[Entity, ...] = (*_HOST, *_FILESYSTEMS, *_THROUGHPUT, *_OTHERS)
