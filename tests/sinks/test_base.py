"""`reconnect_forever`, the connection loop of the Redis and MQTT sinks, on fake time: the backoff grows with each
failed attempt and starts over after a proven connection; an unexpected error is logged and retried, never the end
of the sink. (The sinks' own tests run it against real servers that go away and come back.)"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from hub.backoff import Backoff
from hub.core import clock
from hub.core.clock import FakeClock
from hub.health import HealthRegistry, HealthStatus
from hub.sinks.base import reconnect_forever

BACKOFF = Backoff(initial=1.0, factor=2.0, cap=60.0, jitter=0.0)


class Lost(Exception):
    """What the test's connection raises when it fails, as a sink's `lost` errors."""


async def _run_for(seconds: float, fake_clock: FakeClock, loop: asyncio.Task[None]) -> None:
    await asyncio.sleep(0)
    await fake_clock.advance(seconds)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def test_the_backoff_grows_and_starts_over_after_a_proven_connection(
    fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = ["refused", "refused", "refused", "proven"]
    attempts: list[float] = []
    reports: list[str] = []

    @asynccontextmanager
    async def connect() -> AsyncIterator[str]:
        attempts.append(clock.monotonic())
        if (outcomes.pop(0) if outcomes else "refused") == "refused":
            raise Lost("connection refused")
        yield "link"

    async def serve(link: str) -> None:
        raise Lost("connection dropped")

    health = HealthRegistry().create("test", "sink")
    caplog.set_level(logging.INFO, "hub.sinks.base")
    loop = asyncio.create_task(
        reconnect_forever(
            connect, serve, what="the test server", health=health, backoff=BACKOFF, lost=(Lost,), report=reports.append
        )
    )
    await _run_for(12, fake_clock, loop)
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert gaps == [1, 2, 4, 1, 2]  # refused three times, proven (then dropped), refused again from the start
    assert [str(report) for report in reports] == ["connection refused"] * 3 + ["connection dropped"] + [
        "connection refused"
    ] * 2
    assert "Connected to the test server again after 3 failed attempts" in caplog.messages


async def test_an_unexpected_error_is_logged_and_retried(
    fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    served = 0

    @asynccontextmanager
    async def connect() -> AsyncIterator[str]:
        yield "link"

    async def serve(link: str) -> None:
        nonlocal served
        served += 1
        raise ZeroDivisionError("a bug in the sink")

    health = HealthRegistry().create("test", "sink")
    loop = asyncio.create_task(
        reconnect_forever(
            connect, serve, what="the test server", health=health, backoff=BACKOFF, lost=(Lost,), report=print
        )
    )
    await _run_for(3.5, fake_clock, loop)
    assert served == 4  # at 0, 1, 2 and 3 s: still running after the first, each connection proven so 1 s apart
    assert health.last_error == "unexpected error: ZeroDivisionError"
    assert health.status is not HealthStatus.ok
    failures = [record for record in caplog.records if record.message == "Sink for the test server failed unexpectedly"]
    assert len(failures) == 4
    assert failures[0].exc_info is not None
