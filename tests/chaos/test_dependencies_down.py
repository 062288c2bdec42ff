"""Broker, Redis and PostgreSQL stopped together for 30 s under load, then restarted: the hub holds and catches up."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.chaos.chaostools import HubProcess, LoadDriver, PgCluster, PingMonitor, unexpected_errors
from tests.fixtures.process import ServerProcess

RATE = 500
DOWNTIME = 30.0
RECOVERY = 65.0
_SINKS = ("recorder", "redis", "mqtt")


@pytest.fixture
def postgres() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.psql("postgres", "CREATE DATABASE hub")
    yield cluster
    cluster.remove()


@pytest.fixture
def hub(
    tmp_path: Path, mosquitto: ServerProcess, redis_server: ServerProcess, postgres: PgCluster
) -> Iterator[HubProcess]:
    process = HubProcess(
        tmp_path,
        hub_extra=(
            f"  recorder:\n    db_url: {postgres.url('hub')}\n"
            f"  redis:\n    url: {redis_server.url}\n"
            f"  mqtt:\n    port: {mosquitto.port}\n    base_topic: homelab\n"
        ),
    )
    process.start()
    yield process
    process.kill()


def _statuses(hub: HubProcess) -> dict[str, str]:
    return {part["name"]: part["status"] for part in hub.get("/api/hub/parts") if part["kind"] == "sink"}


def _wait(what: str, condition: Callable[[], bool], timeout: float, hub: HubProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}; {hub.get('/api/hub/parts')}\n{hub.log()}"
        time.sleep(0.2)


def _recorded_count(postgres: PgCluster) -> int:
    sql = (
        "SELECT count(*) FROM states s JOIN states_meta m ON m.metadata_id = s.metadata_id "
        "WHERE m.entity_id LIKE 'sensor.chaos_load_%'"
    )
    return int(postgres.psql("hub", sql).strip())


def test_all_dependencies_down_for_30_s(
    hub: HubProcess, mosquitto: ServerProcess, redis_server: ServerProcess, postgres: PgCluster
) -> None:
    _wait("every sink ok", lambda: _statuses(hub) == dict.fromkeys(_SINKS, "ok"), 20, hub)
    with PingMonitor(hub, interval=0.1) as monitor, LoadDriver(hub, RATE, workers=8) as load:
        time.sleep(2)
        mosquitto.stop()
        redis_server.stop()
        postgres.stop()
        down_at = time.monotonic()
        # Every sink says it is unhealthy; the API keeps answering from memory all along.
        _wait("every sink unhealthy", lambda: all(s != "ok" for s in _statuses(hub).values()), DOWNTIME / 2, hub)
        accepted_while_down = len(load.accepted)
        time.sleep(max(0.0, DOWNTIME - (time.monotonic() - down_at)))
        assert len(load.accepted) > accepted_while_down + RATE * DOWNTIME / 4, (
            "writes stalled while the sinks were down"
        )
        assert hub.state("sensor.chaos_load_1") is not None
        postgres.start()
        redis_server.start()
        mosquitto.start()
        # Each sink retries on its own backoff, capped at 30 s (recorder) and 60 s (MQTT): that bounds recovery.
        _wait("every sink ok again", lambda: _statuses(hub) == dict.fromkeys(_SINKS, "ok"), RECOVERY, hub)
        time.sleep(1)
    assert not monitor.failures, monitor.failures
    print(f"{len(load.accepted)} changes at {load.rate:.0f}/s; worst ping {monitor.worst * 1000:.0f} ms")
    errors = {part["name"]: part["error_count"] for part in hub.get("/api/hub/parts")}
    print(f"failed attempts while down: {errors}")
    assert errors["recorder"] < 20, "the recorder retried without backing off"

    dropped = int(hub.state("sensor.chaos_recorder_dropped")["state"])  # type: ignore[index]
    _wait("the recorder caught up", lambda: _recorded_count(postgres) + dropped >= len(load.accepted), 30, hub)
    assert _recorded_count(postgres) + dropped == len(load.accepted)

    # Redis got the full resync: every entity's last state is in the hash.
    states = redis.Redis(port=redis_server.port).hgetall("homelab:chaos:states")
    for entity_id, state in load.last_states().items():
        assert json.loads(states[entity_id.encode()])["state"] == state, entity_id
    # The one error each sink logs is its first failure (a transition); anything else is a finding.
    errors_logged = [e for e in unexpected_errors(hub.log()) if "hub.health: sink" not in e]
    assert not errors_logged, "\n".join(errors_logged)
