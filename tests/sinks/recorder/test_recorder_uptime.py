"""Uptime of a check's binary sensor from the recorder: windows, bars and outages; finished hours from the hourly
statistics (so a window longer than `keep_days` still counts the purged states), the rest from the states."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hub.core import Core
from hub.core.clock import FakeClock, set_clock
from hub.sinks.recorder import Recorder
from tests.sinks.recorder.recorder_helpers import running

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
WEB = "binary_sensor.lab_check_web"
WINDOWS = {"24h": 86400.0, "7d": 7 * 86400.0}
HOUR = 3600.0


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    clock = FakeClock(T0)
    set_clock(clock)
    yield clock
    set_clock(None)


async def _until(clock: FakeClock, recorder: Recorder, moment: timedelta) -> None:
    """Move time to T0 + `moment` in 5-minute steps, compiling statistics as the hub does."""
    while clock.utcnow() < T0 + moment:
        await clock.advance(min(300.0, (T0 + moment - clock.utcnow()).total_seconds()))
        await recorder.writer.write_pending()
        await recorder.compile_statistics()


def _hourly_bars(now: datetime) -> list[float]:
    last = now.replace(minute=0, second=0, microsecond=0)
    return [(last - timedelta(hours=index)).timestamp() for index in range(89, -1, -1)]


async def test_windows_bars_and_outages(db_url: str, fake_clock: FakeClock) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="1h") as recorder:
        core.states.set(WEB, "on", {"reason": "HTTP 200"})
        await _until(fake_clock, recorder, timedelta(hours=2))
        core.states.set(WEB, "off", {"reason": "HTTP 500"})
        await _until(fake_clock, recorder, timedelta(hours=2, minutes=30))
        core.states.set(WEB, "off", {"reason": "timed out after 10s"})  # the same outage, a new reason
        await _until(fake_clock, recorder, timedelta(hours=3))
        core.states.set(WEB, "on", {"reason": "HTTP 200"})
        await _until(fake_clock, recorder, timedelta(hours=26))
        core.states.set(WEB, "off", {"reason": "connection refused"})
        await _until(fake_clock, recorder, timedelta(hours=26, minutes=30))

        now = fake_clock.utcnow()
        found = (await recorder.history.uptime([WEB, "binary_sensor.lab_never"], now, WINDOWS, _hourly_bars(now)))[WEB]

    # 24 h back from 26:30: down 2:30-3:00 and 26:00-26:30; 7 d: all 26.5 known hours, down 1.5 of them.
    assert found["uptime"] == {
        "24h": pytest.approx(100 * 23 / 24, abs=1e-3),
        "7d": pytest.approx(100 * 25 / 26.5, abs=1e-3),
    }
    bars = found["bars"]
    assert bars[-1] == 0.0  # 26:00 to now: down
    assert bars[-25] == 0.0  # 02:00-03:00
    assert bars[-27:-25] == [100.0, 100.0]  # 00:00-02:00
    assert bars[:-27] == [None] * 63  # before T0 nothing is known
    assert found["outages"] == [
        {"start": "2026-03-02T02:00:00+00:00", "end": None, "duration_s": 1800.0, "reason": "connection refused"},
        {
            "start": "2026-03-01T02:00:00+00:00",
            "end": "2026-03-01T03:00:00+00:00",
            "duration_s": 3600.0,
            "reason": "HTTP 500",
        },
    ]


async def test_a_window_longer_than_keep_days_counts_purged_hours(db_url: str, fake_clock: FakeClock) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="1h", keep_days=1) as recorder:
        core.states.set(WEB, "on")
        await _until(fake_clock, recorder, timedelta(hours=1))
        core.states.set(WEB, "off")
        await _until(fake_clock, recorder, timedelta(hours=2))
        core.states.set(WEB, "on")
        await _until(fake_clock, recorder, timedelta(days=3))
        await recorder.purge()  # the states of the outage are gone; its hour's statistics stay

        now = fake_clock.utcnow()
        found = (await recorder.history.uptime([WEB], now, WINDOWS, _hourly_bars(now)))[WEB]

    assert found["uptime"] == {"24h": 100.0, "7d": pytest.approx(100 * 71 / 72, abs=1e-3)}
    assert found["outages"] == []  # outages come from states, kept `keep_days`
