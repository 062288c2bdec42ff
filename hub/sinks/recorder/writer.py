"""`Writer`: the recorder's bounded buffer of bus events and the task that commits them in batches."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import Any

from hub.backoff import Backoff
from hub.core import EVENT_STATE_CHANGED, Event, clock
from hub.health import Health

from .batch import RowMaker, Staged
from .database import Database, DatabaseUnavailable

__all__ = ["Writer"]

_LOGGER = logging.getLogger(__name__)

_RETRY = Backoff(initial=0.5, factor=2.0, cap=30.0)


class Writer:
    """Commits what the bus fires: every `commit_interval` (counted from the start of the last commit, so a slow
    commit is followed by the next at once), or at once when `max_batch` rows wait.

    The buffer holds at most `buffer_size` events while the database is slow or away; past that, new events are
    dropped and counted (never silently), so what is kept stays a contiguous history from the outage on.
    A commit with no answer within `commit_timeout` (opening the database included) has failed: a database that
    accepts connections and never answers must not stall the writer, which would then neither write nor say so.
    `exempt(event)` marks events that skip the limit: the recorder's own drop counter, whose changes would
    otherwise be dropped in turn and count themselves forever.
    """

    def __init__(
        self,
        db: Database,
        health: Health,
        *,
        max_batch: int,
        buffer_size: int,
        commit_interval: float,
        exempt: Callable[[Event[Any]], bool],
        commit_timeout: float,
    ) -> None:
        self._db = db
        self._health = health
        self._max_batch = max_batch
        self._buffer_size = buffer_size
        self._interval = commit_interval
        self._exempt = exempt
        self._commit_timeout = commit_timeout
        self._buffer: deque[Event[Any]] = deque()
        self._wake = asyncio.Event()
        self._rows = RowMaker()
        self._failures = 0
        self._stopping = False
        self.lock = asyncio.Lock()
        """Held around each commit; the purge takes it between its batches."""
        self.dropped = 0
        self.written = 0
        self.on_cycle: Callable[[], None] | None = None
        """Called after each write cycle (the recorder publishes its drop counter from here)."""

    @property
    def rows(self) -> RowMaker:
        return self._rows

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def listen(self, event: Event[Any]) -> None:
        """The bus listener: never awaits, never blocks."""
        if event.event_type == EVENT_STATE_CHANGED and event.data.get("new_state") is None:
            return  # an entity removed: its last row already tells its last state
        if len(self._buffer) >= self._buffer_size and not self._exempt(event):
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10_000 == 0:
                _LOGGER.warning("Recorder buffer full (%d events): %d dropped so far", self._buffer_size, self.dropped)
            return
        self._buffer.append(event)
        # Not while the database fails: the buffer is then always past a batch, and waking on it cut every
        # backoff short, ~120 attempts/s (tests/chaos/test_dependencies_down.py).
        if len(self._buffer) >= self._max_batch and not self._failures:
            self._wake.set()

    def stop(self) -> None:
        """Make `run()` return after its current cycle."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Write until `stop()`; a failing database is retried with backoff while the buffer holds the rows."""
        started = clock.monotonic()
        while not self._stopping:
            # The interval runs from the start of the last cycle: a commit that took longer than it is followed by
            # the next at once, rather than by a whole interval more of waiting rows.
            since = clock.monotonic() - started
            delay = _RETRY.delay(self._failures) if self._failures else self._interval - since
            await clock.sleep_or_wake(delay, self._wake)
            self._wake.clear()
            started = clock.monotonic()
            await self.write_pending()
            if self.on_cycle is not None:
                self.on_cycle()

    async def write_pending(self) -> bool:
        """Commit everything buffered, one transaction per `max_batch`; False if the database failed."""
        self._health.queue_depth = len(self._buffer)
        while self._buffer:
            if not await self._write_batch():
                return False
        return True

    async def flush(self, *, within: float) -> None:
        """At shutdown: keep trying to write what is buffered for up to `within` seconds, then say what is lost."""
        deadline = clock.monotonic() + within
        attempt = 0
        while not await self.write_pending():
            attempt += 1
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                _LOGGER.error("Recorder stopped with %d events not written: the database stayed away", self.pending)
                return
            await clock.sleep(min(remaining, _RETRY.delay(attempt)))

    async def _write_batch(self) -> bool:
        started = clock.monotonic()
        try:
            async with self.lock:
                # Taken under the lock: a flush and the run loop may both be here, and must not share a batch.
                batch = list(islice(self._buffer, self._max_batch))
                if not batch:
                    return True
                staged = await self._commit_in_time(batch)
                self._rows.keep(staged)
        except DatabaseUnavailable as err:
            self._failures += 1
            self._health.failure(str(err))
            await self._db.reset()
            return False
        for _ in batch:
            self._buffer.popleft()
        self.written += staged.rows
        self._health.queue_depth = len(self._buffer)
        if self._failures:
            _LOGGER.info(
                "Recorder database back after %d failed attempts; %d events waiting", self._failures, self.pending
            )
            self._failures = 0
        # No duration: the health entity's attributes then change only on a transition, not with every commit.
        self._health.success()
        _LOGGER.debug("Committed %d rows in %.3f s", staged.rows, clock.monotonic() - started)
        return True

    async def _commit_in_time(self, batch: list[Event[Any]]) -> Staged:
        """`_commit` bounded by `commit_timeout`. Past it the connection is cut rather than the commit cancelled:
        a cancelled transaction would still wait on the silent server to roll back."""
        attempt = asyncio.create_task(self._commit(batch))
        done, _ = await asyncio.wait({attempt}, timeout=self._commit_timeout)
        if not done:
            await self._db.abort()
            attempt.cancel()
            await asyncio.wait({attempt}, timeout=self._commit_timeout)
            attempt.add_done_callback(_retrieve)
            raise DatabaseUnavailable(f"recorder database {self._db.name}: no answer within {self._commit_timeout:g} s")
        return attempt.result()

    async def _commit(self, batch: list[Event[Any]]) -> Staged:
        await self.connect()
        async with self._db.transaction() as session:
            return await self._rows.write(session, batch)

    async def connect(self) -> None:
        """Open the database if it is not, and read its name tables; raises `DatabaseUnavailable`."""
        if not self._db.connected:
            await self._db.connect()
            await self._rows.load(self._db)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """An abandoned commit's outcome is known (its connection was cut): read it so asyncio does not report it."""
    if not task.cancelled():
        task.exception()
