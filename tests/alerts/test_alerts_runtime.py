"""Alerts in the real hub: rules from hub.yaml, their entities, and `GET /api/hub/alerts` through the API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.runtime import Hub
from tests.fixtures.ports import free_port


async def test_rules_from_the_config_fire_and_show_in_the_api(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: rt\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        "alerts:\n"
        "  - name: hot\n    entity_id: sensor.rt_*_temperature\n    above: 70\n    clear_below: 60\n"
        "  - name: quiet\n    entity_id: sensor.rt_other\n    no_update_for: 1h\n"
    )
    store = TokenStore.in_dir(tmp_path / "data")
    token = store.create("test")
    store.save()
    hub = Hub(load_config(tmp_path, {}), {})
    headers = {"Authorization": f"Bearer {token}"}
    async with hub.lifespan(), aiohttp.ClientSession(headers=headers) as session:
        hub.core.states.set("sensor.rt_cpu_temperature", "75", {"unit_of_measurement": "°C"})
        hub.core.states.set("sensor.rt_nvme_temperature", "40", {"unit_of_measurement": "°C"})
        answer = await session.get(f"http://127.0.0.1:{port}/api/hub/alerts")
        assert answer.status == 200
        rules = {rule["name"]: rule for rule in await answer.json()}
        assert rules["hot"]["firing"] is True
        assert rules["hot"]["entities"] == ["sensor.rt_cpu_temperature"]
        assert rules["hot"]["trigger"] == "above 70"
        assert rules["quiet"]["firing"] is False
        state = await (await session.get(f"http://127.0.0.1:{port}/api/states/binary_sensor.alert_hot")).json()
        assert state["state"] == "on"
        assert state["attributes"]["device_class"] == "problem"
        hub.core.states.set("sensor.rt_cpu_temperature", "59")
        await asyncio.sleep(0)
        rules = {
            rule["name"]: rule for rule in await (await session.get(f"http://127.0.0.1:{port}/api/hub/alerts")).json()
        }
        assert rules["hot"]["firing"] is False
        assert rules["hot"]["last_cleared"] is not None
