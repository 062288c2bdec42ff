"""`Recorder`: opens the database, restores the last states, and runs the writer, statistics and purge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from hub.config.models.recorder import RecorderConfig
from hub.config.validation import Secret
from hub.core import MATCH_ALL, Core, DeviceInfo, EntityDescription, Event, clock, entity_id_for
from hub.health import Health
from hub.snapshot_writer import SnapshotWriter

from .checkpoint import Checkpointer
from .database import Database, DatabaseUnavailable
from .history import History
from .purge import purge
from .restore import last_states
from .statistics import SHORT_TERM, StatisticsCompiler
from .writer import Writer

__all__ = ["Recorder", "recorder_url"]

_LOGGER = logging.getLogger(__name__)

_COMPILE_DELAY: Final = 10.0
"""Seconds after a 5-minute boundary before compiling it, so the states of its last second are committed."""


def recorder_url(config: RecorderConfig, data_dir: Path) -> Secret:
    """The configured `db_url`, or SQLite in the hub's `data_dir` (`sqlite://data/hub.db` by default)."""
    return config.db_url if config.db_url is not None else Secret(f"sqlite://{data_dir / 'hub.db'}")


def _dropped(buffer_size: int) -> EntityDescription[int]:
    """`sensor.<node>_recorder_dropped`: changes the recorder could not keep (its buffer overflowed)."""
    return EntityDescription(
        key="recorder_dropped",
        name="Recorder dropped events",
        value=lambda dropped, _: dropped,
        attributes=lambda _, __: {"buffer_size": buffer_size},
        unit="events",
        state_class="total_increasing",
        entity_category="diagnostic",
    )


class Recorder:
    """The recorder sink; `lifespan()` starts it, and `history` answers the API's history questions."""

    def __init__(self, core: Core, config: RecorderConfig, url: Secret, health: Health, device: DeviceInfo) -> None:
        self._core = core
        self._config = config
        self._health = health
        self._device = device
        self.db = Database(url)
        self.writer = Writer(
            self.db,
            health,
            max_batch=config.max_batch,
            buffer_size=config.buffer_size,
            commit_interval=config.commit_interval.total_seconds(),
            commit_timeout=config.commit_timeout.total_seconds(),
            exempt=self._is_own,
        )
        self.history = History(self.db, lambda: self.writer.rows.entity_ids.known)
        self.statistics = StatisticsCompiler(self.db, core)
        sqlite_file = self.db.sqlite_file
        self._checkpointer = Checkpointer(sqlite_file) if sqlite_file is not None else None
        self.dropped_entity_id = entity_id_for("sensor", core.node, "recorder_dropped")
        self._published_drops = -1
        self._drops = SnapshotWriter(
            core,
            integration_id="hub",
            domain="hub",
            descriptions=(_dropped(config.buffer_size),),
            default_device=device,
        )
        self._stopping = asyncio.Event()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[Recorder]:
        """Open and restore before yielding (so restored states are there before anything publishes); on exit,
        stop listening, write what is buffered, then close."""
        await self._open()
        self._publish_drops()
        self.writer.on_cycle = self._after_cycle
        unsubscribe = self._core.bus.listen(MATCH_ALL, self.writer.listen)
        tasks = [
            asyncio.create_task(self.writer.run(), name="recorder-writer"),
            asyncio.create_task(self._every_period(), name="recorder-statistics"),
            asyncio.create_task(self._daily_purge(), name="recorder-purge"),
        ]
        try:
            yield self
        finally:
            unsubscribe()
            self._stopping.set()
            self.writer.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.writer.flush(within=self._config.shutdown_timeout.total_seconds())
            if self._checkpointer is not None:
                await self._checkpointer.stop()
            await self.db.close()
            _LOGGER.info(
                "Recorder stopped: %d rows written, %d events dropped", self.writer.written, self.writer.dropped
            )

    async def _open(self) -> None:
        try:
            await self.writer.connect()
            restored = await last_states(self.db)
        except DatabaseUnavailable as err:
            # The hub runs on; the writer keeps trying and the buffer holds changes until the database answers.
            self._health.fail_now(f"{err}; nothing restored, changes are buffered")
            await self.db.reset()
            return
        self._core.states.restore(restored)
        self._health.success()
        _LOGGER.info("Restored %d states from %s", len(restored), self.db.name)

    def _is_own(self, event: Event[Any]) -> bool:
        return bool(event.data.get("entity_id") == self.dropped_entity_id)

    def _after_cycle(self) -> None:
        self._publish_drops()
        if self._checkpointer is not None:
            self._checkpointer.after_commits(self.writer.written)

    def _publish_drops(self) -> None:
        dropped = self.writer.dropped
        if dropped == self._published_drops:
            return
        self._published_drops = dropped
        self._drops.write(dropped)

    async def _every_period(self) -> None:
        """Compile statistics a little after each 5-minute boundary; a restart catches up on missed periods."""
        await self._repeat(self._next_period, self.compile_statistics)

    async def _daily_purge(self) -> None:
        await self._repeat(self._next_purge, self.purge)

    async def _repeat(self, next_time: Callable[[datetime], datetime], job: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            now = clock.utcnow()
            await clock.sleep_or_wake((next_time(now) - now).total_seconds(), self._stopping)
            if self._stopping.is_set():
                return
            try:
                await job()
            except DatabaseUnavailable as err:
                _LOGGER.warning("Recorder %s skipped, it runs again next time: %s", job.__name__, err)

    def _next_period(self, now: datetime) -> datetime:
        start = now.timestamp() // SHORT_TERM * SHORT_TERM
        due = start + _COMPILE_DELAY
        return datetime.fromtimestamp(due if due > now.timestamp() else due + SHORT_TERM, now.tzinfo)

    def _next_purge(self, now: datetime) -> datetime:
        due = now.replace(
            hour=self._config.purge_time.hour, minute=self._config.purge_time.minute, second=0, microsecond=0
        )
        return due if due > now else due + timedelta(days=1)

    async def compile_statistics(self) -> None:
        """Compile every finished 5-minute period not compiled yet (and the hours they complete)."""
        async with self.writer.lock:
            await self.statistics.compile_due(clock.utcnow(), dict(self.writer.rows.entity_ids.known))

    async def purge(self) -> None:
        """Apply the retention now (the daily task calls this at `purge_time`)."""
        await purge(
            self.db,
            self.writer.lock,
            self.writer.rows.forget_json,
            clock.utcnow(),
            self._config.keep_days,
            self._config.statistics_keep_days,
        )
