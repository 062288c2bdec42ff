"""The Redis sink as a part of the real hub: started from `hub.redis`, its hash equal to `/api/states`, its health
in `/api/hub/parts` and `/api/hub/integrations`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.sinks.redistools import hash_states


def _config_dir(tmp_path: Path, port: int, redis_url: str) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: rt\n  data_dir: {tmp_path / 'data'}\n"
        f"  http:\n    host: 127.0.0.1\n    port: {port}\n"
        f"  redis:\n    url: {redis_url}\n"
    )
    return directory


async def test_hash_equals_api_states_and_health_is_reported(tmp_path: Path, redis_server: ServerProcess) -> None:
    port = free_port()
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("test")
    tokens.save()
    hub = Hub(load_config(_config_dir(tmp_path, port, redis_server.url), {}), {})
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    reader = Redis.from_url(redis_server.url, decode_responses=True)
    async with hub.lifespan(), aiohttp.ClientSession(headers=headers) as session:
        for index in range(20):
            hub.core.states.set(f"sensor.rt_disk_{index}", str(index), {"unit_of_measurement": "%"})
        posted = await session.post(f"{base}/api/states/sensor.rt_from_api", json={"state": "on"})
        assert posted.status == 201
        hub.core.states.remove("sensor.rt_disk_3")

        async def api_states() -> dict[str, Any]:
            async with session.get(f"{base}/api/states") as answer:
                return {state["entity_id"]: state for state in await answer.json()}

        async def same() -> bool:
            return await hash_states(reader, "homelab:rt:states") == await api_states()

        await eventually(same)
        assert "binary_sensor.rt_redis_health" in await api_states()
        async with session.get(f"{base}/api/hub/parts") as answer:
            parts = {part["name"]: part for part in await answer.json()}
        assert parts["redis"]["kind"] == "sink"
        assert parts["redis"]["status"] == "ok"
        assert "redis://" not in json.dumps(parts)
        integrations = await _integrations(session, base)
        assert integrations["redis"]["kind"] == "sink"
        assert integrations["redis"]["health"]["status"] == "ok"
    newest = await reader.xrevrange("homelab:rt:events", count=1)
    assert newest[0][1]["event_type"] == "homeassistant_final_write"  # written during shutdown, before the sink let go
    await reader.aclose()


async def test_redis_down_shows_failing_in_the_integrations_answer(tmp_path: Path) -> None:
    port = free_port()
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("test")
    tokens.save()
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    hub = Hub(load_config(_config_dir(tmp_path, port, nothing_there), {}), {})
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    async with hub.lifespan(), aiohttp.ClientSession(headers=headers) as session:

        async def failing() -> bool:
            return bool((await _integrations(session, base))["redis"]["health"]["status"] == "failing")

        await eventually(failing)
        redis = (await _integrations(session, base))["redis"]
        assert redis["kind"] == "sink"
        assert redis["health"]["last_error"].startswith(f"Redis at {nothing_there.removeprefix('redis://')}: ")
        assert "redis://" not in json.dumps(redis)


async def _integrations(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with session.get(f"{base}/api/hub/integrations") as answer:
        assert answer.status == 200
        return {entry["id"]: entry for entry in await answer.json()}
