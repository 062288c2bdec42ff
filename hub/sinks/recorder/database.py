"""`Database`: the recorder's one Tortoise connection, its schema version, and SQL run on SQLite or PostgreSQL."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from tortoise import context as tortoise_context
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.exceptions import BaseORMException

from hub.config.validation import Secret
from hub.core import HubError, Unavailable, clock

from .models import SCHEMA_VERSION
from .sqlite_session import SqliteSession

__all__ = ["Database", "DatabaseUnavailable", "Dialect", "RecorderError", "SchemaMismatch", "Session"]

_LOGGER = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgres"]
Row = Sequence[Any]

_DB_ERRORS: tuple[type[BaseException], ...] = (BaseORMException, OSError, sqlite3.Error, TimeoutError)


@functools.cache
def _add_postgres_errors() -> None:
    """asyncpg is imported for a PostgreSQL URL only: it would cost a SQLite hub 1.6 MB of RSS (bench/idle.py)."""
    global _DB_ERRORS
    try:
        import asyncpg  # type: ignore[import-untyped]
    except ImportError:  # the `postgres` extra is not installed: SQLite only
        return
    _DB_ERRORS = (*_DB_ERRORS, asyncpg.PostgresError, asyncpg.InterfaceError)


# WAL lets history reads run beside the writer; NORMAL syncs at checkpoints only, which WAL keeps consistent
# (the issue asks for both). Incremental auto-vacuum, set before the first table exists, lets the purge hand
# freed pages back without a full VACUUM that would lock the database for minutes.
# Write speed (bench/recorder.py): each commit of 500 entities' rows dirties a leaf page per entity in the
# `(metadata_id, last_updated_ts)` index. An 8 MiB page cache keeps those pages in memory instead of 2 MiB; 32 MiB
# wrote no faster once checkpoints ran beside the writer (checkpoint.py), and took 9 minutes at 500 changes/s to
# fill, the RSS growing all that time (bench/soak.py). The writer's own checkpoint every 10,000 WAL pages instead
# of 1,000 is the bound on the WAL for a writer that commits back to back; the WAL file is kept at up to 64 MiB
# instead of being truncated to Tortoise's 16 KiB after each checkpoint and grown again.
_SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "auto_vacuum": "INCREMENTAL",
    "cache_size": -8_192,
    "wal_autocheckpoint": 10_000,
    "journal_size_limit": 64 * 1024 * 1024,
}


class RecorderError(HubError):
    """Something went wrong in the recorder."""


class DatabaseUnavailable(RecorderError, Unavailable):
    """The database cannot be reached or is locked; the caller keeps its rows and tries again later."""


class SchemaMismatch(RecorderError):
    """The database was written by a newer hub: upgrade the hub or point `db_url` at another database."""


@contextmanager
def _active(context: TortoiseContext) -> Iterator[None]:
    """Make `context` current for this task only. `with context:` keeps one token per context object, which
    breaks as soon as two tasks (the writer and an API request) use it at once; a token per use does not."""
    token = tortoise_context._current_context.set(context)
    try:
        yield
    finally:
        tortoise_context._current_context.reset(token)


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (our SQL never holds a literal `?`)."""
    parts = sql.split("?")
    return "".join(f"{part}${index}" for index, part in enumerate(parts[:-1], 1)) + parts[-1]


async def _query(client: Any, sql: str, params: Sequence[Any]) -> list[Row]:
    # Tortoise's asyncpg client discards the rows of INSERT/UPDATE/DELETE ... RETURNING unless asked for dicts.
    if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        return [tuple(row.values()) for row in await client.execute_query_dict(sql, list(params))]
    _, rows = await client.execute_query(sql, list(params))
    return list(rows)


async def _sqlite_select(client: Any, sql: str, params: Sequence[Any]) -> list[Row]:
    # Plain tuples: Tortoise's SQLite connection makes a `sqlite3.Row` per row, which cost a history answer
    # of 8,640 rows a few milliseconds more.
    async with client.acquire_connection() as connection:
        cursor = await connection.execute(sql, list(params))
        try:
            cursor.row_factory = None
            return list(await cursor.fetchall())
        finally:
            await cursor.close()


class Session(Protocol):
    """One open transaction: every statement commits together or not at all."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def insert_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`INSERT ... VALUES (?, ...)` for every row."""


