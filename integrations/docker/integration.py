"""`Docker`: every container of a Docker (or podman) daemon as a device, with live events and guarded controls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import ClassVar, ParamSpec, TypeVar

from hub.integration import Integration, NotReady, UpdateFailed

from .config import DockerConfig
from .entities import ENTITIES
from .events import follow_events
from .reader import Action, DockerReader, DockerUnavailable, connect
from .services import SERVICES
from .snapshot import DockerSnapshot

__all__ = ["Docker"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

STOP_GRACE = 10.0
"""Seconds dockerd gives a container between SIGTERM and SIGKILL on stop and restart (its default)."""


class Docker(Integration[DockerConfig, DockerSnapshot]):
    domain = "docker"
    config_model = DockerConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=15)
    entities = ENTITIES
    services = SERVICES

    _reader: DockerReader | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        try:
            client = await self._blocking(0.0, connect, self.config)
        except (DockerUnavailable, TimeoutError) as err:
            raise NotReady(str(err) or f"Docker daemon at {self.config.url} did not answer") from err
        self._reader = DockerReader(client, self.config, self.ctx.node)
        try:
            yield
        finally:
            reader, self._reader = self._reader, None
            await self._blocking(0.0, reader.close)

    async def poll(self) -> DockerSnapshot:
        try:
            return await self._blocking(0.0, self._require().read)
        except TimeoutError as err:
            raise UpdateFailed(f"Docker daemon at {self.config.url} did not answer in time") from err

    async def run(self) -> None:
        reader = self._require()
        await follow_events(reader, self.ctx, self.config.call_timeout.total_seconds())

    async def act(self, name: str, action: Action) -> None:
        """Carry out a service's action on one container; the event it causes refreshes the states."""
        await self._blocking(STOP_GRACE, self._require().act, name, action)
        self.ctx.logger.info("docker.%s %s", action, name)
        self.ctx.request_poll()

    def _require(self) -> DockerReader:
        if self._reader is None:
            raise UpdateFailed("The docker integration is not connected")
        return self._reader

    async def _blocking(self, extra: float, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """A blocking SDK call on the integration's threads, abandoned after `call_timeout` (+ `extra`)."""
        async with asyncio.timeout(self.config.call_timeout.total_seconds() + extra):
            return await self.ctx.run_blocking(fn, *args, **kwargs)
