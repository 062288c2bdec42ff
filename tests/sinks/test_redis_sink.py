"""The Redis sink against a real redis-server: hash, stream, pub/sub, resync, outage, slowness, secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from hub.core import Core
from hub.health import HealthStatus
from tests.fixtures.eventually import eventually
from tests.fixtures.process import ServerProcess
from tests.sinks.redistools import hash_states, running_sink, states_of


async def test_hash_holds_every_current_state_in_ha_shape(redis_server: ServerProcess) -> None:
    async with running_sink(redis_server.url) as run:
        run.core.states.set("sensor.nas_cpu", "12.5", {"unit_of_measurement": "%", "friendly_name": "CPU"})
        run.core.states.set("sensor.nas_load", "0.4")
        run.core.states.set("sensor.nas_gone", "1")
        run.core.states.set("sensor.nas_cpu", "13.0", {"unit_of_measurement": "%", "friendly_name": "CPU"})
        run.core.states.remove("sensor.nas_gone")
        key = run.sink.keys.states
        assert key == "homelab:nas:states"

        async def same() -> bool:
            return await hash_states(run.reader, key) == states_of(run.core)

        await eventually(same)
        stored = (await hash_states(run.reader, key))["sensor.nas_cpu"]
        assert stored["state"] == "13.0"
        assert stored["attributes"] == {"unit_of_measurement": "%", "friendly_name": "CPU"}
        assert set(stored) == {"entity_id", "state", "attributes", "last_changed", "last_updated", "context"}
        assert run.health.status is HealthStatus.ok
        await eventually(lambda: run.health.queue_depth == 0)


async def test_connect_resyncs_the_hash_removing_stale_fields(redis_server: ServerProcess) -> None:
    seed = Redis.from_url(redis_server.url, decode_responses=True)
    await seed.hset("homelab:nas:states", mapping={"sensor.nas_old": "{}", "sensor.nas_cpu": "{}"})
    await seed.aclose()
    core = Core("nas")
    core.states.set("sensor.nas_cpu", "5")
    core.states.set("sensor.nas_mem", "40")
    async with running_sink(redis_server.url, core) as run:

        async def resynced() -> bool:
            return await hash_states(run.reader, run.sink.keys.states) == states_of(core)

        await eventually(resynced)


async def test_stream_is_trimmed_near_its_cap_and_keeps_the_newest(redis_server: ServerProcess) -> None:
    async with running_sink(redis_server.url, key_prefix="t:", stream_maxlen=100) as run:
        for value in range(2000):
            run.core.states.set("sensor.nas_counter", str(value))
            if value % 50 == 49:  # stay under the cap, which also bounds what may wait for Redis
                await eventually(lambda: run.health.queue_depth == 0)
        assert run.sink.written == 2000
        assert run.sink.dropped == 0
        length = await run.reader.xlen("t:events")
        # MAXLEN ~ trims whole radix-tree nodes (100 entries each by default), so the length is near the cap.
        assert 100 <= length <= 300
        (_, newest), *_ = await run.reader.xrevrange("t:events", count=1)
        assert newest["event_type"] == "state_changed"
        event = json.loads(newest["event"])
        assert event["data"]["new_state"]["state"] == "1999"
        assert event["data"]["old_state"]["state"] == "1998"
        assert event["origin"] == "LOCAL"


async def test_stream_carries_other_events_too(redis_server: ServerProcess) -> None:
    async with running_sink(redis_server.url, key_prefix="o:") as run:
        run.core.bus.fire("backup_finished", {"duration": 12})
        await eventually(lambda: run.sink.written == 1)
        ((_, fields),) = await run.reader.xrange("o:events")
        assert fields["event_type"] == "backup_finished"
        assert json.loads(fields["event"])["data"] == {"duration": 12}


async def test_pubsub_subscribers_receive_each_state_change(redis_server: ServerProcess) -> None:
    async with running_sink(redis_server.url) as run:
        pubsub = run.reader.pubsub()
        await pubsub.subscribe(run.sink.keys.state_changed)
        assert (await pubsub.get_message(timeout=2))["type"] == "subscribe"  # type: ignore[index]
        run.core.states.set("sensor.nas_temp", "41")
        run.core.states.set("sensor.nas_temp", "42")
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                received.append(json.loads(message["data"]))
        await pubsub.aclose()
        assert [event["data"]["new_state"]["state"] for event in received] == ["41", "42"]
        assert received[0]["event_type"] == "state_changed"
        assert received[0]["data"]["entity_id"] == "sensor.nas_temp"


class _Rounds:
    """Rounds of 50 state writes and a removal, each timed from the first write to the last."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._step = 0
        self._durations: list[float] = []

    async def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._step += 1
            started = time.perf_counter()
            for index in range(50):
                self._core.states.set(f"sensor.nas_disk_{index}", str(self._step))
            self._core.states.remove(f"sensor.nas_disk_{self._step % 50}")
            self._durations.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)

    def median_and_reset(self) -> float:
        median = statistics.median(self._durations)
        self._durations.clear()
        return median


