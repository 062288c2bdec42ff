"""A client that reads slower than states change: entity updates conflate, other messages hit a hard bound."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from hub.api.keys import CONNECTIONS
from hub.config.models import HttpConfig
from tests.api.apitools import Api, apply_entity_event, settings_for, ws_login

ENTITIES = 100
BIG = "x" * 8192  # large frames fill the socket buffers quickly, so the writer really waits on the client


@pytest.fixture
def http_settings(tmp_path: Path) -> HttpConfig:
    return settings_for(tmp_path, ws_max_pending=64)


async def test_entity_updates_conflate_and_end_exact(api: Api) -> None:
    states = api.core.states
    for i in range(ENTITIES):
        states.set(f"sensor.e{i}", "0")
    client = await ws_login(api)
    await client.command({"id": 1, "type": "subscribe_entities"})
    entities: dict[str, dict[str, Any]] = {}
    apply_entity_event(entities, (await client.receive())["event"])
    assert len(entities) == ENTITIES
    (connection,) = list(api.app[CONNECTIONS])
    stream = connection.streams[1]
    for round_ in range(1, 60):
        for i in range(ENTITIES):
            states.set(f"sensor.e{i}", str(round_), {"pad": BIG, "round": round_})
        await asyncio.sleep(0)
        assert len(stream) <= ENTITIES
        assert connection.backlog() <= ENTITIES
    assert stream.conflated > 0, "the client kept up: the test did not exercise conflation"
    states.remove("sensor.e0")
    while len(entities) != ENTITIES - 1 or any(e["s"] != "59" for e in entities.values()):
        apply_entity_event(entities, (await client.receive(timeout=10))["event"])
    expected = {s.entity_id: {"s": s.state, "a": dict(s.attributes)} for s in states.all()}
    assert entities == expected
    assert len(api.app[CONNECTIONS]) == 1


async def test_unbounded_backlog_disconnects_with_a_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "hub.api")
    client = await ws_login(api)
    await client.command({"id": 1, "type": "subscribe_events", "event_type": "flood"})
    for _ in range(2000):
        api.core.bus.fire("flood", {"pad": BIG})
        await asyncio.sleep(0)
        if not len(api.app[CONNECTIONS]):
            break
    for _ in range(100):
        if not len(api.app[CONNECTIONS]):
            break
        await asyncio.sleep(0.05)
    assert len(api.app[CONNECTIONS]) == 0
    assert api.app[CONNECTIONS].disconnected_slow == 1
    lines = [r.getMessage() for r in caplog.records if "unable to keep up" in r.getMessage()]
    assert len(lines) == 1
    assert "127.0.0.1 (test, " in lines[0]


async def test_client_that_stops_reading_is_cut_off_after_the_send_timeout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import timedelta

    import aiohttp
    from aiohttp.test_utils import TestServer

    from hub.api import make_app
    from hub.api.tokens import TokenStore
    from hub.core import Core
    from tests.api.apitools import Control, WsClient

    caplog.set_level(logging.WARNING, "hub.api")
    core = Core("nas")
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("slow")
    settings = settings_for(tmp_path, ws_send_timeout=timedelta(seconds=0.5))
    app = make_app(core, Control(), settings, tokens, hub_version="0")  # type: ignore[arg-type]
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        client = WsClient(await session.ws_connect(str(server.make_url("/api/websocket"))))
        await client.receive()
        await client.send({"type": "auth", "access_token": token})
        await client.receive()
        await client.command({"id": 1, "type": "subscribe_entities"})
        await client.receive()
        for round_ in range(400):
            for i in range(20):
                core.states.set(f"sensor.e{i}", str(round_), {"pad": BIG + str(round_)})
            await asyncio.sleep(0.01)
            if not len(app[CONNECTIONS]):
                break
        assert len(app[CONNECTIONS]) == 0
        assert app[CONNECTIONS].disconnected_slow == 1
        assert any("read nothing for 0.5 s" in r.getMessage() for r in caplog.records)
    await server.close()
