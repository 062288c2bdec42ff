"""system_info in the real hub core: plausible states, rates from the second poll on, unavailable and recovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import pytest

from hub.config import IntegrationEntry
from hub.core import Core, DeviceInfo
from hub.health import HealthRegistry, HealthStatus
from hub.host import IntegrationHost
from integrations.system_info import SystemInfo
from integrations.system_info.config import InterfaceFilter, SystemInfoConfig

NODE = "t"


@asynccontextmanager
async def hosted(config: SystemInfoConfig, core: Core) -> AsyncIterator[IntegrationHost]:
    """The integration under its real host, set up; an hour's interval, so only `poll()` below makes polls."""
    async with hosted_unready(config, core) as host:
        await asyncio.wait_for(host.wait_ready(), 5)
        yield host


@asynccontextmanager
async def hosted_unready(config: SystemInfoConfig, core: Core) -> AsyncIterator[IntegrationHost]:
    entry = IntegrationEntry(
        platform="system_info",
        id="system_info",
        name="system_info",
        interval=timedelta(hours=1),
        timeout=timedelta(seconds=10),
        enabled=True,
        options=config,
    )
    health = HealthRegistry().create("system_info", "integration")
    host = IntegrationHost(
        core, entry, SystemInfo, health, offset=0.0, host_device=DeviceInfo(identifier=NODE, name=NODE)
    )
    async with host.lifespan():
        yield host


async def poll(host: IntegrationHost) -> None:
    assert host.poller is not None
    before = host.health.success_count + host.health.error_count
    host.poller.request()
    deadline = time.monotonic() + 5
    while host.health.success_count + host.health.error_count == before:
        assert time.monotonic() < deadline, "no poll in 5 s"
        await asyncio.sleep(0.01)


def state(core: Core, key: str) -> str:
    current = core.states.get(f"sensor.{NODE}_{key}")
    assert current is not None, key
    return current.state


def number(core: Core, key: str) -> float:
    return float(state(core, key))


async def test_plausible_states_and_rates_from_the_second_poll() -> None:
    config = SystemInfoConfig(interfaces=InterfaceFilter(include=("lo",)))
    core = Core(NODE)
    async with hosted(config, core) as host:
        await asyncio.sleep(0.1)  # a CPU window longer than a jiffy after the lifespan's baseline
        await poll(host)
        assert host.health.status is HealthStatus.ok, host.health.last_error
        assert 0.0 <= number(core, "cpu_percent") <= 100.0
        cpu = core.states.get(f"sensor.{NODE}_cpu_percent")
        assert cpu is not None
        assert len(cpu.attributes["per_core"]) == psutil.cpu_count()
        assert cpu.attributes["unit_of_measurement"] == "%"
        for minutes in (1, 5, 15):
            assert number(core, f"load_{minutes}m") >= 0.0
        total_mib = psutil.virtual_memory().total / 1024**2
        assert 0 < number(core, "memory_used") < total_mib
        assert 0 < number(core, "memory_available") <= total_mib
        assert 0.0 < number(core, "memory_percent") < 100.0
        assert 0.0 <= number(core, "swap_percent") <= 100.0
        assert number(core, "uptime") > 0
        assert datetime.fromisoformat(state(core, "boot_time")) < datetime.now().astimezone()
        assert number(core, "process_count") > 1
        # Counters have no rate yet: unknown, never a false zero.
        assert state(core, "network_lo_rx") == "unknown"
        assert state(core, "network_lo_tx") == "unknown"
        assert state(core, "disk_read") == "unknown"

        await _loopback_traffic(64 * 1024)
        await poll(host)
        assert number(core, "network_lo_rx") > 0
        assert number(core, "network_lo_tx") > 0
        assert number(core, "disk_read") >= 0
        assert number(core, "disk_write") >= 0
        entry = core.entities.get(f"sensor.{NODE}_network_lo_rx")
        assert entry is not None
        assert (entry.unit, entry.device_class, entry.device.identifier) == ("B/s", "data_rate", NODE)


async def test_root_filesystem_entities() -> None:
    root = next(p for p in psutil.disk_partitions(all=True) if p.mountpoint == "/")
    core = Core(NODE)
    async with hosted(SystemInfoConfig(), core) as host:
        await poll(host)
        if root.fstype == "overlay":
            return  # in a container / is a pseudo filesystem and is left out
        assert 0.0 < number(core, "disk_root_percent") < 100.0
        used, free = number(core, "disk_root_used"), number(core, "disk_root_free")
        total = psutil.disk_usage("/").total / 1024**3
        assert 0 < used < total
        assert 0 < free < total


async def test_unavailable_while_proc_is_gone_and_back_on_recovery(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    proc.symlink_to("/proc")
    config = SystemInfoConfig(procfs_path=proc, interfaces=InterfaceFilter(include=("lo",)))
    core = Core(NODE)
    async with hosted(config, core) as host:
        await poll(host)
        await poll(host)
        assert float(state(core, "network_lo_rx")) >= 0

        proc.unlink()
        proc.symlink_to(tmp_path / "empty")
        await poll(host)
        assert host.health.consecutive_errors == 1
        assert str(proc) in (host.health.last_error or "")
        for key in ("cpu_percent", "memory_used", "uptime", "network_lo_rx"):
            assert state(core, key) == "unavailable", key

        proc.unlink()
        proc.symlink_to("/proc")
        await poll(host)
        assert host.health.status is HealthStatus.ok
        assert 0.0 <= number(core, "memory_percent") <= 100.0
        # Counters start over after a failure: no rate spans the gap, so they wait one more poll.
        assert state(core, "network_lo_rx") == "unavailable"
        await poll(host)
        assert number(core, "network_lo_rx") >= 0
    assert psutil.PROCFS_PATH == "/proc"


async def _loopback_traffic(size: int) -> None:
    received = asyncio.Event()

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(size)
        received.set()
        writer.close()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"x" * size)
        await writer.drain()
        await asyncio.wait_for(received.wait(), 5)
        writer.close()


@pytest.mark.usefixtures("instant_backoff")
async def test_not_ready_while_proc_is_unreadable_at_start(tmp_path: Path) -> None:
    core = Core(NODE)
    entry_proc = tmp_path / "proc"
    entry_proc.symlink_to(tmp_path / "empty")
    async with hosted_unready(SystemInfoConfig(procfs_path=entry_proc), core) as host:
        deadline = time.monotonic() + 5
        while host.health.consecutive_errors == 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        assert (host.health.last_error or "").startswith("not ready: Cannot read the host's figures")
        entry_proc.unlink()
        entry_proc.symlink_to("/proc")
        await asyncio.wait_for(host.wait_ready(), 5)
        await poll(host)
        assert 0.0 <= number(core, "memory_percent") <= 100.0