class _PostgresSession:
    """A transaction on Tortoise's asyncpg client: each statement is sent as it comes."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await _query(self._client, _numbered(sql), params)

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self._client.execute_many(_numbered(sql), list(rows))

    async def insert_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.execute_many(sql, rows)


class Database:
    """Opens Tortoise in its own `TortoiseContext` (never the global one), so tests open and close it cleanly."""

    def __init__(self, url: Secret) -> None:
        self._url = url
        credentials = expand_db_url(url.reveal())
        self.dialect: Dialect = "sqlite" if "sqlite" in credentials["engine"] else "postgres"
        if self.dialect == "postgres":
            _add_postgres_errors()
        self._config = credentials
        self._context: TortoiseContext | None = None

    @property
    def name(self) -> str:
        """Where the data lives, fit for a log line: the SQLite path or PostgreSQL's host and database."""
        creds = self._config["credentials"]
        if self.dialect == "sqlite":
            return f"sqlite:{creds['file_path']}"
        return f"postgres://{creds.get('host')}:{creds.get('port')}/{creds.get('database')}"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database's file; None for PostgreSQL and an in-memory database."""
        path = self._config["credentials"]["file_path"] if self.dialect == "sqlite" else ":memory:"
        return None if path == ":memory:" else Path(path)

    @property
    def connected(self) -> bool:
        return self._context is not None

    async def connect(self) -> None:
        """Open the connection and make sure the schema is there and ours; raises `DatabaseUnavailable`."""
        if self._context is not None:
            return
        context = TortoiseContext()
        config = {
            "connections": {"default": self._connection_config()},
            "apps": {"recorder": {"models": ["hub.sinks.recorder.models"], "default_connection": "default"}},
        }
        try:
            with _active(context):
                await context.init(config=config)
                await context.generate_schemas(safe=True)
            self._context = context
            await self._check_schema_version()
        except _DB_ERRORS as err:
            await self._close_context(context)
            raise DatabaseUnavailable(f"cannot open the recorder database {self.name}: {err}") from err
        except SchemaMismatch:
            await self._close_context(context)
            raise
        _LOGGER.info("Recorder database %s open (schema version %d)", self.name, SCHEMA_VERSION)

    async def close(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            await self._close_context(context)

    async def reset(self) -> None:
        """Drop the connection after a failure so the next attempt opens a fresh one."""
        await self.close()

    async def abort(self) -> None:
        """Cut the connection without waiting on the server, for a database that stopped answering: a polite close
        would wait on it too, and a query still waiting fails at once."""
        context, self._context = self._context, None
        if context is None:
            return
        with _active(context):
            pool = getattr(context.db(), "_pool", None)  # asyncpg's pool inside Tortoise's client; SQLite has none
        if pool is not None:
            pool.terminate()
        await self._close_context(context)

    def _connection_config(self) -> dict[str, Any]:
        config = {"engine": self._config["engine"], "credentials": dict(self._config["credentials"])}
        if self.dialect == "sqlite":
            path = Path(config["credentials"]["file_path"])
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            for pragma, value in _SQLITE_PRAGMAS.items():
                config["credentials"].setdefault(pragma, value)
        else:
            # No connection floor: asyncpg would keep reconnecting in a task of its own while the server is away,
            # logging a traceback each time, and a close during one of its attempts leaves an exception nobody
            # reads ("Future exception was never retrieved"). The writer's backoff decides when to try again.
            config["credentials"].setdefault("minsize", 0)
        return config

    @staticmethod
    async def _close_context(context: TortoiseContext) -> None:
        try:
            with _active(context):
                await context.close_connections()
        except _DB_ERRORS as err:
            _LOGGER.debug("Closing the recorder database: %s", err)

    async def _check_schema_version(self) -> None:
        async with self.transaction() as session:
            rows = await session.fetch("SELECT MAX(schema_version) FROM schema_changes")
            stored = rows[0][0] if rows else None
            if stored is None:
                await session.execute_many(
                    "INSERT INTO schema_changes (schema_version, changed_ts) VALUES (?, ?)",
                    [(SCHEMA_VERSION, clock.utcnow().timestamp())],
                )
            elif stored != SCHEMA_VERSION:
                # Version 1 is the first schema: there is nothing older to migrate from yet.
                raise SchemaMismatch(
                    f"the recorder database {self.name} has schema version {stored}, this hub knows {SCHEMA_VERSION}"
                )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A transaction on the open database; library errors come out as `DatabaseUnavailable`."""
        context = self._context
        if context is None:
            raise DatabaseUnavailable(f"the recorder database {self.name} is not open")
        with _active(context):
            try:
                if self.dialect == "sqlite":
                    async with context.db().acquire_connection() as connection:
                        session = SqliteSession(connection)
                        try:
                            yield session
                        except BaseException:
                            await self._roll_back(session)
                            raise
                        await session.commit()
                else:
                    async with context.db()._in_transaction() as client:
                        yield _PostgresSession(client)
            except _DB_ERRORS as err:
                raise DatabaseUnavailable(f"recorder database {self.name} unavailable: {err}") from err

    @staticmethod
    async def _roll_back(session: SqliteSession) -> None:
        """Roll back after an error, which is what the caller hears about: a connection cut by `abort()` (or
        broken by that error) cannot roll back and needs not, since closing it drops the transaction."""
        try:
            await session.rollback()
        except (sqlite3.Error, OSError, ValueError) as err:  # aiosqlite: ValueError("Connection closed")
            _LOGGER.debug("Rolling back on the recorder database: %s", err)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """One read outside a transaction of ours."""
        context = self._context
        if context is None:
            raise DatabaseUnavailable(f"the recorder database {self.name} is not open")
        with _active(context):
            try:
                if self.dialect == "sqlite" and sql.lstrip()[:6].upper() == "SELECT":
                    return await _sqlite_select(context.db(), sql, params)
                return await _query(context.db(), _numbered(sql) if self.dialect == "postgres" else sql, params)
            except _DB_ERRORS as err:
                raise DatabaseUnavailable(f"recorder database {self.name} unavailable: {err}") from err

    async def execute_script(self, sql: str) -> None:
        """A statement that must run outside a transaction (`VACUUM`, `PRAGMA incremental_vacuum`)."""
        context = self._context
        if context is None:
            raise DatabaseUnavailable(f"the recorder database {self.name} is not open")
        with _active(context):
            try:
                await context.db().execute_script(sql)
            except _DB_ERRORS as err:
                raise DatabaseUnavailable(f"recorder database {self.name} unavailable: {err}") from err
