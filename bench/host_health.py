"""Host health integrations, one poll each: the hub's CPU (this process, every thread) and wall time of a poll of
ups, smart, raid, systemd and gpu, against the servers their tests use; the CPU and wall time of the programs a
poll runs (smartctl, zpool) reported apart.

Run from the repository root, as root (upsd, zfs-fuse): .venv/bin/python -m bench.host_health [--polls 20]

- ups: Debian's upsd with two dummy-ups UPSes (tests/fixtures/nut.py).
- smart: two disks answered from the recorded smartctl output of tests/integrations/smart/data by a `cat` stand-in
  for smartctl (no disk can be read here), so the hub's part (a child process, the JSON parsed) is real and the
  child's cost is a `cat`'s; the real smartctl on /dev/null is measured beside it.
- raid: the recorded /proc/mdstat (17 arrays) and a real zfs-fuse pool (`zpool list` and `zpool status` each poll).
- systemd: a real dbus-daemon and the test service, in a process of its own, with 20 watched services.
- gpu: the amdgpu sysfs tree of the tests.

Each figure is the median of `--polls` polls after one warm-up poll. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from bench.support.integration_context import BenchContext
from hub.integration import Integration
from integrations.gpu import Gpu
from integrations.gpu.config import GpuConfig
from integrations.raid import Raid
from integrations.raid.config import RaidConfig
from integrations.smart import Smart
from integrations.smart.config import SmartConfig
from integrations.systemd import Systemd
from integrations.systemd.config import SystemdConfig
from integrations.ups import Ups
from integrations.ups.config import UpsConfig
from tests.fixtures.dbus import dbus_daemon
from tests.fixtures.gpu_sysfs import amd_card_tree
from tests.fixtures.nut import running_upsd
from tests.fixtures.zfs import zfs_pool

TARGET_HUB_CPU_MS = 50.0
ROOT = Path(__file__).resolve().parents[1]
SMART_DATA = ROOT / "tests" / "integrations" / "smart" / "data"
MDSTAT = ROOT / "tests" / "integrations" / "raid" / "data" / "mdstat"


def _usage() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


async def _measure(integration: Integration[Any, Any], polls: int) -> dict[str, float]:
    async with integration.lifespan():
        await integration.poll()  # warm: connections opened, first reads done
        hub_cpu: list[float] = []
        child_cpu: list[float] = []
        wall: list[float] = []
        for _ in range(polls):
            own_before, children_before = _usage()
            started = time.perf_counter()
            await integration.poll()
            wall.append(time.perf_counter() - started)
            own_after, children_after = _usage()
            hub_cpu.append(own_after - own_before)
            child_cpu.append(children_after - children_before)
    figures = {
        "hub_cpu_ms": round(statistics.median(hub_cpu) * 1000, 2),
        "wall_ms": round(statistics.median(wall) * 1000, 2),
    }
    if any(child_cpu):
        figures["programs_cpu_ms"] = round(statistics.median(child_cpu) * 1000, 2)
    return figures


def _recorded_smartctl(directory: Path) -> Path:
    script = directory / "smartctl"
    sata, nvme = SMART_DATA / "sata-wdc-wuh721816ale6l4.json", SMART_DATA / "nvme-wd-black-sn770.json"
    scan = json.dumps({"devices": [{"name": "/dev/sda", "type": "sat"}, {"name": "/dev/nvme0", "type": "nvme"}]})
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *--scan-open*) echo '{scan}' ;;\n"
        f'  */dev/sda) cat "{sata}" ;;\n'
        f'  *) cat "{nvme}" ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    return script


@contextmanager
def _systemd_service(directory: Path) -> Iterator[str]:
    with dbus_daemon(directory) as address:
        service = subprocess.Popen(
            [sys.executable, "-m", "tests.fixtures.systemd1", address, "20"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert service.stdout is not None
            if service.stdout.readline().strip() != "ready":
                raise RuntimeError("the test systemd service did not start")
            yield address
        finally:
            service.kill()
            service.wait()


@asynccontextmanager
async def _each(directory: Path) -> AsyncIterator[dict[str, Integration[Any, Any]]]:
    with ExitStack() as servers:
        upsd = servers.enter_context(running_upsd(directory / "ups"))
        zpool = servers.enter_context(zfs_pool(directory / "zfs"))
        address = servers.enter_context(_systemd_service(directory / "dbus"))
        mdstat = directory / "mdstat"
        shutil.copy(MDSTAT, mdstat)
        sysfs = amd_card_tree(directory / "sys")
        smartctl = shutil.which("smartctl", path="/usr/sbin:/sbin:/usr/bin") or "smartctl"
        async with AsyncExitStack():
            yield {
                "ups": Ups(BenchContext("bench-ups"), UpsConfig(port=upsd.port)),
                "smart": Smart(BenchContext("bench-smart"), SmartConfig(smartctl=str(_recorded_smartctl(directory)))),
                "smart_real_smartctl_dev_null": Smart(
                    BenchContext("bench-smartctl"), SmartConfig(smartctl=smartctl, devices=[{"name": "/dev/null"}])
                ),
                "raid": Raid(BenchContext("bench-raid"), RaidConfig(mdstat=mdstat, zpool=str(zpool))),
                "systemd": Systemd(
                    BenchContext("bench-systemd"),
                    SystemdConfig(units=("unit*.service",), bus="session", bus_address=address),
                ),
                "gpu": Gpu(BenchContext("bench-gpu"), GpuConfig(sysfs=sysfs, nvidia=False)),
            }


async def _run(polls: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for name in ("ups", "zfs", "dbus"):
            (directory / name).mkdir()
        async with _each(directory) as integrations:
            for name, integration in integrations.items():
                results[name] = await _measure(integration, polls)
                if isinstance(integration, Smart):
                    results[name]["smartctl_wall_ms"] = round(integration.smartctl_seconds * 1000, 2)
    worst = max(figures["hub_cpu_ms"] for figures in results.values())
    return {**results, "worst_hub_cpu_ms": worst, "target_hub_cpu_ms": TARGET_HUB_CPU_MS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=20)
    args = parser.parse_args()
    figures = asyncio.run(_run(args.polls))
    for name, value in figures.items():
        print(f"{name}: {value}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
