"""`SqliteSession`: a SQLite transaction that crosses into the connection's thread once per read and once to commit.

Tortoise runs SQLite through aiosqlite, which calls the sqlite3 module in a thread of its own: every statement is
a trip into that thread and back, and the way back waits for the event loop's next turn. Beside a busy loop
(thousands of state changes a second) each trip waits for the loop to finish what it is doing, and a commit
through Tortoise's transaction takes four or five (`COMMIT` of any implicit transaction, `BEGIN`, the inserts,
`COMMIT`). Here writes (`execute_many`, `insert_rows`) are queued and run at the next read or at the commit, in
order, in the same trip: a batch whose ids are all known commits in one trip.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Final, cast

import aiosqlite

__all__ = ["SqliteSession"]

Row = Sequence[Any]

MAX_VARIABLES: Final = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
"""Parameters one SQLite statement may hold (SQLITE_MAX_VARIABLE_NUMBER's default)."""


class SqliteSession:
    """One transaction on Tortoise's aiosqlite connection; the caller holds the connection's lock throughout."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._queued: list[tuple[str, Sequence[Sequence[Any]]]] = []
        """Statements not run yet, each with its rows of parameters (one `execute` per row)."""
        self._begun = False

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run what is queued, then `sql`, and return its rows (plain tuples)."""
        rows: list[Row] = await self._in_thread(_fetch, sql, list(params))
        return rows

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`sql` once per row of parameters, run at the next read or at the commit."""
        if rows:
            self._queued.append((sql, rows))

    async def insert_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`INSERT ... VALUES (?, ...)` for every row, as few statements of many rows each.

        The sqlite3 module releases the GIL around each statement step: `executemany` of a batch hands the GIL
        back and forth once per row, and while the event loop is busy each handoff waits on it (a 500-row commit
        took 56 ms beside a busy loop instead of 2). One statement of many rows steps once.
        """
        if not rows:
            return
        head, _, values = sql.partition(" VALUES ")
        per_statement = MAX_VARIABLES // len(rows[0])
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            flat = [value for row in chunk for value in row]
            self._queued.append((f"{head} VALUES {','.join([values] * len(chunk))}", [flat]))

    async def commit(self) -> None:
        """Run what is queued and commit, in one trip."""
        await self._in_thread(_commit)

    async def rollback(self) -> None:
        """Forget what is queued and roll back what ran (nothing to do if nothing ran)."""
        self._queued.clear()
        if self._begun:
            await self._in_thread(_rollback)

    async def _in_thread(self, step: Callable[..., Any], *args: Any) -> Any:
        queued, self._queued = self._queued, []
        begin, self._begun = not self._begun, True
        # aiosqlite has no public call for running a function in its thread; `_execute` is how its own methods
        # do it, and the sqlite3 connection may only be used from that thread.
        execute = cast(Callable[..., Any], self._connection._execute)
        return await execute(_run, self._connection._conn, begin, queued, step, *args)


def _run(
    db: sqlite3.Connection,
    begin: bool,
    queued: list[tuple[str, Sequence[Sequence[Any]]]],
    step: Callable[..., Any],
    *args: Any,
) -> Any:
    """In the connection's thread: `BEGIN` if not yet, the queued statements, then `step`; on any error the
    transaction is rolled back here, in the same trip."""
    try:
        if begin:
            db.execute("BEGIN")
        for sql, rows in queued:
            for params in rows:
                db.execute(sql, params)
        return step(db, *args)
    except BaseException:
        if db.in_transaction:
            db.rollback()
        raise


def _fetch(db: sqlite3.Connection, sql: str, params: list[Any]) -> list[Row]:
    cursor = db.execute(sql, params)
    try:
        cursor.row_factory = None
        return cursor.fetchall()
    finally:
        cursor.close()


def _commit(db: sqlite3.Connection) -> None:
    db.commit()


def _rollback(db: sqlite3.Connection) -> None:
    db.rollback()
