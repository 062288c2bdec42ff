"""system_info's reader on the real host: invariants of every figure, filters, a broken /proc, a hung mount."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import psutil
import pytest

from hub.integration import UpdateFailed
from integrations.system_info.config import PSEUDO_FILESYSTEMS, DiskFilter, InterfaceFilter, SystemInfoConfig
from integrations.system_info.reader import SystemReader, UsageProbes, procfs_at, temperatures_from
from integrations.system_info.snapshot import SystemSnapshot


def read(config: SystemInfoConfig | None = None) -> SystemSnapshot:
    reader = SystemReader(config or SystemInfoConfig())
    reader.prime()
    time.sleep(0.1)
    return reader.read()


def test_host_figures_hold_together() -> None:
    snap = read()
    assert snap.cpu_percent is not None
    assert 0.0 <= snap.cpu_percent <= 100.0
    assert len(snap.cpu_per_core) == psutil.cpu_count()
    assert all(0.0 <= core <= 100.0 for core in snap.cpu_per_core)
    assert all(load >= 0.0 for load in snap.load)
    assert snap.memory_used + snap.memory_available == snap.memory_total > 0
    assert 0.0 <= snap.memory_percent <= 100.0
    assert 0 <= snap.swap_used <= snap.swap_total or snap.swap_total == 0
    assert snap.boot_time < snap.taken_at
    assert snap.process_count > 1
    assert snap.disk_read_bytes is None or snap.disk_read_bytes >= 0


def test_cpu_has_no_figure_without_a_baseline() -> None:
    reader = SystemReader(SystemInfoConfig())
    first = reader.read()
    assert first.cpu_percent is None
    assert first.cpu_per_core == ()
    # Straight after, too short a window to tell: still none, rather than a false 0.0.
    assert reader.read().cpu_percent is None
    time.sleep(0.1)
    assert reader.read().cpu_percent is not None


def test_counters_never_go_back() -> None:
    reader = SystemReader(SystemInfoConfig(interfaces=InterfaceFilter(loopback=True)))
    first = reader.read()
    second = reader.read()
    for name, counters in first.interfaces.items():
        if name in second.interfaces:
            assert second.interfaces[name].bytes_recv >= counters.bytes_recv
            assert second.interfaces[name].bytes_sent >= counters.bytes_sent
    if first.disk_write_bytes is not None and second.disk_write_bytes is not None:
        assert second.disk_write_bytes >= first.disk_write_bytes


def test_real_filesystems_only_by_default() -> None:
    snap = read()
    assert snap.filesystems, "the root filesystem at least"
    for fs in snap.filesystems.values():
        assert fs.fstype not in PSEUDO_FILESYSTEMS
        assert fs.problem is None, fs
        assert fs.total is not None
        assert fs.used is not None
        assert fs.free is not None
        assert fs.percent is not None
        assert fs.total > 0
        assert 0.0 <= fs.percent <= 100.0
    devices = [fs.device for fs in snap.filesystems.values()]
    assert len(devices) == len(set(devices)), "a bind mount shows its filesystem once"


def test_root_is_labelled_root_where_it_is_a_real_filesystem() -> None:
    root = next(p for p in psutil.disk_partitions(all=True) if p.mountpoint == "/")
    snap = read()
    if root.fstype in PSEUDO_FILESYSTEMS:
        pytest.skip(f"/ is {root.fstype} here")
    assert snap.filesystems["root"].mountpoint == "/"


def test_disk_include_exclude_and_pseudo() -> None:
    mounts = {p.mountpoint: p.fstype for p in psutil.disk_partitions(all=True)}
    pseudo = sorted(m for m, fstype in mounts.items() if fstype == "tmpfs")
    if not pseudo:
        pytest.skip("no tmpfs mounted here")
    with_pseudo = read(SystemInfoConfig(disks=DiskFilter(pseudo=True)))
    assert {fs.mountpoint for fs in with_pseudo.filesystems.values()} >= set(pseudo)
    only = read(SystemInfoConfig(disks=DiskFilter(include=(pseudo[0],))))
    assert [fs.mountpoint for fs in only.filesystems.values()] == [pseudo[0]]
    without_root = read(SystemInfoConfig(disks=DiskFilter(exclude=("/",))))
    assert all(fs.mountpoint != "/" for fs in without_root.filesystems.values())


def test_loopback_off_by_default_and_on_by_option() -> None:
    assert "lo" not in read().interfaces
    assert "lo" in read(SystemInfoConfig(interfaces=InterfaceFilter(loopback=True))).interfaces
    only_lo = read(SystemInfoConfig(interfaces=InterfaceFilter(include=("l*",))))
    assert list(only_lo.interfaces) == ["lo"]


def test_temperatures_off_reads_none() -> None:
    assert read(SystemInfoConfig(temperatures=False)).temperatures == {}


def test_a_missing_proc_is_an_update_failure(tmp_path: Path) -> None:
    reader = SystemReader(SystemInfoConfig(procfs_path=tmp_path))
    with procfs_at(tmp_path), pytest.raises(UpdateFailed, match=str(tmp_path)):
        reader.read()
    assert psutil.PROCFS_PATH == "/proc"


def test_a_hung_mount_never_delays_the_others_and_keeps_one_call_in_flight() -> None:
    release = threading.Event()
    calls: list[str] = []

    def usage(mount: str) -> Any:
        calls.append(mount)
        if mount == "/mnt/dead":
            release.wait(10)
        return psutil.disk_usage("/")

    probes = UsageProbes(0.2, usage)
    started = time.monotonic()
    first = probes.read(["/", "/mnt/dead"])
    assert time.monotonic() - started < 1.0
    assert first["/"].total > 0
    assert first["/mnt/dead"] == "no answer within 0.2s"

    started = time.monotonic()
    second = probes.read(["/", "/mnt/dead"])
    assert time.monotonic() - started < 0.15, "the stuck mount is not waited for again"
    assert "still waiting" in second["/mnt/dead"]
    assert calls.count("/mnt/dead") == 1

    release.set()
    time.sleep(0.05)
    third = probes.read(["/", "/mnt/dead"])
    assert third["/mnt/dead"].total > 0
    assert calls.count("/mnt/dead") == 2


def test_a_failing_mount_says_why() -> None:
    result = UsageProbes(1.0).read(["/no/such/mount"])
    assert result["/no/such/mount"].startswith("FileNotFoundError")


class Reading(NamedTuple):
    """The shape of psutil's `shwtemp`."""

    label: str
    current: float
    high: float | None
    critical: float | None


def test_temperatures_named_by_driver_and_label_even_when_labels_repeat() -> None:
    readings = {
        "coretemp": [Reading("Package id 0", 48.0, 80.0, 100.0), Reading("Core 0", 45.0, 80.0, 100.0)],
        "nvme": [Reading("Composite", 38.9, 84.8, 84.8), Reading("Composite", 41.9, 84.8, 84.8)],
        "acpitz": [Reading("", 27.8, None, None)],
    }
    found = temperatures_from(readings)
    assert list(found) == ["coretemp Package id 0", "coretemp Core 0", "nvme Composite", "nvme 1 Composite", "acpitz 0"]
    assert found["nvme 1 Composite"].current == 41.9
    assert found["acpitz 0"].high is None
