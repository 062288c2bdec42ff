"""History in HA's shape, glob filters, statistics (measurement, total_increasing with a reset) and purge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hub.core import Core
from hub.core.clock import FakeClock, set_clock
from hub.sinks.recorder.history import match_entity_ids
from tests.sinks.recorder.recorder_helpers import count, running

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    clock = FakeClock(T0)
    set_clock(clock)
    yield clock
    set_clock(None)


def test_glob_and_domain_filters() -> None:
    known = ["sensor.nas_cpu", "sensor.nas_load", "sensor.pi_cpu", "switch.nas_fan"]
    assert match_entity_ids(["sensor.nas_*"], known) == ["sensor.nas_cpu", "sensor.nas_load"]
    assert match_entity_ids(["switch", "sensor.pi_cpu"], known) == ["switch.nas_fan", "sensor.pi_cpu"]
    assert match_entity_ids(["*.nas_cpu", "sensor.nas_cpu"], known) == ["sensor.nas_cpu"]


async def _history(recorder, **flags):  # type: ignore[no-untyped-def]
    options = {
        "minimal_response": False,
        "no_attributes": False,
        "skip_initial_state": False,
        "significant_changes_only": True,
    } | flags
    start = flags.pop("start", T0 + timedelta(minutes=5))
    options.pop("start", None)
    return await recorder.history.history_period(start, T0 + timedelta(hours=1), ["sensor.lab_*"], **options)


async def test_history_shape_and_parameters(db_url: str, fake_clock: FakeClock) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="1h") as recorder:
        core.states.set("sensor.lab_temp", "20", {"unit_of_measurement": "°C"})  # before the window: initial
        await fake_clock.advance(600)  # 12:10
        core.states.set("sensor.lab_temp", "21", {"unit_of_measurement": "°C"})
        await fake_clock.advance(60)
        core.states.set("sensor.lab_temp", "21", {"unit_of_measurement": "°C", "note": "x"})  # attributes only
        await fake_clock.advance(60)
        core.states.set("sensor.lab_temp", "22", {"unit_of_measurement": "°C"})
        await fake_clock.advance(60)
        core.states.set("sensor.lab_temp", "23", {"unit_of_measurement": "°C"})
        await recorder.writer.write_pending()

        rows = (await _history(recorder))[0]
        assert [row["state"] for row in rows] == ["20", "21", "22", "23"]
        assert rows[0] == {
            "entity_id": "sensor.lab_temp",
            "state": "20",
            "attributes": {"unit_of_measurement": "°C"},
            "last_changed": "2026-03-01T12:05:00+00:00",  # the initial state is stamped with the start
            "last_updated": "2026-03-01T12:05:00+00:00",
        }
        assert rows[1]["last_changed"] == "2026-03-01T12:10:00+00:00"

        everything = (await _history(recorder, significant_changes_only=False))[0]
        assert [row["state"] for row in everything] == ["20", "21", "21", "22", "23"]
        assert everything[2]["last_changed"] == "2026-03-01T12:10:00+00:00"
        assert everything[2]["last_updated"] == "2026-03-01T12:11:00+00:00"

        minimal = (await _history(recorder, minimal_response=True))[0]
        assert minimal[1] == {"state": "21", "last_changed": "2026-03-01T12:10:00+00:00"}
        assert (
            set(minimal[0]) == set(minimal[-1]) == {"entity_id", "state", "attributes", "last_changed", "last_updated"}
        )

        bare = (await _history(recorder, no_attributes=True))[0]
        assert all(row["attributes"] == {} for row in bare)

        skipped = (await _history(recorder, skip_initial_state=True))[0]
        assert [row["state"] for row in skipped] == ["21", "22", "23"]

        assert await _history(recorder, start=T0 + timedelta(hours=2)) == []


async def test_statistics_measurement_and_total_increasing(db_url: str, fake_clock: FakeClock) -> None:
    core = Core("lab")
    measurement = {"state_class": "measurement", "unit_of_measurement": "°C"}
    meter = {"state_class": "total_increasing", "unit_of_measurement": "kWh"}
    async with running(db_url, core, commit_interval="1h") as recorder:
        core.states.set("sensor.lab_temp", "10", measurement)
        core.states.set("sensor.lab_energy", "100", meter)
        await fake_clock.advance(60)
        core.states.set("sensor.lab_temp", "20", measurement)  # 10 for 1 min, 20 for 4 min: mean 18
        core.states.set("sensor.lab_energy", "105", meter)
        await fake_clock.advance(120)
        core.states.set("sensor.lab_energy", "2", meter)  # reset: a fall below 90 %
        await fake_clock.advance(60)
        core.states.set("sensor.lab_energy", "4", meter)
        await recorder.writer.write_pending()
        await fake_clock.advance(300)  # past 12:05
        await recorder.compile_statistics()

        stats = await recorder.history.statistics(
            ["sensor.lab_temp", "sensor.lab_energy"], "5minute", T0, T0 + timedelta(hours=1)
        )
        temp = stats["sensor.lab_temp"][0]
        assert temp["start"] == T0.timestamp() * 1000
        assert temp["mean"] == pytest.approx(18.0)
        assert (temp["min"], temp["max"]) == (10.0, 20.0)
        energy = stats["sensor.lab_energy"][0]
        assert energy["state"] == 4.0
        assert energy["sum"] == pytest.approx(5 + 2 + 2)  # +5, reset counts the new 2, then +2
        assert energy["last_reset"] == (T0 + timedelta(minutes=3)).timestamp() * 1000

        for _ in range(11):  # the rest of the hour: the hourly row follows
            await fake_clock.advance(300)
            await recorder.compile_statistics()
        hourly = await recorder.history.statistics(["sensor.lab_temp"], "hour", T0, T0 + timedelta(hours=2))
        assert len(hourly["sensor.lab_temp"]) == 1
        assert hourly["sensor.lab_temp"][0]["min"] == 10.0
        daily = await recorder.history.statistics(["sensor.lab_energy"], "day", T0, T0 + timedelta(days=1))
        assert daily["sensor.lab_energy"][0]["sum"] == pytest.approx(9)


async def test_purge_keeps_the_newest_state(db_url: str, fake_clock: FakeClock) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="1h", keep_days=1) as recorder:
        for value in range(20):
            core.states.set("sensor.lab_old", str(value), {"v": value})
        core.states.set("sensor.lab_kept", "1")
        await recorder.writer.write_pending()
        await fake_clock.advance(2 * 86400)
        core.states.set("sensor.lab_kept", "2")
        await recorder.writer.write_pending()
        await recorder.purge()
        assert await count(recorder, "states", "WHERE state = ?", ("19",)) == 1  # newest of lab_old stays
        assert await count(recorder, "states", "WHERE state = ?", ("5",)) == 0
        assert await count(recorder, "state_attributes") == 1  # orphaned attribute rows went too
        core.states.set("sensor.lab_old", "0", {"v": 0})  # a purged attributes row is written anew
        await recorder.writer.write_pending()
        assert await count(recorder, "state_attributes") == 2
