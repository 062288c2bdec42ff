"""The one seam for time: monotonic seconds, wall-clock UTC and sleeping, which tests drive."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

_T = TypeVar("_T")

__all__ = [
    "Clock",
    "FakeClock",
    "SystemClock",
    "get_clock",
    "monotonic",
    "set_clock",
    "sleep",
    "sleep_or_wake",
    "timestamp",
    "utcnow",
    "wait_for",
]


class Clock(Protocol):
    """What the hub asks of time."""

    def monotonic(self) -> float: ...

    def utcnow(self) -> datetime: ...

    def timestamp(self) -> float:
        """`utcnow()` as POSIX seconds, for hot paths that make the datetime only when it is read."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """Time that moves only when a test calls `advance()`; sleepers wake in deadline order."""

    def __init__(self, start: datetime | None = None) -> None:
        self._mono = 1000.0
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._mono

    def utcnow(self) -> datetime:
        return self._wall

    def timestamp(self) -> float:
        return self._wall.timestamp()

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + max(0.0, seconds), next(self._seq), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its deadline and letting it run before the next."""
        target = self._mono + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._step_to(deadline)
            if not future.done():
                future.set_result(None)
            await _settle()
        self._step_to(target)
        await _settle()

    def _step_to(self, mono: float) -> None:
        if mono > self._mono:
            self._wall += timedelta(seconds=mono - self._mono)
            self._mono = mono


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


_clock: Clock = SystemClock()


def set_clock(clock: Clock | None) -> None:
    """Install a clock (tests); `None` restores real time."""
    global _clock
    _clock = clock or SystemClock()


def get_clock() -> Clock:
    return _clock


def monotonic() -> float:
    return _clock.monotonic()


def utcnow() -> datetime:
    return _clock.utcnow()


def timestamp() -> float:
    return _clock.timestamp()


async def sleep(seconds: float) -> None:
    await _clock.sleep(seconds)


async def sleep_or_wake(seconds: float, wake: asyncio.Event) -> None:
    """Sleep on the installed clock until `seconds` pass or `wake` is set, whichever comes first."""
    if seconds <= 0 or wake.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await wait_for(wake.wait(), seconds)


async def wait_for(awaitable: Awaitable[_T], seconds: float) -> _T:
    """`awaitable`'s result, or `TimeoutError` once `seconds` pass on the installed clock (which tests drive)."""
    task = asyncio.ensure_future(awaitable)
    sleeper = asyncio.ensure_future(_clock.sleep(seconds))
    try:
        await asyncio.wait((task, sleeper), return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise TimeoutError
    finally:
        sleeper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
