"""`SystemSnapshot`: one frozen reading of the host, as plain numbers the entity value functions read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Filesystem", "Interface", "SystemSnapshot", "Temperature", "mount_label"]


def mount_label(mountpoint: str) -> str:
    """The instance name of a mount point in entity ids and names: `root` for `/`, else the path itself."""
    return "root" if mountpoint == "/" else mountpoint


@dataclass(frozen=True, kw_only=True, slots=True)
class Filesystem:
    """A mounted filesystem; `total`/`used`/`free` are None when its usage did not come in time."""

    mountpoint: str
    device: str
    fstype: str
    total: int | None = None
    used: int | None = None
    free: int | None = None
    percent: float | None = None
    problem: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Interface:
    """A network interface's cumulative byte counters since boot."""

    bytes_recv: int
    bytes_sent: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Temperature:
    """One hardware sensor in degrees Celsius, with the thresholds its driver declares."""

    current: float
    high: float | None = None
    critical: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemSnapshot:
    """The host at one moment. Byte figures are bytes; counters are cumulative and the hub derives rates."""

    taken_at: datetime
    boot_time: datetime
    cpu_percent: float | None
    """None when no baseline exists yet (the first reading would be a meaningless 0.0)."""
    cpu_per_core: tuple[float, ...] = ()
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    memory_total: int = 0
    memory_used: int = 0
    memory_available: int = 0
    memory_percent: float = 0.0
    swap_total: int = 0
    swap_used: int = 0
    swap_percent: float = 0.0
    filesystems: Mapping[str, Filesystem] = field(default_factory=dict)
    """By `mount_label`."""
    disk_read_bytes: int | None = None
    disk_write_bytes: int | None = None
    """None where the host exposes no disk counters (some containers and VMs)."""
    interfaces: Mapping[str, Interface] = field(default_factory=dict)
    temperatures: Mapping[str, Temperature] = field(default_factory=dict)
    process_count: int = 0
