"""`IntegrationHost`: runs one integration — lifespan with retry, poller or push loop, services, states."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from hub.config import IntegrationEntry
from hub.core import Core, DeviceInfo, ServiceDescription, Unsubscribe, clock

from .backoff import Backoff
from .executor import BlockingRunner
from .health import Health
from .integration import Integration, NotReady, UpdateFailed
from .scheduler import Poller, PollerSpec
from .snapshot_writer import SnapshotWriter

__all__ = ["IntegrationHost"]

_LOGGER = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")


class _Context:
    """The `IntegrationContext` one integration gets."""

    def __init__(self, host: IntegrationHost, node: str, logger: logging.Logger) -> None:
        self._host = host
        self._node = node
        self._logger = logger

    @property
    def node(self) -> str:
        return self._node

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def run_blocking(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await self._host.runner.run(fn, *args, **kwargs)

    async def run_pinned(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await self._host.runner.run_pinned(fn, *args, **kwargs)

    def report(self, snapshot: Any, *, partial: bool = False) -> None:
        self._host.writer.write(snapshot, partial=partial)

    def request_poll(self) -> None:
        if self._host.poller is not None:
            self._host.poller.request()

    def instance_of(self, entity_id: str) -> str | None:
        return self._host.writer.instance_of(entity_id)


class IntegrationHost:
    """Owns one configured integration from set-up to tear-down."""

    def __init__(
        self,
        core: Core,
        entry: IntegrationEntry,
        cls: type[Integration[Any, Any]],
        health: Health,
        *,
        offset: float,
        host_device: DeviceInfo,
    ) -> None:
        self.entry = entry
        self.cls = cls
        self.health = health
        self._core = core
        self.runner = BlockingRunner(entry.id)
        ctx = _Context(self, core.node, logging.getLogger(f"integrations.{entry.platform}.{entry.id}"))
        self.integration = cls(ctx, entry.options)
        interval = entry.interval.total_seconds()
        self.writer = SnapshotWriter(
            core,
            integration_id=entry.id,
            domain=cls.domain,
            descriptions=cls.entities,
            default_device=self.integration.device() or host_device,
        )
        spec = PollerSpec(entry.id, interval, entry.timeout.total_seconds())
        self.poller = (
            Poller(spec, offset, self._poll, health, on_timeout=self.writer.mark_unavailable) if cls.polls() else None
        )
        self._ready = asyncio.Event()
        self.first_update = asyncio.Event()
        """Set once the first poll has ended (a value, a failure or a timeout), the lifespan failed, or, for an
        integration that only pushes, its lifespan opened: what the hub waits for before it is RUNNING."""

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._supervise(), name=f"integration:{self.entry.id}")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.runner.shutdown()

    async def wait_ready(self) -> None:
        """Wait until the integration's lifespan has opened (tests)."""
        await self._ready.wait()

    async def _supervise(self) -> None:
        """Open the integration, retrying `NotReady` with backoff, then run it until cancelled."""
        backoff = Backoff(initial=5.0, cap=300.0)
        attempt = 0
        while True:
            try:
                async with self.integration.lifespan():
                    attempt = 0
                    undo = self._register_services()
                    try:
                        self._ready.set()
                        _LOGGER.info(
                            "Set up %s (%s) every %gs",
                            self.entry.id,
                            self.entry.platform,
                            self.entry.interval.total_seconds(),
                        )
                        await self._run()
                    finally:
                        for unregister in undo:
                            unregister()
            except asyncio.CancelledError:
                raise
            except NotReady as err:
                attempt += 1
                self.health.failure(f"not ready: {err}")
                self.writer.mark_unavailable()
            except Exception as err:
                attempt += 1
                _LOGGER.exception("Integration %s stopped unexpectedly", self.entry.id)
                self.health.failure(f"{type(err).__name__}: {err}")
                self.writer.mark_unavailable()
            self.first_update.set()
            await clock.sleep(backoff.delay(attempt))

    async def _run(self) -> None:
        tasks = []
        if self.poller is not None:
            tasks.append(asyncio.create_task(self.poller.run(), name=f"poll:{self.entry.id}"))
        else:
            self.first_update.set()
        if self.cls.pushes():
            tasks.append(asyncio.create_task(self._push(), name=f"push:{self.entry.id}"))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for finished in done:
                finished.result()
            await asyncio.Future()  # push loops that return normally leave the poller running
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _push(self) -> None:
        await self.integration.run()

    async def _poll(self) -> None:
        try:
            snapshot = await self.integration.poll()
        except UpdateFailed:
            self.writer.mark_unavailable()
            raise
        except Exception:
            if self.health.consecutive_errors == 0:
                _LOGGER.exception("Unexpected error polling %s", self.entry.id)
            self.writer.mark_unavailable()
            raise
        else:
            self.writer.write(snapshot)
        finally:  # a timeout cancels the poll: it has ended too
            self.first_update.set()

    def _register_services(self) -> list[Unsubscribe]:
        return [
            self._core.services.register(
                self.cls.domain,
                ServiceDescription(
                    name=service.name,
                    handler=functools.partial(service.handler, self.integration),
                    description=service.description,
                    fields=service.fields,
                    schema=service.schema,
                ),
            )
            for service in self.cls.services
        ]

    def info(self) -> dict[str, Any]:
        return {
            "id": self.entry.id,
            "kind": "integration",
            "platform": self.entry.platform,
            "name": self.entry.name,
            "interval": self.entry.interval.total_seconds(),
            "polls": self.poller is not None,
            "timeout": self.entry.timeout.total_seconds(),
            "enabled": self.entry.enabled,
            "entities": self.writer.entity_ids(),
            "health": self.health.as_dict(),
        }
