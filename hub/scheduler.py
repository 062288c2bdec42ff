"""Spread timers: each poller ticks at its own stable phase with jitter, skips overruns, backs off on errors."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from hub.core import clock

from .backoff import Backoff
from .health import Health

__all__ = ["Poller", "PollerSpec", "spread_offsets"]

MAX_JITTER = 1.0
"""Seconds; jitter is 2% of the interval up to this, so neighbours never collide yet phases hold."""


@dataclass(frozen=True, slots=True)
class PollerSpec:
    key: str
    interval: float
    timeout: float


def _stable_fraction(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def spread_offsets(specs: Iterable[PollerSpec]) -> dict[str, float]:
    """Offsets within each interval: pollers sharing an interval are spaced evenly, in a stable order.

    The order and the group's base phase come from hashes of the keys and the interval, so a restart with
    the same config keeps every phase, and ten pollers at 10 s tick one second apart (DESIGN 4).
    """
    groups: dict[float, list[str]] = {}
    for spec in specs:
        groups.setdefault(spec.interval, []).append(spec.key)
    offsets: dict[str, float] = {}
    for interval, keys in groups.items():
        base = _stable_fraction(f"interval:{interval}")
        ordered = sorted(keys, key=lambda k: (_stable_fraction(k), k))
        for index, key in enumerate(ordered):
            offsets[key] = ((base + index / len(ordered)) % 1.0) * interval
    return offsets


class Poller:
    """Runs `poll` at wall-clock times `k * interval + offset` (+ jitter) until cancelled.

    A poll longer than `timeout` is cancelled and counted; ticks that pass while a poll runs are skipped
    and counted, never queued; after failures the next poll waits out an exponential backoff (capped),
    and the first success restores the normal rhythm. `request()` asks for a poll now.
    """

    def __init__(
        self,
        spec: PollerSpec,
        offset: float,
        poll: Callable[[], Awaitable[None]],
        health: Health,
        *,
        backoff: Backoff | None = None,
        on_timeout: Callable[[], None] | None = None,
    ) -> None:
        self.spec = spec
        self.offset = offset
        self._poll = poll
        self._on_timeout = on_timeout
        self._health = health
        self._backoff = backoff or Backoff(initial=spec.interval, cap=max(spec.interval, 300.0))
        self._jitter = min(MAX_JITTER, spec.interval * 0.02)
        self._wake = asyncio.Event()
        self._started_wall = 0.0
        self.polls = 0

    def request(self) -> None:
        """Poll as soon as the current poll (if any) ends; several requests make one poll."""
        self._wake.set()

    def next_tick(self, now_wall: float) -> float:
        """The first scheduled wall time strictly after `now_wall`."""
        interval = self.spec.interval
        k = math.floor((now_wall - self.offset) / interval) + 1
        return k * interval + self.offset

    async def run(self) -> None:
        due = self.next_tick(_wall())
        while True:
            delay = due - _wall() + random.uniform(0, self._jitter)
            await clock.sleep_or_wake(delay, self._wake)
            self._wake.clear()
            ok = await self._poll_once()
            now = _wall()
            due = self.next_tick(now)
            if not ok:
                due = max(due, self.next_tick(now + self._backoff.delay(self._health.consecutive_errors)))
            self._count_skipped(now)

    async def _poll_once(self) -> bool:
        started = clock.monotonic()
        self.polls += 1
        self._started_wall = _wall()
        try:
            async with asyncio.timeout(self.spec.timeout):
                await self._poll()
        except TimeoutError:
            if self._on_timeout is not None:
                self._on_timeout()
            self._health.failure(f"timed out after {self.spec.timeout:g}s", clock.monotonic() - started, timeout=True)
            return False
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._health.failure(_describe(err), clock.monotonic() - started)
            return False
        self._health.success(clock.monotonic() - started)
        return True

    def _count_skipped(self, now_wall: float) -> None:
        missed = math.floor((now_wall - self._started_wall) / self.spec.interval)
        if missed > 0:
            self._health.skipped += missed


def _wall() -> float:
    return clock.utcnow().timestamp()


def _describe(err: BaseException) -> str:
    text = str(err)
    return text if text else type(err).__name__
