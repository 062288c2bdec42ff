"""`Smart`: reads every disk (or the ones named) with smartctl each poll, one child process at a time.

A disk's first reading may wake it (it needs its serial to be told apart); after that a sleeping disk is left
asleep and keeps its last reading, its status `standby`. An unsupported device is said once in the log, not every
poll; so is a scan that finds no disk.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import ClassVar

from hub.integration import Integration, IntegrationContext, UpdateFailed

from .config import DiskSpec, SmartConfig
from .entities import ENTITIES, SmartSnapshot
from .parser import DiskReading
from .runner import SmartctlMissing, read_disk, scan

__all__ = ["Smart"]


def _key(reading: DiskReading) -> str:
    """A disk's instance key: its serial (stable across reboots and ports), else its device name."""
    text = reading.serial or reading.device.removeprefix("/dev/")
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "disk"


class Smart(Integration[SmartConfig, SmartSnapshot]):
    domain = "smart"
    config_model = SmartConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=10)
    entities = ENTITIES

    def __init__(self, ctx: IntegrationContext, config: SmartConfig) -> None:
        super().__init__(ctx, config)
        self._last: dict[str, DiskReading] = {}
        self._said: dict[str, str | None] = {}
        self.smartctl_seconds = 0.0
        """smartctl's own wall time in the last poll, summed over the disks."""

    async def poll(self) -> SmartSnapshot:
        config = self.config
        timeout = config.timeout.total_seconds()
        try:
            disks = list(config.devices) or await scan(config.smartctl, timeout)
            if not disks:
                self._say_once("", "smartctl finds no disk it can read here (a VM's virtual disks have no SMART)")
            readings: dict[str, DiskReading] = {}
            self.smartctl_seconds = 0.0
            for disk in disks:
                reading = await self._read(disk)
                readings[_key(reading)] = reading
        except SmartctlMissing as err:
            raise UpdateFailed(str(err)) from err
        return SmartSnapshot(self.ctx.node, readings)

    async def _read(self, disk: DiskSpec) -> DiskReading:
        previous = self._last.get(disk.name)
        wake = self.config.wake or previous is None  # the first reading tells the disk apart by its serial
        timeout = self.config.timeout.total_seconds()
        reading, seconds = await read_disk(self.config.smartctl, disk, wake=wake, allowed=timeout)
        self.smartctl_seconds += seconds
        if reading.state == "standby" and previous is not None and previous.state != "unsupported":
            reading = replace(previous, state="standby", reason=reading.reason)
        if reading.state == "unsupported":
            self._say_once(disk.name, f"{disk.name}: no SMART reading ({reading.reason})")
        else:
            self._said.pop(disk.name, None)
        self._last[disk.name] = reading
        return reading

    def _say_once(self, about: str, message: str) -> None:
        if self._said.get(about) != message:
            self._said[about] = message
            self.ctx.logger.warning("%s", message)
