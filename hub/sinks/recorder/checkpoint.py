"""`Checkpointer`: SQLite's WAL checkpoints, run beside the writer's commits instead of inside them.

SQLite copies the WAL back into the database file (a checkpoint) in whichever commit finds the WAL past
`wal_autocheckpoint` pages: that commit then takes 60-80 ms longer (bench/e2e/ at 5,000 changes/s), and every
row waiting for it does too. Here a passive checkpoint runs about once a second on its own short-lived
connection in a thread of the default executor, right after a commit, so it is usually done before the next
commit starts: in WAL mode a passive checkpoint never blocks the writer or a reader, and the next commit after a
complete one starts the WAL over from its beginning. `wal_autocheckpoint` stays on the writer's connection as
the bound on the WAL's size, for a writer that commits back to back and never lets a checkpoint finish
between two commits; the writer's checkpoint then skips the pages already copied here.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Final
from urllib.parse import quote

from hub.core import clock

__all__ = ["Checkpointer"]

_LOGGER = logging.getLogger(__name__)

EVERY: Final = 1.0
"""Seconds from the start of one checkpoint to the next, at most."""


class Checkpointer:
    """Checkpoints the SQLite database at `path` after commits, one at a time, from a thread."""

    def __init__(self, path: Path) -> None:
        # mode=rw: never create the file (it is the writer's to create, with its pragmas).
        self._uri = f"file:{quote(str(path.absolute()))}?mode=rw"
        self._running: asyncio.Future[None] | None = None
        self._started = -EVERY
        self._written = 0

    def after_commits(self, written: int) -> None:
        """Called after each write cycle with the rows written so far: start a checkpoint if rows were written
        since the last one started, none is running, and the last started at least `EVERY` seconds ago."""
        now = clock.monotonic()
        if written == self._written or self._running is not None or now - self._started < EVERY:
            return
        self._written = written
        self._started = now
        self._running = asyncio.ensure_future(asyncio.to_thread(self._checkpoint))
        self._running.add_done_callback(self._finished)

    async def stop(self) -> None:
        """Wait for a running checkpoint: the writer's connection must be the last to close, and then it
        checkpoints and removes the WAL itself."""
        if self._running is not None:
            await asyncio.wait({self._running})

    def _finished(self, future: asyncio.Future[None]) -> None:
        self._running = None
        if not future.cancelled() and (err := future.exception()) is not None:
            _LOGGER.warning("Recorder WAL checkpoint failed: %r", err)

    def _checkpoint(self) -> None:
        """In a thread: a passive checkpoint on a connection of its own (a busy database is left for next time)."""
        try:
            db = sqlite3.connect(self._uri, uri=True, timeout=0, isolation_level=None)
        except (sqlite3.Error, OSError) as err:
            _LOGGER.debug("Recorder WAL checkpoint skipped: %s", err)
            return
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        except (sqlite3.Error, OSError) as err:
            _LOGGER.debug("Recorder WAL checkpoint skipped: %s", err)
        finally:
            db.close()
