"""Runs smartctl: `scan` lists the disks it can open, `read_disk` reads one; each run bounded by a timeout and
killed past it. Nothing here blocks the event loop (smartctl runs as a child process)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from hub.core import HubError

from .config import DiskSpec
from .parser import DiskReading, parse_smartctl

__all__ = ["SmartctlMissing", "SmartctlRun", "read_disk", "scan"]

_MAX_OUTPUT = 4 * 1024 * 1024


class SmartctlMissing(HubError):
    """The smartctl program is not installed (or not where the config says)."""


@dataclass(frozen=True, slots=True)
class SmartctlRun:
    """What one run gave, and how long smartctl itself took (its time is not the hub's)."""

    output: dict[str, Any] | None
    seconds: float
    problem: str | None = None


async def _run(smartctl: str, args: list[str], allowed: float) -> SmartctlRun:
    started = time.perf_counter()
    try:
        process = await asyncio.create_subprocess_exec(
            smartctl, "--json=c", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
    except FileNotFoundError as err:
        raise SmartctlMissing(f"{smartctl} not found: install smartmontools 7 or newer") from err
    try:
        async with asyncio.timeout(allowed):
            stdout, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return SmartctlRun(None, time.perf_counter() - started, f"smartctl did not finish within {allowed:g}s")
    seconds = time.perf_counter() - started
    if len(stdout) > _MAX_OUTPUT:
        return SmartctlRun(None, seconds, "smartctl answered more than 4 MB")
    try:
        output = json.loads(stdout)
    except ValueError:
        return SmartctlRun(None, seconds, "smartctl answered no JSON (smartmontools 7 or newer is needed)")
    if not isinstance(output, dict):
        return SmartctlRun(None, seconds, "smartctl answered no JSON object")
    return SmartctlRun(output, seconds)


async def scan(smartctl: str, allowed: float) -> list[DiskSpec]:
    """`smartctl --scan-open`: every device it could open, with the type it chose."""
    run = await _run(smartctl, ["--scan-open"], allowed)
    devices = (run.output or {}).get("devices", [])
    found: list[DiskSpec] = []
    for device in devices if isinstance(devices, list) else []:
        if isinstance(device, dict) and isinstance(device.get("name"), str) and device["name"].startswith("/dev/"):
            kind = device.get("type")
            found.append(DiskSpec(name=device["name"], type=kind if isinstance(kind, str) and kind else None))
    return found


async def read_disk(smartctl: str, disk: DiskSpec, *, wake: bool, allowed: float) -> tuple[DiskReading, float]:
    """One disk's reading (a sleeping one is left asleep unless `wake`), and smartctl's own run time; each run
    is given `allowed` seconds."""
    args = ["-a", "-n", "never" if wake else "standby"]
    if disk.type is not None:
        args += ["-d", disk.type]
    run = await _run(smartctl, [*args, disk.name], allowed)
    if run.output is None:
        return DiskReading(device=disk.name, state="unsupported", reason=run.problem), run.seconds
    return parse_smartctl(disk.name, run.output), run.seconds
