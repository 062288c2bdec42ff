"""Recorder benchmark: sustained state rows/s into SQLite or PostgreSQL, and a 24 h history query in 10M rows.

Run by hand:  .venv/bin/python bench/recorder.py [--seconds 60] [--rows 10000000] [--postgres URL] [--runs 3]
Each figure is measured `--runs` times (the history database is filled once) and reported as the median, with
every run and the 1-minute load average beside it. The last line printed is one JSON object with the figures
and their targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.config.models.recorder import RecorderConfig
from hub.config.validation import Secret
from hub.core import Core, DeviceInfo
from hub.health import HealthRegistry
from hub.sinks.recorder import Recorder

ENTITIES = 500
TARGETS = {"sqlite_rows_per_s": 20_000, "postgres_rows_per_s": 15_000, "history_24h_ms": 50}


def _recorder(core: Core, url: str) -> Recorder:
    config = RecorderConfig(db_url=url)
    health = HealthRegistry().create("recorder", "sink")
    return Recorder(core, config, Secret(url), health, DeviceInfo(identifier="bench", name="bench"))


async def ingest(url: str, seconds: float) -> float:
    """State changes of 500 sensors with attributes, as fast as the writer commits them; rows/s committed."""
    core = Core("bench")
    recorder = _recorder(core, url)
    attributes = [
        {"unit_of_measurement": "%", "friendly_name": f"Bench sensor {n}", "state_class": "measurement"}
        for n in range(ENTITIES)
    ]
    async with recorder.lifespan():
        start_rows = recorder.writer.written
        started = time.perf_counter()
        value = 0
        while (elapsed := time.perf_counter() - started) < seconds:
            # Keep about two batches waiting: the producer runs exactly as fast as the database takes rows.
            if recorder.writer.pending < 3000:
                for n in range(ENTITIES):
                    core.states.set(f"sensor.bench_{n}", str(value), attributes[n])
                value += 1
                await asyncio.sleep(0)
            else:
                # A busy loop here would hold the GIL that the database driver's thread needs.
                await asyncio.sleep(0.002)
        rows = recorder.writer.written - start_rows
    return rows / elapsed


def _fill_sqlite(path: Path, total: int) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany("INSERT INTO states_meta (entity_id) VALUES (?)", [(f"sensor.big_{n}",) for n in range(ENTITIES)])
    conn.execute('INSERT INTO state_attributes (hash, shared_attrs) VALUES (1, \'{"unit_of_measurement":"%"}\')')
    ids = [row[0] for row in conn.execute("SELECT metadata_id FROM states_meta ORDER BY metadata_id")]
    base = time.time() - total / ENTITIES * 10
    sql = "INSERT INTO states (metadata_id, state, attributes_id, last_updated_ts, context_id) VALUES (?, ?, 1, ?, ?)"
    for tick_start in range(0, total // ENTITIES, 200):
        rows = [
            (ids[n], f"{random.random() * 100:.1f}", base + tick * 10 + n * 0.001, "01J0000000000000000000BENCH")
            for tick in range(tick_start, min(tick_start + 200, total // ENTITIES))
            for n in range(ENTITIES)
        ]
        conn.executemany(sql, rows)
        conn.commit()
    conn.close()


async def history_latency(url: str, total: int, runs: int) -> tuple[list[float], float]:
    """Median ms of a 24 h history query (8,640 rows) for one entity in a database of `total` rows, per run."""
    core = Core("bench")
    recorder = _recorder(core, url)
    async with recorder.lifespan():
        pass  # creates the schema
    path = Path(url.removeprefix("sqlite://"))
    filled = time.perf_counter()
    await asyncio.to_thread(_fill_sqlite, path, total)
    fill_s = time.perf_counter() - filled
    medians = []
    for _ in range(runs):
        recorder = _recorder(Core("bench"), url)
        timings = []
        async with recorder.lifespan():
            end = datetime.now(UTC)
            for _ in range(21):
                began = time.perf_counter()
                result = await recorder.history.history_period(
                    end - timedelta(days=1),
                    end,
                    ["sensor.big_7"],
                    minimal_response=False,
                    no_attributes=False,
                    skip_initial_state=False,
                    significant_changes_only=True,
                )
                timings.append((time.perf_counter() - began) * 1000)
        medians.append(round(statistics.median(timings[1:]), 1))
        print(f"History 24 h in {total} rows: {medians[-1]} ms, {len(result[0])} rows, load {_load()}", flush=True)
    return medians, fill_s


def _load() -> float:
    return round(os.getloadavg()[0], 2)


async def _fresh_postgres(url: str) -> str:
    """`url` with its database dropped and created anew, so each run starts empty (and on this schema)."""
    import asyncpg  # type: ignore[import-untyped]

    server, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url


async def _ingest_runs(name: str, url: str, seconds: float, runs: int, figures: dict[str, Any]) -> None:
    """Each run into an empty database: a new SQLite file, or the PostgreSQL database made again."""
    rates, loads = [], []
    for run in range(runs):
        target = await _fresh_postgres(url) if name == "postgres" else f"{url}.{run}"
        rates.append(round(await ingest(target, seconds)))
        loads.append(_load())
        print(f"{name} ingest: {rates[-1]} rows/s, load {loads[-1]}", flush=True)
    figures[f"{name}_rows_per_s"] = round(statistics.median(rates))
    figures[f"{name}_runs"] = rates
    figures[f"{name}_load"] = loads


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/hub_bench_recorder")
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-recorder-"))
    figures: dict[str, Any] = {}
    try:
        await _ingest_runs("sqlite", f"sqlite://{folder}/ingest.db", args.seconds, args.runs, figures)
        if args.postgres:
            await _ingest_runs("postgres", args.postgres, args.seconds, args.runs, figures)
        if not args.skip_history:
            medians, fill_s = await history_latency(f"sqlite://{folder}/big.db", args.rows, args.runs)
            figures.update(
                history_24h_ms=statistics.median(medians),
                history_runs=medians,
                history_load=_load(),
                history_db_rows=args.rows,
                fill_s=round(fill_s),
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({**figures, "target": TARGETS}))


if __name__ == "__main__":
    asyncio.run(main())
