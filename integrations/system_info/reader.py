"""`SystemReader`: every psutil call of the integration, blocking, returning one frozen `SystemSnapshot`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from hub.core import clock
from hub.integration import NotReady, UpdateFailed

from .config import PSEUDO_FILESYSTEMS, SystemInfoConfig
from .snapshot import Filesystem, Interface, SystemSnapshot, Temperature, mount_label

__all__ = ["SystemReader", "UsageProbes", "procfs_at", "temperatures_from"]

_LOGGER = logging.getLogger(__name__)

MIN_CPU_WINDOW = 0.05
"""Seconds; over a shorter window psutil sees no jiffy pass and answers a false 0.0 %."""

_READ_ERRORS = (OSError, RuntimeError, psutil.Error)


@contextmanager
def procfs_at(path: Path) -> Iterator[None]:
    """Point psutil at another /proc (a container mounting the host's) for the block, then back.

    `psutil.PROCFS_PATH` is process-wide: the hub runs one system_info per host, so one setting holds.
    """
    previous = psutil.PROCFS_PATH
    psutil.PROCFS_PATH = str(path)
    try:
        yield
    finally:
        psutil.PROCFS_PATH = previous


class SystemReader:
    """Reads the host. Call `read()` always from the same thread: `cpu_percent(interval=None)` keeps its
    baseline per thread, so calls from a rotating pool read 0.0 or garbage (psutil #1703)."""

    def __init__(self, config: SystemInfoConfig) -> None:
        self._config = config
        self._cpu_sampled_at: float | None = None
        self._usage = UsageProbes(config.disks.timeout.total_seconds())

    def prime(self) -> None:
        """Take the CPU baseline, so the first `read()` already has a CPU figure; `NotReady` if /proc is unreadable."""
        try:
            self._sample_cpu()
        except _READ_ERRORS as err:
            raise NotReady(f"Cannot read the host's figures under {self._config.procfs_path}: {err}") from err

    def read(self) -> SystemSnapshot:
        try:
            return self._read()
        except _READ_ERRORS as err:
            raise UpdateFailed(f"Cannot read the host's figures under {self._config.procfs_path}: {err}") from err

    def _read(self) -> SystemSnapshot:
        cpu, per_core = self._cpu()
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        disk_io = psutil.disk_io_counters(perdisk=False)
        return SystemSnapshot(
            taken_at=clock.utcnow(),
            boot_time=datetime.fromtimestamp(psutil.boot_time(), UTC),
            cpu_percent=cpu,
            cpu_per_core=per_core,
            load=psutil.getloadavg(),
            memory_total=memory.total,
            memory_used=memory.total - memory.available,
            memory_available=memory.available,
            memory_percent=memory.percent,
            swap_total=swap.total,
            swap_used=swap.used,
            swap_percent=swap.percent,
            filesystems=self._filesystems(),
            disk_read_bytes=disk_io.read_bytes if disk_io is not None else None,
            disk_write_bytes=disk_io.write_bytes if disk_io is not None else None,
            interfaces=self._interfaces(),
            temperatures=self._temperatures() if self._config.temperatures else {},
            process_count=len(psutil.pids()),
        )

    def _cpu(self) -> tuple[float | None, tuple[float, ...]]:
        previous = self._cpu_sampled_at
        if previous is None:
            self._sample_cpu()
            return None, ()
        if time.monotonic() - previous < MIN_CPU_WINDOW:
            return None, ()  # the baseline stays, so the next reading spans a long enough window
        return self._sample_cpu()

    def _sample_cpu(self) -> tuple[float, tuple[float, ...]]:
        self._cpu_sampled_at = time.monotonic()
        return psutil.cpu_percent(interval=None), tuple(psutil.cpu_percent(interval=None, percpu=True))

    def _filesystems(self) -> dict[str, Filesystem]:
        chosen: dict[str, Any] = {}
        by_device: dict[str, str] = {}
        for part in psutil.disk_partitions(all=True):
            if part.mountpoint in chosen or not self._config.disks.selects(part.mountpoint, part.fstype):
                continue
            if part.fstype not in PSEUDO_FILESYSTEMS:
                # A bind mount shows the same filesystem again (Docker binds /etc/hosts): keep the shortest path.
                seen = by_device.get(part.device)
                if seen is not None and len(seen) <= len(part.mountpoint):
                    continue
                if seen is not None:
                    del chosen[seen]
                by_device[part.device] = part.mountpoint
            chosen[part.mountpoint] = part
        usages = self._usage.read(list(chosen))
        return {mount_label(mount): _filesystem(part, usages[mount]) for mount, part in chosen.items()}

    def _interfaces(self) -> dict[str, Interface]:
        counters = psutil.net_io_counters(pernic=True)
        stats = psutil.net_if_stats()
        interfaces = self._config.interfaces
        return {
            name: Interface(bytes_recv=io.bytes_recv, bytes_sent=io.bytes_sent)
            for name, io in counters.items()
            if interfaces.selects(name, is_loopback=_is_loopback(name, stats.get(name)))
        }

    def _temperatures(self) -> dict[str, Temperature]:
        return temperatures_from(psutil.sensors_temperatures())


def temperatures_from(chips: Mapping[str, Sequence[Any]]) -> dict[str, Temperature]:
    """psutil's `{driver: [shwtemp]}` as one named reading per sensor: `<driver> <label or index>`."""
    found: dict[str, Temperature] = {}
    for chip, sensors in chips.items():
        for index, sensor in enumerate(sensors):
            name = f"{chip} {sensor.label or index}"
            if name in found:  # two devices of one driver (two NVMe drives) repeat their labels
                name = f"{chip} {index} {sensor.label}"
            found[name] = Temperature(current=sensor.current, high=sensor.high, critical=sensor.critical)
    return found


def _is_loopback(name: str, stats: Any) -> bool:
    return name == "lo" or (stats is not None and "loopback" in stats.flags.split(","))


def _filesystem(part: Any, usage: Any | str) -> Filesystem:
    if isinstance(usage, str):
        return Filesystem(mountpoint=part.mountpoint, device=part.device, fstype=part.fstype, problem=usage)
    return Filesystem(
        mountpoint=part.mountpoint,
        device=part.device,
        fstype=part.fstype,
        total=usage.total,
        used=usage.used,
        free=usage.free,
        percent=usage.percent,
    )


class UsageProbes:
    """`disk_usage` of each mount point on its own thread, all waited for together up to one timeout.

    A dead network mount hangs `statvfs` uninterruptibly (DESIGN 9): its thread stays stuck, so the mount
    keeps at most one call in flight and reads as a problem until that call returns; the others never wait
    on it. The threads are daemons so a stuck one cannot hold up the hub's exit.
    """

    def __init__(self, timeout: float, usage: Callable[[str], Any] = psutil.disk_usage) -> None:
        self._timeout = timeout
        self._usage = usage
        self._in_flight: dict[str, Future[Any]] = {}
        """Calls that overran their timeout, by mount point, until they return."""

    def read(self, mountpoints: list[str]) -> dict[str, Any]:
        """Each mount point's `sdiskusage`, or a string saying why there is none."""
        started: dict[str, Future[Any]] = {}
        results: dict[str, Any] = {}
        for mount in mountpoints:
            stuck = self._in_flight.get(mount)
            if stuck is not None and not stuck.done():
                results[mount] = f"no answer for over {self._timeout:g}s (still waiting)"
                continue
            started[mount] = _in_thread(mount, self._usage)
        wait(started.values(), timeout=self._timeout)
        for mount, future in started.items():
            results[mount] = self._outcome(mount, future)
        return results

    def _outcome(self, mount: str, future: Future[Any]) -> Any:
        if not future.done():
            if mount not in self._in_flight:
                _LOGGER.warning("Filesystem %s gave no usage within %gs; it reads unknown", mount, self._timeout)
            self._in_flight[mount] = future
            return f"no answer within {self._timeout:g}s"
        if self._in_flight.pop(mount, None) is not None:
            _LOGGER.info("Filesystem %s answers again", mount)
        error = future.exception()
        if error is not None:
            return f"{type(error).__name__}: {error}"
        return future.result()


def _in_thread(mount: str, call: Callable[[str], Any]) -> Future[Any]:
    future: Future[Any] = Future()

    def target() -> None:
        try:
            future.set_result(call(mount))
        except BaseException as err:
            future.set_exception(err)

    threading.Thread(target=target, name=f"disk_usage {mount}", daemon=True).start()
    return future