async def test_outage_of_ten_seconds_resyncs_and_never_holds_the_bus(
    redis_server: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    escaped: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: escaped.append(context))
    async with running_sink(redis_server.url, stream_maxlen=500) as run:
        for index in range(50):
            run.core.states.set(f"sensor.nas_disk_{index}", "1")
        await eventually(lambda: run.sink.written == 50)
        rounds = _Rounds(run.core)
        await rounds.run_for(1.0)  # Redis up: the baseline
        baseline = rounds.median_and_reset()
        await asyncio.to_thread(redis_server.stop)
        await rounds.run_for(10.0)  # Redis down
        # Medians, since the machine also runs other tests: a preempted round says nothing about the sink.
        assert rounds.median_and_reset() < 2 * baseline + 0.002
        assert run.health.status is HealthStatus.failing
        assert "Redis at 127.0.0.1" in str(run.health.last_error)
        # Bounded: one mark per entity plus at most stream_maxlen events, however long the outage.
        assert (run.health.queue_depth or 0) <= 50 + 500
        assert run.sink.dropped > 0

        await asyncio.to_thread(redis_server.start)
        key = run.sink.keys.states

        async def resynced() -> bool:
            return await hash_states(run.reader, key) == states_of(run.core)

        await eventually(resynced, timeout=10)
        await eventually(lambda: run.health.status is HealthStatus.ok)
        run.core.states.set("sensor.nas_after", "back")
        await eventually(resynced)
    assert escaped == []
    assert "Traceback" not in caplog.text


async def test_slow_redis_delays_neither_the_bus_nor_other_sinks(redis_server: ServerProcess) -> None:
    other: list[float] = []  # a stand-in for another sink: its own listener, timestamps of what it saw

    async with running_sink(redis_server.url, timeout="5s") as run:
        run.core.bus.listen("state_changed", lambda _event: other.append(time.perf_counter()))
        run.core.states.set("sensor.nas_cpu", "1")
        await eventually(lambda: run.sink.written == 1)
        blocker = Redis.from_url(redis_server.url)
        # CLIENT PAUSE stands in for DEBUG SLEEP, which Redis 7 refuses unless started with enable-debug-command.
        await blocker.client_pause(2000)  # every other client's commands now wait two seconds

        fired = time.perf_counter()
        for value in range(2, 202):
            run.core.states.set("sensor.nas_cpu", str(value))
        fire_took = time.perf_counter() - fired
        lag_started = time.perf_counter()
        await asyncio.sleep(0.01)
        loop_lag = time.perf_counter() - lag_started - 0.01
        assert fire_took < 0.05
        assert loop_lag < 0.05
        assert len(other) == 201
        assert max(other) - fired < 0.05
        assert run.sink.written == 1  # Redis has not taken any of them yet
        await blocker.aclose()
        await eventually(lambda: run.sink.written == 201)
        assert (await hash_states(run.reader, run.sink.keys.states))["sensor.nas_cpu"]["state"] == "201"


async def test_a_redis_slower_than_the_timeout_fails_then_recovers(redis_server: ServerProcess) -> None:
    async with running_sink(redis_server.url, timeout="300ms") as run:
        run.core.states.set("sensor.nas_cpu", "1")
        await eventually(lambda: run.sink.written == 1)
        blocker = Redis.from_url(redis_server.url)
        await blocker.client_pause(1000)
        await blocker.aclose()
        run.core.states.set("sensor.nas_cpu", "2")
        await eventually(lambda: run.health.timeouts >= 1)
        assert run.health.status is not HealthStatus.ok
        await eventually(lambda: run.health.status is HealthStatus.ok)
        await eventually(lambda: run.sink.written >= 2)
        assert (await hash_states(run.reader, run.sink.keys.states))["sensor.nas_cpu"]["state"] == "2"


async def test_password_stays_out_of_logs_and_health(
    redis_server: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Redis.from_url(redis_server.url)
    await admin.config_set("requirepass", "hunter2-secret")
    await admin.aclose()
    caplog.set_level(logging.DEBUG)
    wrong = f"redis://:wrong-secret@127.0.0.1:{redis_server.port}/0"
    async with running_sink(wrong) as run:
        await eventually(lambda: run.health.consecutive_errors >= 1)
        assert run.health.last_error is not None
        assert "wrong-secret" not in run.health.last_error
        assert "wrong-secret" not in caplog.text
    right = f"redis://:hunter2-secret@127.0.0.1:{redis_server.port}/0"
    async with running_sink(right) as run:
        run.core.states.set("sensor.nas_cpu", "1")
        await eventually(lambda: run.sink.written == 1)
        assert "hunter2-secret" not in caplog.text


async def test_stop_writes_what_is_pending(redis_server: ServerProcess) -> None:
    async with running_sink(redis_server.url, key_prefix="s:") as run:
        await eventually(lambda: run.health.success_count >= 1)
        for value in range(3000):
            run.core.states.set("sensor.nas_counter", str(value))
        reader = Redis.from_url(redis_server.url, decode_responses=True)
    assert run.sink.written == 3000
    assert await reader.xlen("s:events") == 3000
    assert json.loads(await reader.hget("s:states", "sensor.nas_counter"))["state"] == "2999"  # type: ignore[arg-type]
    await reader.aclose()


async def test_an_event_that_cannot_be_json_is_skipped_and_the_rest_written(redis_server: ServerProcess) -> None:
    circular: dict[str, Any] = {}
    circular["self"] = circular
    async with running_sink(redis_server.url, key_prefix="j:") as run:
        run.core.bus.fire("broken", {"loop": circular})
        run.core.states.set("sensor.nas_after", "1")
        await eventually(lambda: run.sink.written == 1)
        ((_, fields),) = await run.reader.xrange("j:events")
        assert fields["event_type"] == "state_changed"
        assert run.health.status is HealthStatus.ok
