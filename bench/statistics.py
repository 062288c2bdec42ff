"""Statistics compile: the CPU one 5-minute period costs the recorder with N binary sensors and N measurement
sensors (a hub with N service checks), on SQLite.

Run: .venv/bin/python -m bench.statistics [--sources 1000] [--periods 5]

Each period gets a change of every measurement sensor each minute; the figure is the median CPU (this process,
all threads) of compiling one period. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
from datetime import UTC, datetime

from hub.config.models.recorder import RecorderConfig
from hub.core import Core, DeviceInfo
from hub.core.clock import FakeClock, set_clock
from hub.health import HealthRegistry
from hub.sinks.recorder import Recorder

_MEASUREMENT = {"state_class": "measurement", "unit_of_measurement": "ms"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(sources: int, periods: int) -> dict[str, float]:
    clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
    set_clock(clock)
    core = Core("lab")
    with tempfile.TemporaryDirectory() as directory:
        config = RecorderConfig(db_url=f"sqlite://{directory}/hub.db", commit_interval="1h")
        assert config.db_url is not None
        health = HealthRegistry().create("recorder", "sink")
        recorder = Recorder(core, config, config.db_url, health, DeviceInfo(identifier="lab", name="lab"))
        async with recorder.lifespan():
            for index in range(sources):
                core.states.set(f"binary_sensor.lab_check_{index}", "on")
                core.states.set(f"sensor.lab_check_{index}_response_time", "1.5", _MEASUREMENT)
            await recorder.writer.write_pending()
            await recorder.compile_statistics()
            cpu: list[float] = []
            for period in range(periods):
                for minute in range(5):
                    await clock.advance(60)
                    for index in range(sources):
                        value = 1 + (index + minute + period) % 7 / 10
                        core.states.set(f"sensor.lab_check_{index}_response_time", str(value), _MEASUREMENT)
                    await recorder.writer.write_pending()
                before = _cpu()
                await recorder.compile_statistics()
                cpu.append(_cpu() - before)
    set_clock(None)
    return {"sources": 2 * sources, "compile_cpu_ms_median": round(statistics.median(cpu) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000, help="checks: one binary and one measurement sensor each")
    parser.add_argument("--periods", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.sources, args.periods))))


if __name__ == "__main__":
    main()
