"""`Gpu`: every GPU each poll, read in the integration's thread. Where none is found it says so once (and which
ways it looked) and stays quiet: no errors, no entities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import ClassVar

from hub.integration import Integration, IntegrationContext

from .config import GpuConfig
from .entities import ENTITIES, GpuSnapshot
from .readers import GpuReading, NvidiaReader, NvmlUnavailable, read_sysfs

__all__ = ["Gpu"]


class Gpu(Integration[GpuConfig, GpuSnapshot]):
    domain = "gpu"
    config_model = GpuConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=10)
    entities = ENTITIES

    def __init__(self, ctx: IntegrationContext, config: GpuConfig) -> None:
        super().__init__(ctx, config)
        self._nvidia: NvidiaReader | None = None
        self._nvidia_problem: str | None = "not asked (nvidia: false)"
        self._said_none = False

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        if self.config.nvidia:
            try:
                self._nvidia = await self.ctx.run_pinned(NvidiaReader)
            except NvmlUnavailable as err:
                self._nvidia_problem = str(err)
        try:
            yield
        finally:
            if self._nvidia is not None:
                await self.ctx.run_pinned(self._nvidia.close)

    async def poll(self) -> GpuSnapshot:
        gpus = await self.ctx.run_pinned(self._read)
        if not gpus and not self._said_none:
            self._said_none = True
            self.ctx.logger.info(
                "no GPU found (no AMD or Intel card under %s/class/drm; NVIDIA: %s)",
                self.config.sysfs,
                self._nvidia_problem or "no card",
            )
        return GpuSnapshot(self.ctx.node, {gpu.key: gpu for gpu in gpus})

    def _read(self) -> list[GpuReading]:
        found = read_sysfs(self.config.sysfs)
        if self._nvidia is not None:
            found += self._nvidia.read()
        return found
