"""Uptime of many checks: the time `GET /api/hub/checks` spends in the recorder for N checks with 90 days of hourly
statistics (windows of 24 h / 7 d / 30 d, 90 daily bars, outages), on SQLite.

Run: .venv/bin/python -m bench.uptime [--checks 1000] [--days 90]

The hourly rows are written straight into the database, as a hub that ran those days would have compiled them.
Last line: one JSON object of the figures (wall and CPU of one reading, this process's threads included).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.api.checks import WINDOWS, _bar_starts
from hub.config.models.recorder import RecorderConfig
from hub.core import Core, DeviceInfo
from hub.core.clock import FakeClock, set_clock
from hub.health import HealthRegistry
from hub.sinks.recorder import Recorder

_HOUR = 3600


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _hourly_rows(db: Path, entity_ids: list[str], now: float, days: int) -> None:
    last = now // _HOUR * _HOUR
    with sqlite3.connect(db) as connection:
        for entity_id in entity_ids:
            meta = connection.execute(
                "INSERT INTO statistics_meta (statistic_id, source, unit_of_measurement, has_mean, has_sum, name)"
                " VALUES (?, 'recorder', NULL, 1, 0, ?) RETURNING id",
                (entity_id, entity_id),
            ).fetchone()[0]
            connection.executemany(
                "INSERT INTO statistics (metadata_id, created_ts, start_ts, mean, min, max, last_reset_ts, state, sum)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                [
                    (meta, last - hour * _HOUR + _HOUR, last - hour * _HOUR, mean, mean, mean)
                    for hour in range(1, days * 24 + 1)
                    for mean in ((0.5 if hour % 97 == 0 else 1.0),)
                ],
            )
        connection.execute("INSERT INTO statistics_runs (start_ts) VALUES (?)", (last - 300,))


async def _run(checks: int, days: int) -> dict[str, float]:
    now = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    set_clock(FakeClock(now))
    core = Core("lab")
    entity_ids = [f"binary_sensor.lab_check_{index}" for index in range(checks)]
    with tempfile.TemporaryDirectory() as directory:
        config = RecorderConfig(db_url=f"sqlite://{directory}/hub.db", commit_interval="1h")
        assert config.db_url is not None
        health = HealthRegistry().create("recorder", "sink")
        recorder = Recorder(core, config, config.db_url, health, DeviceInfo(identifier="lab", name="lab"))
        async with recorder.lifespan():
            for entity_id in entity_ids:
                core.states.set(entity_id, "on")
            await recorder.writer.write_pending()
            await asyncio.to_thread(_hourly_rows, Path(directory) / "hub.db", entity_ids, now.timestamp(), days)
            cpu_before, started = _cpu(), time.perf_counter()
            found = await recorder.history.uptime(entity_ids, now, WINDOWS, _bar_starts(now, timedelta(days=1)))
            wall, cpu = time.perf_counter() - started, _cpu() - cpu_before
    set_clock(None)
    assert len(found) == checks
    return {"checks": checks, "days": days, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.checks, args.days))))


if __name__ == "__main__":
    main()
