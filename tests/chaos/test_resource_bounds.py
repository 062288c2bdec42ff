"""Memory and latency bounds of a real hub under 1,000 clients that never read, 10 MB frames and 10,000 entities."""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
import pytest

from tests.chaos.chaostools import HubProcess, LoadDriver, PingMonitor, unexpected_errors

SILENT_CLIENTS = 1000
SILENT_RATE = 20
"""Changes/s while the silent clients hold on. Every subscription reads one shared log of changes and each
connection gets at most a frame per 20 ms, so 1,000 subscribers cost the hub a few frames per loop turn, not one
per change each: on a quiet machine ~180-200 changes/s are sustained with pings p99 under 160 ms (was 5 changes/s
before the shared log); 20 leaves room for a busy CI machine (docs/reliability.md has the figures)."""
RSS_BOUND_MB = 200
"""What the hub may use through every test here (it starts near 60 MB): stated in docs/reliability.md."""
PING_P99 = 0.25
PING_WORST = 1.0
"""A normal client's ping round trip while others misbehave: 99 % within 250 ms, none past a second (on a
shared two-core machine a single spike past 250 ms comes from neighbours as often as from the hub)."""


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= 3 * SILENT_CLIENTS, f"ulimit -n is {soft}: each silent client costs a socket on both sides"
    process = HubProcess(tmp_path)
    process.start()
    yield process
    process.kill()


def _rss_mb(hub: HubProcess) -> float:
    assert hub.process is not None
    return float(psutil.Process(hub.process.pid).memory_info().rss) / 2**20


def _pings(monitor: PingMonitor) -> str:
    return f"ping p99 {monitor.p99 * 1000:.0f} ms, worst {monitor.worst * 1000:.0f} ms"


def _assert_pings(monitor: PingMonitor) -> None:
    assert not monitor.failures, monitor.failures
    assert monitor.p99 < PING_P99, f"ping p99 {monitor.p99 * 1000:.0f} ms"
    assert monitor.worst < PING_WORST, f"worst ping {monitor.worst * 1000:.0f} ms"


async def _silent_clients(
    hub: HubProcess, count: int
) -> tuple[aiohttp.ClientSession, list[aiohttp.ClientWebSocketResponse]]:
    """Clients that log in, subscribe to every entity (as a dashboard does), then never read again.

    aiohttp stops reading a socket once 64 KiB wait unread, so the hub's writes back up as from a stalled client.
    """
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def one() -> None:
        ws = await session.ws_connect(hub.ws_url)
        await ws.receive_json(timeout=30)
        await ws.send_json({"type": "auth", "access_token": hub.token})
        await ws.send_json({"id": 1, "type": "subscribe_entities"})
        sockets.append(ws)

    for start in range(0, count, 100):
        await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    return session, sockets


def test_a_thousand_clients_that_never_read(hub: HubProcess) -> None:
    async def scenario() -> tuple[PingMonitor, LoadDriver, float]:
        session, sockets = await _silent_clients(hub, SILENT_CLIENTS)
        await asyncio.sleep(1)  # the last logins' initial entity maps go out first
        with PingMonitor(hub) as monitor, LoadDriver(hub, SILENT_RATE, workers=4) as load:
            await asyncio.sleep(10)
        peak = _rss_mb(hub)
        for ws in sockets:
            ws._response.close()  # drop the socket: a graceful close would read what they never did
        await session.close()
        return monitor, load, peak

    monitor, load, peak = asyncio.run(scenario())
    print(f"{SILENT_CLIENTS} silent clients under {load.rate:.0f} changes/s: RSS {peak:.0f} MB, {_pings(monitor)}")
    _assert_pings(monitor)
    assert load.rate > 0.8 * SILENT_RATE, "state writes stalled"
    assert peak < RSS_BOUND_MB
    assert not unexpected_errors(hub.log()), "\n".join(unexpected_errors(hub.log()))


async def _big_frames(hub: HubProcess, clients: int, size: int) -> list[int | None]:
    async def one(session: aiohttp.ClientSession) -> int | None:
        ws = await session.ws_connect(hub.ws_url)
        await ws.receive_json(timeout=10)
        await ws.send_json({"type": "auth", "access_token": hub.token})
        await ws.receive_json(timeout=10)
        try:
            await ws.send_str('{"id": 1, "type": "ping", "x": "' + "x" * size + '"}')
            message = await ws.receive(timeout=30)
        except ConnectionError:
            return ws.close_code or aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return ws.close_code

    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(one(session) for _ in range(clients)))


def test_clients_sending_10_mb_frames(hub: HubProcess) -> None:
    with PingMonitor(hub) as monitor:
        codes = asyncio.run(_big_frames(hub, 20, 10 * 2**20))
    assert set(codes) == {aiohttp.WSCloseCode.MESSAGE_TOO_BIG}
    _assert_pings(monitor)
    peak = _rss_mb(hub)
    print(f"20 clients x 10 MB frames: RSS {peak:.0f} MB, {_pings(monitor)}")
    assert peak < RSS_BOUND_MB


async def _many_entities(hub: HubProcess, count: int) -> None:
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector, headers=hub.headers) as session:

        async def one(index: int) -> None:
            body = {"state": str(index), "attributes": {"unit_of_measurement": "W", "friendly_name": f"burst {index}"}}
            async with session.post(f"{hub.url}/api/states/sensor.burst_{index}", json=body) as answer:
                assert answer.status == 201

        await asyncio.gather(*(one(i) for i in range(count)))


def test_ten_thousand_entities_at_once(hub: HubProcess) -> None:
    with PingMonitor(hub) as monitor:
        asyncio.run(_many_entities(hub, 10_000))
    assert len(hub.get("/api/states")) >= 10_000
    peak = _rss_mb(hub)
    print(f"10,000 new entities: RSS {peak:.0f} MB, {_pings(monitor)}")
    _assert_pings(monitor)
    assert peak < RSS_BOUND_MB
