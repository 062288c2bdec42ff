"""The e2e benchmark's hub: a synthetic push integration whose sensors' states are their write times.

Run by bench/e2e/ as a subprocess: .venv/bin/python -m bench.e2e.synthetic CONFIG_DIR

The `synthetic` integration (known only to this launcher, passed to `Hub` in its `available` mapping) owns
`entities` sensors. Its state text is the write time in integer microseconds since the epoch, unique across
all writes, so every sink's copy of a change carries the time `states.set` made it: each measuring client
computes its latency from the payload alone. The rate is set by the service `synthetic.set_rate`
(`{"rate": N}`, 0 pauses); its response counts what the step that just ended wrote, and the first and last
stamp, so the benchmark knows exactly which stamps each sink must deliver.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hub.cli import serve
from hub.config import load_config
from hub.config.validation import StrictModel
from hub.core import EntityDescription, ServiceCall
from hub.integration import Integration, IntegrationService
from hub.runtime import Hub

__all__ = ["Changes", "Synthetic", "SyntheticConfig", "main"]

_LOGGER = logging.getLogger(__name__)

TICK = 0.005
"""Seconds between bursts: at 20k changes/s a burst is 100 changes, as a busy push integration would report."""


class SyntheticConfig(StrictModel):
    entities: int = 1000


@dataclass(frozen=True, slots=True)
class Changes:
    """One burst: instance -> new state text (the write time in microseconds)."""

    values: Mapping[str, str]


def _instances(changes: Changes) -> Iterable[str]:
    return changes.values.keys()


def _value(changes: Changes, instance: str) -> str:
    return changes.values[instance]


async def _set_rate(integration: Synthetic, call: ServiceCall) -> Mapping[str, Any]:
    return integration.set_rate(int(call.data["rate"]))


class Synthetic(Integration[SyntheticConfig, Changes]):
    """Writes its sensors round-robin at the rate last set, in bursts every `TICK`, catching up when late."""

    domain: ClassVar[str] = "synthetic"
    config_model: ClassVar[type[StrictModel]] = SyntheticConfig
    entities: ClassVar[tuple[EntityDescription[Any], ...]] = (
        EntityDescription(key="s{instance}", name="Synthetic {instance}", value=_value, instances=_instances),
    )
    services: ClassVar[tuple[IntegrationService[Any], ...]] = (IntegrationService(name="set_rate", handler=_set_rate),)

    def __init__(self, ctx: Any, config: SyntheticConfig) -> None:
        super().__init__(ctx, config)
        self._names = [f"{i:04d}" for i in range(config.entities)]
        self._rate = 0
        self._step_start = 0.0
        self._written = 0
        self._first = 0
        self._last = 0
        self._next = 0
        self._lags: list[float] = []
        """How late each tick woke: the hub's event loop lag, the delay every sink's work queues behind."""

    def set_rate(self, rate: int) -> dict[str, Any]:
        """Start a step at `rate` changes/s; answer what the step before it wrote."""
        lags = sorted(self._lags) or [0.0]
        ended = {
            "accepted": self._written,
            "first": self._first,
            "last": self._last,
            "loop_lag_p99_ms": round(1000 * lags[int(0.99 * (len(lags) - 1))], 1),
            "loop_lag_max_ms": round(1000 * lags[-1], 1),
        }
        self._rate, self._step_start, self._written, self._first = rate, time.monotonic(), 0, 0
        self._lags.clear()
        return ended

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        self.ctx.report(Changes({name: str(self._stamp()) for name in self._names}))
        yield

    async def run(self) -> None:
        while True:
            asleep = time.monotonic()
            await asyncio.sleep(TICK)
            if self._rate:
                self._lags.append(time.monotonic() - asleep - TICK)
                self._burst()

    def _burst(self) -> None:
        due = int(self._rate * (time.monotonic() - self._step_start)) - self._written
        count = min(due, len(self._names))
        if count <= 0:
            return
        values: dict[str, str] = {}
        for _ in range(count):
            values[self._names[self._next]] = str(self._stamp())
            self._next = (self._next + 1) % len(self._names)
        self._first = self._first or int(next(iter(values.values())))
        self._written += count
        self.ctx.report(Changes(values), partial=True)

    def _stamp(self) -> int:
        # Unique and increasing, so each stamp names exactly one change.
        self._last = max(time.time_ns() // 1000, self._last + 1)
        return self._last


async def _serve(directory: Path) -> None:
    available = {Synthetic.domain: Synthetic}
    await serve(Hub(load_config(directory, available), available))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="hub %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
