"""`purge`: deletes states, events and statistics past their retention in small batches, then reclaims space."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from .database import Database
from .queries import marks
from .restore import LATEST_STATE_IDS

__all__ = ["PURGE_BATCH", "PurgeResult", "purge"]

_LOGGER = logging.getLogger(__name__)

PURGE_BATCH: Final = 4000
"""Rows per delete: each batch is a short transaction taken under the writer's lock, so commits go on between
batches and a purge of millions of rows never holds the writer back for more than one batch."""

_SCAN_SPAN: Final = 100_000
"""State ids per read while collecting the attribute rows in use: a short primary-key range scan each."""


@dataclass(slots=True)
class PurgeResult:
    states: int = 0
    events: int = 0
    attributes: int = 0
    event_data: int = 0
    statistics: int = 0


async def purge(
    db: Database,
    lock: asyncio.Lock,
    forget: Callable[[], None],
    now: datetime,
    keep_days: int,
    statistics_keep_days: int,
) -> PurgeResult:
    """Delete what is older than the retention; each entity's newest state stays, so restore always has it.

    `lock` is the writer's; `forget` clears the writer's cache of deduplicated JSON rows, called under the lock
    once such rows are deleted, so it never hands out the id of a row that is gone.
    """
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    result = PurgeResult()
    keep = {row[0] for row in await db.fetch(LATEST_STATE_IDS)}
    result.states = await _delete_old_states(db, lock, cutoff, keep)
    result.events = await _delete_old(db, lock, "events", "event_id", "time_fired_ts", cutoff, set())
    result.attributes = await _delete_orphan_attributes(db, lock, forget)
    result.event_data = await _delete_orphans(db, lock, forget, "event_data", "data_id", "events")
    stats_cutoff = (now - timedelta(days=statistics_keep_days)).timestamp()
    for table, column, limit in (
        ("statistics_short_term", "start_ts", cutoff),
        ("statistics_runs", "start_ts", cutoff),
        ("statistics", "start_ts", stats_cutoff),
    ):
        async with lock, db.transaction() as session:
            await session.execute_many(f"DELETE FROM {table} WHERE {column} < ?", [(limit,)])
    if db.dialect == "sqlite":
        # Freed pages go back to the file system; PostgreSQL's autovacuum does this on its own.
        async with lock:
            await db.execute_script("PRAGMA incremental_vacuum")
    _LOGGER.info(
        "Purged %d states, %d events, %d attribute and %d event data rows older than %d days",
        result.states,
        result.events,
        result.attributes,
        result.event_data,
        keep_days,
    )
    return result


async def _delete_old_states(db: Database, lock: asyncio.Lock, cutoff: float, keep: set[int]) -> int:
    """Entity by entity, on the `(metadata_id, last_updated_ts)` index: the only index `states` has."""
    deleted = 0
    for (metadata_id,) in await db.fetch("SELECT metadata_id FROM states_meta"):
        while True:
            ids = [
                row[0]
                for row in await db.fetch(
                    "SELECT state_id FROM states WHERE metadata_id = ? AND last_updated_ts < ?"
                    " ORDER BY last_updated_ts LIMIT ?",
                    [metadata_id, cutoff, PURGE_BATCH],
                )
            ]
            doomed = [row_id for row_id in ids if row_id not in keep]
            if doomed:
                async with lock, db.transaction() as session:
                    sql = f"DELETE FROM states WHERE state_id IN ({marks(len(doomed))})"
                    await session.execute_many(sql, [doomed])
                deleted += len(doomed)
            if len(ids) < PURGE_BATCH:
                break
    return deleted


async def _delete_old(
    db: Database, lock: asyncio.Lock, table: str, key: str, time_column: str, cutoff: float, keep: set[int]
) -> int:
    deleted, after = 0, -1
    while True:
        ids = [
            row[0]
            for row in await db.fetch(
                f"SELECT {key} FROM {table} WHERE {time_column} < ? AND {key} > ? ORDER BY {key} LIMIT ?",
                [cutoff, after, PURGE_BATCH],
            )
        ]
        doomed = [row_id for row_id in ids if row_id not in keep]
        if doomed:
            async with lock, db.transaction() as session:
                await session.execute_many(f"DELETE FROM {table} WHERE {key} IN ({marks(len(doomed))})", [doomed])
            deleted += len(doomed)
        if len(ids) < PURGE_BATCH:
            return deleted
        after = ids[-1]


async def _delete_orphan_attributes(db: Database, lock: asyncio.Lock, forget: Callable[[], None]) -> int:
    """Attribute rows no state refers to. `states` has no index on `attributes_id` (it cost a third of SQLite's
    write speed), so the references are read in primary-key ranges outside the lock up to the newest row
    committed when the purge looked; then before each delete, under the lock, those of the rows written since."""
    async with lock:
        low, high = (await db.fetch("SELECT MIN(state_id), MAX(state_id) FROM states"))[0]
    used: set[int | None] = set()
    if high is not None:
        for after in range(low - 1, high, _SCAN_SPAN):
            sql = "SELECT DISTINCT attributes_id FROM states WHERE state_id > ? AND state_id <= ?"
            used.update(row[0] for row in await db.fetch(sql, [after, min(after + _SCAN_SPAN, high)]))
    checked = high or 0
    doomed = [row[0] for row in await db.fetch("SELECT attributes_id FROM state_attributes") if row[0] not in used]
    deleted = 0
    while doomed:
        async with lock, db.transaction() as session:
            newer = await session.fetch(
                "SELECT attributes_id, MAX(state_id) FROM states WHERE state_id > ? GROUP BY attributes_id",
                [checked],
            )
            used.update(row[0] for row in newer)
            checked = max((row[1] for row in newer), default=checked)
            batch = [row_id for row_id in doomed[:PURGE_BATCH] if row_id not in used]
            if batch:
                await session.execute_many(
                    f"DELETE FROM state_attributes WHERE attributes_id IN ({marks(len(batch))})", [batch]
                )
                forget()
        deleted += len(batch)
        doomed = doomed[PURGE_BATCH:]
    return deleted


async def _delete_orphans(
    db: Database, lock: asyncio.Lock, forget: Callable[[], None], table: str, key: str, referrer: str
) -> int:
    """Deduplicated JSON rows no row refers to any more (checked and deleted under the lock, so the writer
    cannot be adding a reference at the same moment)."""
    deleted = 0
    while True:
        async with lock, db.transaction() as session:
            ids = [
                row[0]
                for row in await session.fetch(
                    f"SELECT t.{key} FROM {table} t WHERE NOT EXISTS"
                    f" (SELECT 1 FROM {referrer} r WHERE r.{key} = t.{key}) LIMIT ?",
                    [PURGE_BATCH],
                )
            ]
            if ids:
                await session.execute_many(f"DELETE FROM {table} WHERE {key} IN ({marks(len(ids))})", [ids])
                forget()
        deleted += len(ids)
        if len(ids) < PURGE_BATCH:
            return deleted
