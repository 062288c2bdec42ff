"""The hub's lifecycle as Home Assistant's clients expect it, on fake time: STARTING until every integration gave
its first reading (a slow one holds it, a hanging one at most for its timeout, a failing one not at all), then
RUNNING; STOPPING, FINAL_WRITE, NOT_RUNNING and STOPPED on the way out, each with its event."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.core import MATCH_ALL, CoreState, Event, EventBus, Lifecycle
from hub.core.clock import FakeClock
from hub.runtime import Hub
from tests.fixtures.gated import Gate, Gated
from tests.fixtures.ports import free_port

TIMEOUT = 30.0
PORT_VARIABLE = "HUB_LIFECYCLE_TEST_PORT"


@pytest.fixture
def fake(fake_clock: FakeClock) -> FakeClock:
    Gate.reset()
    return fake_clock


def test_states_in_order_each_with_its_event() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.listen(MATCH_ALL, lambda event: seen.append(event.event_type))
    lifecycle = Lifecycle(bus)
    assert lifecycle.state == "NOT_RUNNING"
    with pytest.raises(RuntimeError, match="from NOT_RUNNING to RUNNING"):
        lifecycle.advance(CoreState.running)
    for state in ("STARTING", "RUNNING", "STOPPING", "FINAL_WRITE", "NOT_RUNNING", "STOPPED"):
        lifecycle.advance(CoreState(state))
        assert lifecycle.state == state
    assert seen == [
        "homeassistant_start",
        "homeassistant_started",
        "homeassistant_stop",
        "homeassistant_final_write",
        "homeassistant_close",
    ]
    with pytest.raises(RuntimeError):
        lifecycle.advance(CoreState.final_write)


class Running:
    """A hub started in a task, so a test can look at it while it is STARTING."""

    def __init__(self, hub: Hub, port: int) -> None:
        self.hub = hub
        self.url = f"http://127.0.0.1:{port}"
        self.events: list[str] = []
        hub.core.bus.listen(MATCH_ALL, self._seen)
        self.up = asyncio.Event()
        self.stop = asyncio.Event()
        self.token = ""

    def _seen(self, event: Event[Any]) -> None:
        if event.event_type.startswith("homeassistant_"):
            self.events.append(f"{event.event_type} {self.hub.core.lifecycle.state}")

    async def run(self) -> None:
        async with self.hub.lifespan():
            self.up.set()
            await self.stop.wait()

    async def api_state(self) -> str:
        async with aiohttp.ClientSession() as session, session.get(f"{self.url}/api/hub/health") as response:
            return str((await response.json())["state"])


@asynccontextmanager
async def starting(tmp_path: Path, timeout: float = TIMEOUT) -> AsyncIterator[Running]:
    port = free_port()
    os.environ[PORT_VARIABLE] = str(port)  # as the container image sets its port: `homelab-hub health` reads it too
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: lc\n  data_dir: {tmp_path / 'data'}\n"
        f"  http: {{host: 0.0.0.0, port: !env_var {PORT_VARIABLE} 8130}}\n"
        f"integrations:\n  - platform: gated\n    timeout: {timeout}s\n"
    )
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("test")
    tokens.save()
    available = {"gated": Gated}
    running = Running(Hub(load_config(tmp_path, available), available), port)
    running.token = token
    task = asyncio.create_task(running.run())
    try:
        while running.hub.core.lifecycle.state is CoreState.not_running or not await _answers(running):
            await asyncio.sleep(0.01)
        yield running
    finally:
        running.stop.set()
        await asyncio.wait_for(task, 30)


async def _health_command(config: Path) -> tuple[int, str]:
    """`homelab-hub health -c config` as the container runs it: its exit code and what it printed."""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub", "health", "-c", str(config), "--timeout", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode, done.stdout.strip()


async def _answers(running: Running) -> bool:
    try:
        await running.api_state()
    except aiohttp.ClientError:
        return False
    return True


async def test_a_slow_first_poll_holds_starting_until_it_ends(
    tmp_path: Path, fake: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "hub.runtime")
    async with starting(tmp_path) as running:
        await fake.advance(TIMEOUT)  # however long, short of the bound: the poll has not ended
        assert await running.api_state() == "STARTING"  # the API answers from STARTING on, as HA's does
        assert await _health_command(tmp_path) == (1, "STARTING")
        assert not running.up.is_set()
        Gate.release.set()
        await asyncio.wait_for(running.up.wait(), 5)
        assert running.hub.core.lifecycle.state is CoreState.running
        assert await running.api_state() == "RUNNING"
        assert await _health_command(tmp_path) == (0, "RUNNING")
        assert running.hub.core.states.get("sensor.lc_gated_value").state == "42.0"  # type: ignore[union-attr]
        assert running.events == ["homeassistant_start STARTING", "homeassistant_started RUNNING"]
    assert (await _health_command(tmp_path))[0] == 1  # stopped: nothing answers
    assert running.events[2:] == [
        "homeassistant_stop STOPPING",
        "homeassistant_final_write FINAL_WRITE",
        "homeassistant_close NOT_RUNNING",
    ]
    assert running.hub.core.lifecycle.state is CoreState.stopped
    started = [r.getMessage() for r in caplog.records if "started in" in r.getMessage()]
    assert len(started) == 1
    assert "slowest integration gated" in started[0]


async def test_a_hanging_first_poll_holds_starting_only_until_its_bound(
    tmp_path: Path, fake: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    Gate.reset("hang")
    try:
        async with starting(tmp_path, timeout=5) as running:
            await fake.advance(9.9)
            assert await running.api_state() == "STARTING"
            await fake.advance(0.2)  # past twice the poll timeout: to open, then to poll
            await asyncio.wait_for(running.up.wait(), 5)
            assert await running.api_state() == "RUNNING"
    finally:
        Gate.reset()
    assert "gated gave no first reading in time: running without it" in caplog.text


async def test_a_failing_first_poll_lets_the_hub_run(tmp_path: Path, fake: FakeClock) -> None:
    Gate.reset("fail")
    try:
        async with starting(tmp_path) as running:
            await asyncio.wait_for(running.up.wait(), 5)  # no fake time passed: the failure ended the first poll
            assert await running.api_state() == "RUNNING"
            health = {h.name: h for h in running.hub.health}["gated"]
            assert health.last_error == "the gated daemon is down"
    finally:
        Gate.reset()


async def test_stop_reaches_websocket_subscribers_before_a_clean_close(tmp_path: Path, fake: FakeClock) -> None:
    Gate.release.set()
    async with starting(tmp_path) as running:
        await asyncio.wait_for(running.up.wait(), 5)
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"{running.url}/api/websocket")
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": running.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json({"id": 1, "type": "get_config"})
            assert (await ws.receive_json())["result"]["state"] == "RUNNING"
            await ws.send_json({"id": 2, "type": "subscribe_events"})
            assert (await ws.receive_json())["success"]
            running.stop.set()  # as SIGTERM does
            received = []
            async for message in ws:
                data = message.json()
                for item in data if isinstance(data, list) else [data]:
                    received.append(item["event"]["event_type"])
            assert ws.close_code == 1001  # going away: clients reconnect
    lifecycle = [event for event in received if event.startswith("homeassistant_")]
    assert lifecycle == ["homeassistant_stop", "homeassistant_final_write"]
