"""FakeClock: time moves only on `advance()`, sleepers wake in deadline order, `sleep_or_wake` wakes early."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hub.core import clock
from hub.core.clock import FakeClock, SystemClock, set_clock


@pytest.fixture
def fake() -> Iterator[FakeClock]:
    installed = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    set_clock(installed)
    yield installed
    set_clock(None)


async def test_time_stands_still_until_advanced(fake: FakeClock) -> None:
    mono, wall = clock.monotonic(), clock.utcnow()
    await asyncio.sleep(0.01)
    assert (clock.monotonic(), clock.utcnow()) == (mono, wall)
    await fake.advance(90)
    assert clock.monotonic() == mono + 90
    assert clock.utcnow() == wall + timedelta(seconds=90)
    assert clock.timestamp() == clock.utcnow().timestamp()


async def test_sleepers_wake_in_deadline_order_each_at_its_own_time(fake: FakeClock) -> None:
    woke: list[tuple[str, float]] = []
    start = clock.monotonic()

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic() - start))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("c", 30), ("a", 10), ("b", 20))]
    await fake.advance(0)
    await fake.advance(15)
    assert woke == [("a", 10)]
    await fake.advance(100)
    assert woke == [("a", 10), ("b", 20), ("c", 30)]
    await asyncio.gather(*tasks)


async def test_a_sleeper_that_sleeps_again_wakes_within_the_same_advance(fake: FakeClock) -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(3):
            await clock.sleep(10)
            ticks.append(clock.monotonic())

    task = asyncio.create_task(ticker())
    await fake.advance(0)
    await fake.advance(35)
    assert [t - ticks[0] for t in ticks] == [0, 10, 20]
    await task


async def test_sleep_or_wake_returns_on_the_event_before_the_deadline(fake: FakeClock) -> None:
    wake = asyncio.Event()
    task = asyncio.create_task(clock.sleep_or_wake(60, wake))
    await fake.advance(1)
    assert not task.done()
    wake.set()
    await asyncio.wait_for(task, 1)
    assert clock.monotonic() == 1001.0


async def test_sleep_or_wake_returns_at_the_deadline(fake: FakeClock) -> None:
    task = asyncio.create_task(clock.sleep_or_wake(5, asyncio.Event()))
    await fake.advance(0)  # let the task start sleeping: a sleep begins when it is reached, not when created
    await fake.advance(5)
    await asyncio.wait_for(task, 1)


async def test_set_clock_none_restores_real_time() -> None:
    set_clock(FakeClock())
    set_clock(None)
    assert isinstance(clock.get_clock(), SystemClock)
    assert abs(clock.utcnow().timestamp() - clock.timestamp()) < 1
    await clock.sleep(0)
