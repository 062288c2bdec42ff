"""`Pacer`: when a writer that sends to a slower peer (the MQTT broker, a WebSocket client) sends next.

Listeners call `wake()` for each change, never awaiting; the writer awaits `next()`, which returns once there is
something to send and at least `interval` after the previous send began, so the changes of several bursts go out
in one write. At 2,000 to 5,000 changes/s a send per burst (every few ms) was most of a sink's cost (bench/e2e/);
the wait adds at most `interval` to a change's latency.
"""

from __future__ import annotations

import asyncio

from hub.core import clock

__all__ = ["WRITE_INTERVAL", "Pacer"]

WRITE_INTERVAL = 0.02
"""Seconds from one write to the next at least, for every paced writer (a 250 ms latency budget end to end)."""


class Pacer:
    """One writer's wake-up: `wake()` from listeners, `next()` in the writer's loop."""

    def __init__(self, interval: float = WRITE_INTERVAL) -> None:
        self._interval = interval
        self._woken = asyncio.Event()
        self._sent_at = -interval

    def wake(self) -> None:
        self._woken.set()

    async def next(self, at_most: float | None = None) -> None:
        """Wait until woken, or until `at_most` seconds pass on the clock (a writer's own deadline), then out the
        pacing interval."""
        if at_most is None:
            await self._woken.wait()
        else:
            await clock.sleep_or_wake(at_most, self._woken)
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self._sent_at + self._interval - loop.time()))
        self._sent_at = loop.time()
        self._woken.clear()
