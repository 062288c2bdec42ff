"""/api/history/period and /api/hub/statistics: HA's parameter rules, and a clear 404 without a recorder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from hub.api.history import parse_datetime
from tests.api.apitools import Api, RecordingHistory


@pytest.fixture
def history(api: Api) -> RecordingHistory:
    reader = RecordingHistory(rows=[[{"entity_id": "sensor.a", "state": "1"}]])
    api.control.history = reader
    return reader


async def test_without_recorder_answers_404_with_a_message(api: Api) -> None:
    for path in ("/api/history/period?filter_entity_id=sensor.a", "/api/hub/statistics?statistic_ids=sensor.a"):
        response = await api.request("GET", path)
        assert response.status == 404
        assert "no recorder" in (await response.json())["message"]


async def test_defaults_and_flags(api: Api, history: RecordingHistory) -> None:
    response = await api.request("GET", "/api/history/period?filter_entity_id=Sensor.A,sensor.nas_*,binary_sensor")
    assert await response.json() == history.rows
    call = history.calls[-1]
    assert call["filters"] == ["sensor.a", "sensor.nas_*", "binary_sensor"]
    assert call["end"] - call["start"] == timedelta(days=1)
    assert datetime.now(UTC) - call["start"] - timedelta(days=1) < timedelta(seconds=5)
    assert call["minimal_response"] is False
    assert call["significant_changes_only"] is True
    assert call["skip_initial_state"] is False
    query = "filter_entity_id=sensor.a&minimal_response&no_attributes&skip_initial_state&significant_changes_only=0"
    await api.request("GET", f"/api/history/period?{query}")
    call = history.calls[-1]
    assert call["minimal_response"]
    assert call["no_attributes"]
    assert call["skip_initial_state"]
    assert call["significant_changes_only"] is False


async def test_start_and_end(api: Api, history: RecordingHistory) -> None:
    start = "2026-01-01T10:00:00+01:00"
    end = quote("2026-01-01T12:00:00+00:00")
    await api.request("GET", f"/api/history/period/{start}?filter_entity_id=sensor.a&end_time={end}")
    call = history.calls[-1]
    assert call["start"] == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert call["end"] == datetime(2026, 1, 1, 12, tzinfo=UTC)
    # An unescaped + in the query arrives as a space; it is still read as the offset.
    await api.request(
        "GET", "/api/history/period/2026-01-01T00:00:00?filter_entity_id=sensor.a&end_time=2026-01-01T05:00:00+02:00"
    )
    call = history.calls[-1]
    assert call["start"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert call["end"] == datetime(2026, 1, 1, 3, tzinfo=UTC)
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    calls = len(history.calls)
    response = await api.request("GET", f"/api/history/period/{quote(future)}?filter_entity_id=sensor.a")
    assert await response.json() == []
    assert len(history.calls) == calls


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/history/period", "filter_entity_id is missing"),
        ("/api/history/period?filter_entity_id=", "filter_entity_id is missing"),
        ("/api/history/period?filter_entity_id=sensor.a,bad%20id", "Invalid filter_entity_id"),
        ("/api/history/period/yesterday?filter_entity_id=sensor.a", "Invalid datetime"),
        ("/api/history/period?filter_entity_id=sensor.a&end_time=soon", "Invalid end_time"),
        ("/api/hub/statistics", "statistic_ids is missing"),
        ("/api/hub/statistics?statistic_ids=sensor.a&period=week", "Invalid period: expected one of 5minute, hour"),
        ("/api/hub/statistics?statistic_ids=sensor.a&start=x", "Invalid datetime"),
    ],
)
async def test_invalid_parameters(api: Api, history: RecordingHistory, path: str, message: str) -> None:
    response = await api.request("GET", path)
    assert response.status == 400
    assert await response.json() == {"message": message}
    assert history.calls == []


async def test_statistics(api: Api, history: RecordingHistory) -> None:
    response = await api.request("GET", "/api/hub/statistics?statistic_ids=sensor.a,sensor.b&period=5minute")
    body = await response.json()
    assert set(body) == {"sensor.a", "sensor.b"}
    assert history.calls[-1]["period"] == "5minute"


def test_parse_datetime() -> None:
    assert parse_datetime("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime("2026-01-01 00:00:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_datetime("2026-01-01T00:00:00 01:00") == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert parse_datetime("nope") is None
