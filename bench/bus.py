"""Bus and state machine throughput, end to end (fire and deliver), beside Home Assistant's core on the same load.

Home Assistant's own benchmark scenarios (`homeassistant/scripts/benchmark`), except that the clock runs from
the first fire to the last delivery, not over the drain alone:

- `fire_events`: 1,000,000 events fired to one listener, yielding to the loop after every 1,000;
- `state_changed_event_helper`: state writes round-robin over 1,000 entities, each entity with its own
  state listener (one bus listener dispatching by entity id: our `track_state_changes`, HA's
  `async_track_state_change_event`), every write a change;
- the same writes with no listener.

Each run starts a fresh interpreter per side (`--worker hub|ha`); Home Assistant runs from its own venv
(`--ha-python`, default /tmp/havenv/bin/python holding homeassistant==2024.3.3) and is skipped with a note if
absent. Medians of `--runs`; the last line is one JSON object of the figures and the targets.

    .venv/bin/python bench/bus.py [--runs 3] [--events 1000000] [--writes 200000] [--ha-python PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENTITIES = 1000
BATCH = 1000
TARGETS = {"events_per_s": 250_000, "writes_per_s_listeners": 100_000}
SCENARIOS = ("events_per_s", "writes_per_s_listeners", "writes_per_s_no_listener")
Timed = tuple[float, float]
"""Wall seconds and CPU seconds of one scenario."""


async def _timed(body: Callable[[], Awaitable[None]]) -> Timed:
    wall, cpu = time.perf_counter(), time.process_time()
    await body()
    return time.perf_counter() - wall, time.process_time() - cpu


def _attributes(entity_id: str) -> dict[str, Any]:
    return {"unit_of_measurement": "W", "device_class": "power", "friendly_name": entity_id}


# Our hub


async def _hub_events(events: int) -> Timed:
    from hub.core import EventBus

    bus = EventBus()
    count = 0

    def listener(event: Any) -> None:
        nonlocal count
        count += 1

    bus.listen("benchmark_event", listener)

    async def body() -> None:
        for _ in range(events // BATCH):
            for _ in range(BATCH):
                bus.fire("benchmark_event")
            await asyncio.sleep(0)
        await bus.drain()

    timed = await _timed(body)
    assert count == events, count
    return timed


async def _hub_writes(writes: int, listeners: bool) -> Timed:
    from hub.core import EventBus, StateMachine, track_state_changes

    bus = EventBus()
    states = StateMachine(bus)
    entity_ids = [f"sensor.power_{n}" for n in range(ENTITIES)]
    attributes = {entity_id: _attributes(entity_id) for entity_id in entity_ids}
    count = 0
    if listeners:
        for entity_id in entity_ids:

            def listener(event: Any) -> None:
                nonlocal count
                count += 1

            track_state_changes(bus, [entity_id], listener)

    async def body() -> None:
        for round_ in range(writes // ENTITIES):
            value = str(round_)
            for entity_id in entity_ids:
                states.set(entity_id, value, attributes[entity_id])
            await asyncio.sleep(0)
        await bus.drain()

    timed = await _timed(body)
    assert count == (writes if listeners else 0), count
    return timed


# Home Assistant's core, the same loads


async def _ha_events(events: int) -> Timed:
    from homeassistant import core

    hass = core.HomeAssistant("/tmp")
    count = 0

    @core.callback
    def listener(event: Any) -> None:
        nonlocal count
        count += 1

    hass.bus.async_listen("benchmark_event", listener)

    async def body() -> None:
        for _ in range(events // BATCH):
            for _ in range(BATCH):
                hass.bus.async_fire("benchmark_event")
            await asyncio.sleep(0)
        await hass.async_block_till_done()

    timed = await _timed(body)
    assert count == events, count
    await hass.async_stop(force=True)
    return timed


async def _ha_writes(writes: int, listeners: bool) -> Timed:
    from homeassistant import core
    from homeassistant.helpers.event import async_track_state_change_event

    hass = core.HomeAssistant("/tmp")
    entity_ids = [f"sensor.power_{n}" for n in range(ENTITIES)]
    attributes = {entity_id: _attributes(entity_id) for entity_id in entity_ids}
    count = 0
    if listeners:
        for entity_id in entity_ids:

            @core.callback
            def listener(event: Any) -> None:
                nonlocal count
                count += 1

            async_track_state_change_event(hass, [entity_id], listener)

    async def body() -> None:
        for round_ in range(writes // ENTITIES):
            value = str(round_)
            for entity_id in entity_ids:
                hass.states.async_set(entity_id, value, attributes[entity_id])
            await asyncio.sleep(0)
        await hass.async_block_till_done()

    timed = await _timed(body)
    assert count == (writes if listeners else 0), count
    await hass.async_stop(force=True)
    return timed


def _worker(side: str, events: int, writes: int) -> dict[str, Any]:
    """One run of the three scenarios in this interpreter: rates by wall time, and by CPU time."""
    if side == "hub":
        sys.path.insert(0, str(ROOT))
        runs = [lambda: _hub_events(events), lambda: _hub_writes(writes, True), lambda: _hub_writes(writes, False)]
    else:
        import logging

        logging.getLogger("homeassistant").setLevel(logging.CRITICAL)
        runs = [lambda: _ha_events(events), lambda: _ha_writes(writes, True), lambda: _ha_writes(writes, False)]
    counts = (events, writes, writes)
    result: dict[str, Any] = {"wall": {}, "cpu": {}}
    for name, run, count in zip(SCENARIOS, runs, counts, strict=True):
        wall, cpu = asyncio.run(run())
        result["wall"][name] = round(count / wall)
        result["cpu"][name] = round(count / cpu)
    return result


def _run_worker(python: str, side: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [python, __file__, "--worker", side, "--events", str(args.events), "--writes", str(args.writes)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _medians(runs: list[dict[str, Any]], kind: str) -> dict[str, int]:
    return {name: round(statistics.median(run[kind][name] for run in runs)) for name in SCENARIOS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=200_000)
    parser.add_argument("--ha-python", default="/tmp/havenv/bin/python")
    parser.add_argument("--worker", choices=("hub", "ha"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.events, args.writes)))
        return
    peer = Path(args.ha_python).exists()
    hub_runs: list[dict[str, Any]] = []
    ha_runs: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        # Alternate the sides within each run, so load from elsewhere on the machine hits both alike.
        hub_runs.append(_run_worker(sys.executable, "hub", args))
        print(f"run {run} hub  wall {hub_runs[-1]['wall']}  cpu {hub_runs[-1]['cpu']}", flush=True)
        if peer:
            ha_runs.append(_run_worker(args.ha_python, "ha", args))
            print(f"run {run} HA   wall {ha_runs[-1]['wall']}  cpu {ha_runs[-1]['cpu']}", flush=True)
    figures: dict[str, Any] = {**_medians(hub_runs, "wall"), "cpu": _medians(hub_runs, "cpu"), "target": TARGETS}
    if peer:
        figures["ha_2024_3"] = {**_medians(ha_runs, "wall"), "cpu": _medians(ha_runs, "cpu")}
    else:
        figures["ha_2024_3"] = f"not run: no Home Assistant at {args.ha_python}"
    figures["runs"] = args.runs
    figures["events"] = args.events
    figures["writes"] = args.writes
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
