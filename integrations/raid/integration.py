"""`Raid`: reads /proc/mdstat (off the event loop) and, where ZFS is there, the pools through `zpool`, each poll.

A kernel without md, or a machine without ZFS, is said once in the log and gives no entities of that kind.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from typing import ClassVar

from hub.core import clock
from hub.integration import Integration, IntegrationContext, UpdateFailed

from .config import RaidConfig
from .entities import ENTITIES, RaidSnapshot
from .mdstat import MdArray, parse_mdstat
from .zfs import Pool, ZfsError, read_pools

__all__ = ["Raid"]

_MAX_MDSTAT = 1024 * 1024


def _read_mdstat(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read(_MAX_MDSTAT)
    except FileNotFoundError:
        return None


class Raid(Integration[RaidConfig, RaidSnapshot]):
    domain = "raid"
    config_model = RaidConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=60)
    entities = ENTITIES

    def __init__(self, ctx: IntegrationContext, config: RaidConfig) -> None:
        super().__init__(ctx, config)
        self._said: set[str] = set()
        self._has_zpool: bool | None = None

    async def poll(self) -> RaidSnapshot:
        arrays = await self._arrays()
        pools = await self._pools()
        return RaidSnapshot(self.ctx.node, arrays, pools, clock.utcnow())

    async def _arrays(self) -> dict[str, MdArray]:
        try:
            text = await asyncio.to_thread(_read_mdstat, str(self.config.mdstat))
        except OSError as err:
            raise UpdateFailed(f"cannot read {self.config.mdstat}: {err.strerror or err}") from err
        if text is None:
            self._say_once(f"{self.config.mdstat} does not exist: this kernel has no software RAID (md)")
            return {}
        return parse_mdstat(text)

    async def _pools(self) -> dict[str, Pool]:
        zfs = self.config.zfs
        if zfs is None:
            if self._has_zpool is None:
                self._has_zpool = await asyncio.to_thread(shutil.which, self.config.zpool) is not None
            zfs = self._has_zpool
            if not zfs:
                self._say_once(f"{self.config.zpool} not found: ZFS pools are not read")
        if not zfs:
            return {}
        try:
            return await read_pools(self.config.zpool, self.config.timeout.total_seconds())
        except ZfsError as err:
            raise UpdateFailed(str(err)) from err

    def _say_once(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self.ctx.logger.info("%s", message)
