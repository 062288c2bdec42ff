"""The recorder's writer on SQLite and PostgreSQL: batching, dedup, restore, overflow, shutdown flush, secrets."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import orjson
import pytest

from hub.core import Core
from tests.fixtures.eventually import eventually
from tests.sinks.recorder.recorder_helpers import count, running


async def test_full_batch_commits_before_the_interval(db_url: str) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="60s", max_batch=10) as recorder:
        base = await count(recorder, "states")
        for value in range(9):
            core.states.set("sensor.lab_load", str(value))
        await asyncio.sleep(0.3)
        assert await count(recorder, "states") == base  # 9 < max_batch: waits for the interval
        core.states.set("sensor.lab_load", "9")  # the tenth row fills the batch

        async def ten_more() -> bool:
            return await count(recorder, "states") == base + 10

        await eventually(ten_more, what="ten more rows")
        core.states.set("sensor.lab_load", "10")
    async with running(db_url) as reopened:
        # The eleventh waited for the interval; shutdown flushed it.
        assert await count(reopened, "states", "WHERE state = ?", ("10",)) == 1


async def test_attributes_are_stored_once(db_url: str) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="50ms") as recorder:
        for value in range(50):
            for entity in ("sensor.lab_a", "sensor.lab_b"):
                core.states.set(entity, str(value), {"unit_of_measurement": "%", "friendly_name": entity})
        await recorder.writer.write_pending()
        assert await count(recorder, "states", "WHERE metadata_id IS NOT NULL AND attributes_id IS NOT NULL") >= 100
        rows = await recorder.db.fetch("SELECT shared_attrs FROM state_attributes WHERE shared_attrs LIKE ?", ["%%%"])
        assert sorted(rows[i][0] for i in range(len(rows))) == [
            '{"unit_of_measurement":"%","friendly_name":"sensor.lab_a"}',
            '{"unit_of_measurement":"%","friendly_name":"sensor.lab_b"}',
        ]


async def test_attributes_are_stored_as_strict_json(db_url: str) -> None:
    """The recorder writes with the hub's one encoder: a NaN reading is `null` (a bare `NaN` is no JSON that Home
    Assistant's orjson, PostgreSQL's json or a browser reads), a time ISO 8601, text as UTF-8."""
    core = Core("lab")
    taken = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
    async with running(db_url, core, commit_interval="50ms") as recorder:
        core.states.set("sensor.lab_probe", "1", {"reading": float("nan"), "taken": taken, "unit_of_measurement": "°C"})
        await recorder.writer.write_pending()
        rows = await recorder.db.fetch(
            "SELECT shared_attrs FROM state_attributes WHERE shared_attrs LIKE ?", ["%reading%"]
        )
    assert [row[0] for row in rows] == [
        '{"reading":null,"taken":"2026-12-06T10:30:00+00:00","unit_of_measurement":"°C"}'
    ]
    assert orjson.loads(rows[0][0])["reading"] is None


async def test_restore_after_restart(db_url: str) -> None:
    first = Core("lab")
    async with running(db_url, first):
        first.states.set("sensor.lab_temp", "20.5", {"unit_of_measurement": "°C"})
        first.states.set("sensor.lab_temp", "21.0", {"unit_of_measurement": "°C"})
        first.states.set("switch.lab_fan", "on")
    before = first.states.get("sensor.lab_temp")
    second = Core("lab")
    async with running(db_url, second):
        restored = second.states.get("sensor.lab_temp")
        assert restored is not None
        assert before is not None
        assert restored.state == "21.0"
        assert dict(restored.attributes) == {"unit_of_measurement": "°C"}
        assert restored.last_changed == before.last_changed
        assert restored.last_updated == before.last_updated
        assert restored.context.id == before.context.id
        fan = second.states.get("switch.lab_fan")
        assert fan is not None
        assert fan.state == "on"


async def test_buffer_overflow_is_counted_exactly(db_url: str) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="60s", max_batch=1000, buffer_size=10) as recorder:
        await recorder.writer.write_pending()
        for value in range(25):
            core.states.set("sensor.lab_load", str(value))
        assert recorder.writer.dropped == 15
        await recorder.writer.write_pending()
        recorder._publish_drops()
        dropped = core.states.get(recorder.dropped_entity_id)
        assert dropped is not None
        assert dropped.state == "15"
        assert core.entities.get(recorder.dropped_entity_id) is not None
        assert await count(recorder, "states", "WHERE state IN ('0','1','2','3','4','5','6','7','8','9')") >= 10
        assert await count(recorder, "states", "WHERE state = ?", ("24",)) == 0


async def test_shutdown_flushes_the_buffer(db_url: str) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="1h", max_batch=100_000):
        for value in range(500):
            core.states.set(f"sensor.lab_n{value % 7}", str(value))
    async with running(db_url) as reopened:
        assert await count(reopened, "states", "WHERE state <> ?", ("0",)) >= 499


async def test_password_never_logged(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    if not db_url.startswith("postgres"):
        pytest.skip("SQLite URLs hold no password")
    parts = urlsplit(db_url)
    with_password = urlunsplit(parts._replace(netloc=f"{parts.username}:Sup3r-s3cret@{parts.hostname}:{parts.port}"))
    broken = urlunsplit(parts._replace(netloc=f"{parts.username}:Sup3r-s3cret@127.0.0.1:1"))
    caplog.set_level(logging.DEBUG)
    core = Core("lab")
    async with running(with_password, core, commit_interval="50ms"):
        core.states.set("sensor.lab_x", "1")
    async with running(broken, Core("lab"), shutdown_timeout="100ms"):
        pass
    assert "Sup3r-s3cret" not in caplog.text
    assert "127.0.0.1:1" in caplog.text  # the failure was logged, naming the server
