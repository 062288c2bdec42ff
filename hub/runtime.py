"""`Hub`: builds every part from the config, starts them in order and stops them in reverse."""

from __future__ import annotations

import asyncio
import logging
import platform
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from hub.config import Config, IntegrationEntry, load_config
from hub.core import Core, CoreState, DeviceInfo, clock

from .alerts import AlertEngine
from .api import serve_api
from .control import HistoryReader, UnknownAlert, UnknownIntegration
from .entity_commands import register_entity_commands
from .health import HealthRegistry
from .health_entities import HealthEntities
from .host import IntegrationHost
from .integration import Integration
from .scheduler import PollerSpec, spread_offsets
from .sinks.recorder import Recorder, recorder_url
from .version import hub_version

__all__ = ["Hub"]

_LOGGER = logging.getLogger(__name__)


class Hub:
    """One running hub: the core, its sinks and API, and a host per enabled integration."""

    def __init__(self, config: Config, available: Mapping[str, type[Integration[Any, Any]]]) -> None:
        self.config = config
        self.available = available
        self.core = Core(config.hub.name)
        self.health = HealthRegistry()
        self.version = hub_version()
        self.device = DeviceInfo(
            identifier=self.core.node,
            name=self.core.node,
            manufacturer="homelab-hub",
            model=f"{platform.system()} {platform.machine()}".strip(),
            sw_version=self.version,
        )
        self._hosts: dict[str, IntegrationHost] = {}
        self._host_stacks: dict[str, AsyncExitStack] = {}
        self._reload_lock = asyncio.Lock()
        self.alerts: AlertEngine | None = None
        self.history: HistoryReader | None = None
        self._health_entities = HealthEntities(self.core, self.health, self.device)

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[Hub]:
        """Home Assistant's lifecycle (hub/core/lifecycle.py): STARTING while the sinks and API start (restored
        states first; the API answers from here on) and every integration gives its first reading, RUNNING until
        the block ends, then STOPPING (integrations stop), FINAL_WRITE (sinks flush and close), STOPPED."""
        lifecycle = self.core.lifecycle
        started = clock.monotonic()
        lifecycle.advance(CoreState.starting)
        try:
            async with AsyncExitStack() as stack:
                for part in self._parts():
                    await stack.enter_async_context(part)
                # Runs after the integrations have stopped and before the sinks and the API close.
                stack.callback(lifecycle.advance, CoreState.final_write)
                for undo in register_entity_commands(self.core):
                    stack.callback(undo)
                stack.callback(self._health_entities.start())
                if self.config.alerts:
                    self.alerts = await stack.enter_async_context(
                        AlertEngine(self.core, self.config.alerts, self.device).lifespan()
                    )
                stack.push_async_callback(self._stop_integrations)
                try:
                    await self._start_integrations(self.config.integrations)
                    await self._first_updates(started)
                    lifecycle.advance(CoreState.running)
                    yield self
                finally:
                    lifecycle.advance(CoreState.stopping)  # WebSocket clients get it before their close frame
        finally:
            if lifecycle.state is CoreState.final_write:
                lifecycle.advance(CoreState.not_running)
                lifecycle.advance(CoreState.stopped)

    async def _first_updates(self, started: float) -> None:
        """Wait for each integration's first reading (a hanging one at most twice its poll timeout: to open,
        then to poll), and log how long the start took and which integration was the slowest."""
        took: dict[str, float] = {}

        async def first(host: IntegrationHost) -> None:
            await clock.sleep_or_wake(2 * host.entry.timeout.total_seconds(), host.first_update)
            took[host.entry.id] = clock.monotonic() - started
            if not host.first_update.is_set():
                _LOGGER.warning("%s gave no first reading in time: running without it", host.entry.id)

        await asyncio.gather(*(first(host) for host in self._hosts.values()))
        total = clock.monotonic() - started
        if took:
            slowest = max(took, key=took.__getitem__)
            _LOGGER.info(
                "homelab-hub %s running as node %r: started in %.2f s, slowest integration %s (%.2f s)",
                self.version,
                self.core.node,
                total,
                slowest,
                took[slowest],
            )
        else:
            _LOGGER.info("homelab-hub %s running as node %r: started in %.2f s", self.version, self.core.node, total)

    def _parts(self) -> list[AbstractAsyncContextManager[Any]]:
        """The sinks and the API, in start order; each is optional and configured under `hub:`."""
        parts: list[AbstractAsyncContextManager[Any]] = []
        # The recorder comes first: the states it restores must be there before anything publishes.
        recorder_config = self.config.hub.recorder
        recorder = Recorder(
            self.core,
            recorder_config,
            recorder_url(recorder_config, self.config.hub.data_dir),
            self.health.create("recorder", "sink"),
            self.device,
        )
        self.history = recorder.history
        parts.append(recorder.lifespan())
        # Optional sinks are imported only when configured: their client libraries cost an idle hub about
        # 6 MB of its 60 MB budget (bench/idle.py).
        if self.config.hub.redis is not None:
            from .sinks.redis import RedisSink

            parts.append(RedisSink(self.core, self.config.hub.redis, self.health.create("redis", "sink")).lifespan())
        if self.config.hub.mqtt is not None:
            from .sinks.mqtt import mqtt_sink

            mqtt_health = self.health.create("mqtt", "sink")
            parts.append(mqtt_sink(self.core, self.config.hub.mqtt, mqtt_health, version=self.version))
        # The API comes last: once clients can act, every sink already listens.
        parts.append(serve_api(self.core, self, self.config.hub, hub_version=self.version))
        return parts

    async def _start_integrations(self, entries: tuple[IntegrationEntry, ...]) -> None:
        enabled = [entry for entry in entries if entry.enabled]
        offsets = spread_offsets(
            PollerSpec(e.id, e.interval.total_seconds(), e.timeout.total_seconds()) for e in enabled
        )
        for entry in enabled:
            health = self.health.create(entry.id, "integration")
            host = IntegrationHost(
                self.core,
                entry,
                self.available[entry.platform],
                health,
                offset=offsets[entry.id],
                host_device=self.device,
            )
            if host.poller is not None:
                host.poller.request()  # the first poll as soon as it opens, not at its first tick: the hub waits for it
            stack = AsyncExitStack()
            await stack.enter_async_context(host.lifespan())
            self._hosts[entry.id] = host
            self._host_stacks[entry.id] = stack

    async def _stop_integration(self, integration_id: str) -> None:
        host = self._hosts.pop(integration_id)
        await self._host_stacks.pop(integration_id).aclose()
        host.writer.remove_all()
        self.health.remove(integration_id)
        self._health_entities.remove(integration_id)

    async def _stop_integrations(self) -> None:
        for integration_id in reversed(list(self._hosts)):
            await self._host_stacks.pop(integration_id).aclose()
        self._hosts.clear()

    # HubControl, for the API

    def integrations(self) -> list[dict[str, Any]]:
        return [host.info() for host in self._hosts.values()]

    def alert_states(self) -> list[dict[str, Any]]:
        return self.alerts.as_list() if self.alerts is not None else []

    def test_alert(self, name: str) -> int:
        if self.alerts is None:
            raise UnknownAlert(name)
        return self.alerts.test_fire(name)

    async def poll_now(self, integration_id: str) -> None:
        host = self._hosts.get(integration_id)
        if host is None or host.poller is None:
            raise UnknownIntegration(integration_id)
        host.poller.request()

    async def reload(self) -> list[str]:
        """Apply a changed config's integrations; `hub:` changes need a restart and are reported as such."""
        async with self._reload_lock:
            config = load_config(self.config.directory, self.available)
            changes: list[str] = []
            new = {entry.id: entry for entry in config.integrations}
            for integration_id, host in list(self._hosts.items()):
                if new.get(integration_id) != host.entry:
                    await self._stop_integration(integration_id)
                    changes.append(f"stopped {integration_id}")
            started = tuple(e for e in config.integrations if e.id not in self._hosts)
            await self._start_integrations(started)
            changes.extend(f"started {e.id}" for e in started if e.enabled)
            if config.hub != self.config.hub:
                changes.append("hub settings changed: restart the hub to apply them")
                _LOGGER.warning("Config reload: changes under hub: take effect after a restart")
            if config.alerts != self.config.alerts:
                changes.append("alerts changed: restart the hub to apply them")
                _LOGGER.warning("Config reload: changes under alerts: take effect after a restart")
            self.config = Config(
                hub=self.config.hub,
                integrations=config.integrations,
                directory=config.directory,
                alerts=self.config.alerts,
            )
            _LOGGER.info("Config reloaded: %s", "; ".join(changes) or "no changes")
            return changes
