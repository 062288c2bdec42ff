"""History while the recorder's PostgreSQL is down: an HA-style 503 with a message, never a 500; 200 once it is back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.chaostools import HubProcess, PgCluster, unexpected_errors

PATHS = (
    "/api/history/period?filter_entity_id=binary_sensor.chaos_recorder_health",
    "/api/hub/statistics?statistic_ids=binary_sensor.chaos_recorder_health",
)


@pytest.fixture
def postgres() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.psql("postgres", "CREATE DATABASE hub")
    yield cluster
    cluster.remove()


def _get(hub: HubProcess, path: str) -> tuple[int, object]:
    request = urllib.request.Request(hub.url + path, headers=hub.headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        body = err.read()
        return err.code, json.loads(body) if err.headers.get_content_type() == "application/json" else body


def test_history_answers_503_while_the_database_is_down(tmp_path: Path, postgres: PgCluster) -> None:
    hub = HubProcess(tmp_path, hub_extra=f"  recorder:\n    db_url: {postgres.url('hub')}\n")
    hub.start()
    try:
        deadline = time.monotonic() + 30
        while _get(hub, PATHS[0]) == (200, []):  # until the recorder wrote the entity (and knows its id)
            assert time.monotonic() < deadline, hub.log()
            time.sleep(0.2)
        assert _get(hub, PATHS[1])[0] == 200
        postgres.stop()
        for path in PATHS:
            status, body = _get(hub, path)
            assert status == 503, (path, body)
            assert isinstance(body, dict)
            message = str(body["message"])
            assert "database" in message, message
            assert "unavailable" in message, message
        postgres.start()
        deadline = time.monotonic() + 30
        while _get(hub, PATHS[0])[0] != 200:
            assert time.monotonic() < deadline, hub.log()
            time.sleep(0.2)
    finally:
        hub.kill()
    log = hub.log()
    assert "Traceback" not in log, log
    assert not [line for line in unexpected_errors(log) if "/api/" in line], log
