"""Spread scheduler on the FakeClock: even stable offsets, skipped overruns, timeouts, backoff, isolation."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from hub.backoff import Backoff
from hub.core import clock
from hub.core.clock import FakeClock
from hub.health import FAILING_AFTER, Health, HealthRegistry, HealthStatus
from hub.scheduler import MAX_JITTER, Poller, PollerSpec, spread_offsets


@pytest.fixture
def health() -> Health:
    return HealthRegistry().create("demo", "integration")


def _wall() -> float:
    return clock.utcnow().timestamp()


def _phase(times: list[float], interval: float) -> list[float]:
    return [t % interval for t in times]


@asynccontextmanager
async def running(poller: Poller, fake_clock: FakeClock) -> AsyncIterator[Poller]:
    task = asyncio.create_task(poller.run())
    await fake_clock.advance(0)  # let it reach its first sleep
    try:
        yield poller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _recording(times: list[float], body: Callable[[], Awaitable[None]] | None = None) -> Callable[[], Awaitable[None]]:
    async def poll() -> None:
        times.append(_wall())
        if body is not None:
            await body()

    return poll


# Offsets


def test_ten_pollers_with_one_interval_are_spread_evenly_over_it() -> None:
    specs = [PollerSpec(f"integration_{n}", 10.0, 5.0) for n in range(10)]
    offsets = spread_offsets(specs)
    assert set(offsets) == {spec.key for spec in specs}
    assert all(0 <= offset < 10 for offset in offsets.values())
    ordered = sorted(offsets.values())
    gaps = [b - a for a, b in itertools.pairwise(ordered)] + [ordered[0] + 10 - ordered[-1]]
    assert gaps == pytest.approx([1.0] * 10)


def test_offsets_are_stable_across_restarts_and_independent_per_interval() -> None:
    specs = [PollerSpec(f"p{n}", 30.0, 10.0) for n in range(4)]
    first = spread_offsets(specs)
    assert spread_offsets(list(reversed(specs))) == first
    with_others = spread_offsets([*specs, PollerSpec("fast", 5.0, 1.0), PollerSpec("slow", 300.0, 30.0)])
    assert {key: with_others[key] for key in first} == first
    assert 0 <= with_others["fast"] < 5


def test_offsets_survive_a_process_restart() -> None:
    # A new interpreter has a new str-hash seed: offsets must not depend on it.
    code = (
        "import json; from hub.scheduler import PollerSpec, spread_offsets; "
        "print(json.dumps(spread_offsets([PollerSpec(f'p{n}', 10.0, 5.0) for n in range(5)])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(result.stdout) == spread_offsets([PollerSpec(f"p{n}", 10.0, 5.0) for n in range(5)])


def test_a_single_poller_gets_a_stable_phase_of_its_own() -> None:
    one = spread_offsets([PollerSpec("solo", 60.0, 10.0)])
    assert one == spread_offsets([PollerSpec("solo", 60.0, 10.0)])
    assert 0 <= one["solo"] < 60


def test_next_tick_is_strictly_after_now() -> None:
    poller = Poller(PollerSpec("x", 10.0, 5.0), 3.0, _recording([]), HealthRegistry().create("x", "integration"))
    assert poller.next_tick(100.0) == 103.0
    assert poller.next_tick(103.0) == 113.0
    assert poller.next_tick(112.9) == 113.0


# Ticking


async def test_polls_land_on_their_offset_with_bounded_jitter(fake_clock: FakeClock, health: Health) -> None:
    times: list[float] = []
    poller = Poller(PollerSpec("demo", 10.0, 5.0), 4.0, _recording(times), health)
    async with running(poller, fake_clock):
        await fake_clock.advance(100)
    assert len(times) == 10
    jitter = min(MAX_JITTER, 10.0 * 0.02)
    assert all(4.0 <= phase <= 4.0 + jitter for phase in _phase(times, 10.0))
    assert health.success_count == 10
    assert health.status is HealthStatus.ok


async def test_ten_pollers_tick_one_second_apart(fake_clock: FakeClock) -> None:
    registry = HealthRegistry()
    specs = [PollerSpec(f"p{n}", 10.0, 5.0) for n in range(10)]
    offsets = spread_offsets(specs)
    starts: dict[str, list[float]] = {spec.key: [] for spec in specs}
    pollers = [
        Poller(spec, offsets[spec.key], _recording(starts[spec.key]), registry.create(spec.key, "integration"))
        for spec in specs
    ]
    tasks = [asyncio.create_task(poller.run()) for poller in pollers]
    await fake_clock.advance(0)
    await fake_clock.advance(30)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    first_round = sorted(times[0] % 10 for times in starts.values())
    gaps = [b - a for a, b in itertools.pairwise(first_round)]
    assert all(0.8 <= gap <= 1.2 for gap in gaps)  # one second apart, give or take the 0.2 s jitter
    assert all(len(times) == 3 for times in starts.values())


async def test_an_overrun_skips_ticks_and_counts_them_never_queues(fake_clock: FakeClock, health: Health) -> None:
    times: list[float] = []
    slow = {"on": True}

    async def body() -> None:
        if slow["on"]:
            slow["on"] = False
            await clock.sleep(25)  # two and a half intervals

    poller = Poller(PollerSpec("demo", 10.0, 60.0), 0.0, _recording(times, body), health)
    async with running(poller, fake_clock):
        await fake_clock.advance(61)
    # Polls at 10 (runs to 35; the ticks at 20 and 30 are skipped), then 40, 50, 60: no burst at 35.
    rounded = [round(t - times[0]) for t in times]
    assert rounded == [0, 30, 40, 50]
    assert health.skipped == 2
    assert health.success_count == 4


async def test_request_polls_now_and_coalesces(fake_clock: FakeClock, health: Health) -> None:
    times: list[float] = []
    poller = Poller(PollerSpec("demo", 60.0, 5.0), 30.0, _recording(times), health)
    async with running(poller, fake_clock):
        await fake_clock.advance(1)
        start = _wall()
        poller.request()
        poller.request()
        await fake_clock.advance(0)
        assert [round(t - start) for t in times] == [0]
        await fake_clock.advance(1)
        assert len(times) == 1


# Failures


async def test_backoff_grows_exponentially_to_a_cap_then_recovers_on_first_success(
    fake_clock: FakeClock, health: Health
) -> None:
    times: list[float] = []
    failing = {"on": True}

    async def body() -> None:
        if failing["on"]:
            raise ConnectionError("daemon unreachable")

    backoff = Backoff(initial=10.0, factor=2.0, cap=80.0, jitter=0.0)
    poller = Poller(PollerSpec("demo", 10.0, 5.0), 0.0, _recording(times, body), health, backoff=backoff)
    async with running(poller, fake_clock):
        await fake_clock.advance(400)
        gaps = [round(b - a) for a, b in itertools.pairwise(times)]
        # After failure n the next poll waits for the first tick at least 10 * 2^(n-1) s later, capped at 80.
        assert gaps[:5] == [20, 30, 50, 90, 90]
        assert health.status is HealthStatus.failing
        assert health.last_error == "daemon unreachable"
        failing["on"] = False
        before = len(times)
        await fake_clock.advance(200)
    recovered = times[before:]
    assert health.status is HealthStatus.ok
    assert health.consecutive_errors == 0
    # The first success restores the normal rhythm: one poll per interval from then on.
    assert [round(b - a) for a, b in itertools.pairwise(recovered)] == [10] * (len(recovered) - 1)


async def test_timeout_cancels_the_poll_counts_it_and_calls_back() -> None:
    health = HealthRegistry().create("demo", "integration")
    cancelled = asyncio.Event()
    timeouts: list[float] = []

    async def hang() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    poller = Poller(
        PollerSpec("demo", 0.5, 0.05), 0.0, hang, health, on_timeout=lambda: timeouts.append(clock.monotonic())
    )
    task = asyncio.create_task(poller.run())
    await asyncio.wait_for(cancelled.wait(), 5)
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert health.timeouts == 1
    assert len(timeouts) == 1
    assert health.last_error == "timed out after 0.05s"
    assert health.status is HealthStatus.degraded


async def test_a_raising_or_hanging_poller_never_delays_another() -> None:
    registry = HealthRegistry()
    good: list[float] = []

    async def record() -> None:
        good.append(clock.monotonic())

    async def boom() -> None:
        raise RuntimeError("boom")

    async def hang() -> None:
        await asyncio.Event().wait()

    def blocked_thread() -> None:
        import time

        time.sleep(0.3)

    async def hang_in_thread() -> None:
        await asyncio.to_thread(blocked_thread)

    pollers = [
        Poller(PollerSpec("good", 0.1, 0.05), 0.0, record, registry.create("good", "integration")),
        Poller(PollerSpec("boom", 0.1, 0.05), 0.0, boom, registry.create("boom", "integration")),
        Poller(PollerSpec("hang", 0.1, 0.05), 0.0, hang, registry.create("hang", "integration")),
        Poller(PollerSpec("thread", 0.1, 0.05), 0.0, hang_in_thread, registry.create("thread", "integration")),
    ]
    tasks = [asyncio.create_task(poller.run()) for poller in pollers]
    await asyncio.sleep(1.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    gaps = [b - a for a, b in itertools.pairwise(good)]
    assert len(good) >= 7
    # Ticks every 0.1 s (+2 ms jitter) while the others fail, hang and time out; the slack is for a busy host.
    assert max(gaps) < 0.35
    status = {health.name: health.status for health in registry}
    assert status["good"] is HealthStatus.ok
    assert status["boom"] is HealthStatus.failing
    assert status["hang"] is not HealthStatus.ok
    assert status["thread"] is not HealthStatus.ok


# Health


def test_health_goes_degraded_then_failing_then_ok_logging_transitions_only(caplog: pytest.LogCaptureFixture) -> None:
    registry = HealthRegistry()
    seen: list[tuple[HealthStatus, bool]] = []
    registry.listen(lambda health, changed: seen.append((health.status, changed)))
    health = registry.create("demo", "integration")
    with caplog.at_level(logging.DEBUG, logger="hub.health"):
        for _ in range(FAILING_AFTER + 1):
            health.failure("refused", 0.5)
        health.success(0.1)
        health.success(0.1)
    assert seen == [
        (HealthStatus.degraded, True),
        (HealthStatus.degraded, False),
        (HealthStatus.failing, True),
        (HealthStatus.failing, False),
        (HealthStatus.ok, True),
        (HealthStatus.ok, False),
    ]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.getMessage() for r in errors] == ["integration demo failed: refused"]
    assert [r.getMessage() for r in infos] == ["integration demo recovered after 4 errors"]
    assert health.error_count == 4
    assert health.success_count == 2
    assert health.last_duration == 0.1
    assert health.mean_duration is not None
    assert 0.1 < health.mean_duration < 0.5
    assert health.as_dict()["status"] == "ok"


def test_fail_now_is_failing_at_once() -> None:
    health = HealthRegistry().create("redis", "sink")
    health.fail_now("connection refused")
    assert health.status is HealthStatus.failing
    assert health.consecutive_errors == 1
