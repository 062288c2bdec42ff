"""`SystemInfo`: the host's CPU, memory, filesystems, throughput, temperatures and uptime as entities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import ClassVar

from hub.integration import Integration, UpdateFailed

from .config import SystemInfoConfig
from .entities import ENTITIES
from .reader import SystemReader, procfs_at
from .snapshot import SystemSnapshot

__all__ = ["SystemInfo"]


class SystemInfo(Integration[SystemInfoConfig, SystemSnapshot]):
    domain = "system_info"
    config_model = SystemInfoConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=10)
    entities = ENTITIES

    _reader: SystemReader | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        with procfs_at(self.config.procfs_path):
            reader = SystemReader(self.config)
            # Every read runs on the one pinned thread: cpu_percent keeps its baseline per thread (psutil #1703).
            await self.ctx.run_pinned(reader.prime)
            self._reader = reader
            try:
                yield
            finally:
                self._reader = None

    async def poll(self) -> SystemSnapshot:
        if self._reader is None:
            raise UpdateFailed("system_info is not set up")
        return await self.ctx.run_pinned(self._reader.read)
