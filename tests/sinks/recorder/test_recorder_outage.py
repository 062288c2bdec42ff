"""Database away for 10 s (SQLite locked, PostgreSQL's connection cut) or PostgreSQL silent, then back: nothing lost."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

from hub.backoff import set_testing
from hub.core import Core
from tests.fixtures.ports import free_port
from tests.sinks.recorder.recorder_helpers import count, running

OUTAGE_S = 10.0


class _Proxy:
    """A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones refused) and mend."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    def stall(self) -> None:
        """Keep every connection open but pass nothing either way: a server that accepts and never answers."""
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._flowing.wait()
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    await self._flowing.wait()
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@asynccontextmanager
async def _outage_control(db_url: str) -> AsyncIterator[tuple[str, object]]:
    if db_url.startswith("sqlite"):
        path = urlsplit(db_url).path
        holder = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)

        async def down() -> None:
            await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")

        async def up() -> None:
            await asyncio.to_thread(holder.execute, "ROLLBACK")

        yield db_url, (down, up)
        holder.close()
        return
    parts = urlsplit(db_url)
    proxy = _Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    yield proxied, (proxy.cut, proxy.start)


@pytest.fixture(autouse=True)
def real_backoff() -> object:
    set_testing(False)  # real delays: the outage is measured in real seconds
    yield
    set_testing(False)


async def test_database_away_then_back_loses_nothing(db_url: str) -> None:
    core = Core("lab")
    async with (
        _outage_control(db_url) as (url, (down, up)),  # type: ignore[misc]
        running(url, core, commit_interval="100ms") as recorder,
    ):
        core.states.set("sensor.lab_seq", "-1")
        await recorder.writer.write_pending()
        await down()
        loop = asyncio.get_running_loop()
        ends = loop.time() + OUTAGE_S
        written = 0
        while loop.time() < ends:
            core.states.set("sensor.lab_seq", str(written))
            written += 1
            await asyncio.sleep(0.05)
        assert recorder.writer.pending > 0
        assert recorder._health.error_count > 0
        await up()
        deadline = loop.time() + 40
        while recorder.writer.pending and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert recorder.writer.pending == 0
        stored = await count(
            recorder,
            "states",
            "WHERE metadata_id = (SELECT metadata_id FROM states_meta WHERE entity_id = 'sensor.lab_seq')",
        )
        assert stored == written + 1
        assert recorder.writer.dropped == 0
        assert recorder._health.status.value == "ok"


async def test_silent_database_times_out_and_is_retried(postgres_url: str) -> None:
    """A PostgreSQL that accepts connections and never answers: each commit fails after `commit_timeout` and is
    retried (the writer neither hangs nor dies); once it answers again everything buffered is written."""
    parts = urlsplit(postgres_url)
    proxy = _Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    core = Core("lab")
    async with running(url, core, commit_interval="100ms", commit_timeout="1s") as recorder:
        await recorder.writer.write_pending()
        base = await count(recorder, "states")
        proxy.stall()
        for value in range(20):
            core.states.set("sensor.lab_silent", str(value))
            await asyncio.sleep(0.25)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while recorder._health.error_count < 2 and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert recorder._health.error_count >= 2, "the writer stopped retrying a silent database"
        assert "no answer within 1 s" in (recorder._health.last_error or "")
        assert recorder.writer.pending > 0
        proxy.flow()
        deadline = loop.time() + 60
        while recorder.writer.pending and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert recorder.writer.pending == 0
        assert await count(recorder, "states") == base + 20
        assert recorder._health.status.value == "ok"
    await proxy.cut()
