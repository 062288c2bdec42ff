"""/metrics: entity gauges and the hub's own figures, checked by promtool; token-protected unless made public."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from hub.config.models import HttpConfig
from tests.api.apitools import Api, settings_for, ws_login


@pytest.fixture
def http_settings(tmp_path: object, request: pytest.FixtureRequest) -> HttpConfig:
    public = getattr(request, "param", False)
    return settings_for(tmp_path, metrics_public=public)  # type: ignore[arg-type]


async def _metrics(api: Api) -> str:
    api.core.states.set("sensor.nas_cpu", "12.5", {"unit_of_measurement": "%", "friendly_name": 'CPU "total"\\'})
    api.core.states.set("binary_sensor.nas_up", "on")
    api.core.states.set("sensor.nas_text", "hello")
    api.control.health.get("system_info").success(0.25)  # type: ignore[union-attr]
    sink = api.control.health.create("redis", "sink")
    sink.queue_depth = 7
    sink.failure("down")
    client = await ws_login(api)
    response = await api.request("GET", "/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = await response.text()
    await client.ws.close()
    return text


async def test_metrics_content(api: Api) -> None:
    text = await _metrics(api)
    assert (
        'homelab_entity_state{entity_id="sensor.nas_cpu",domain="sensor",node="nas",'
        'friendly_name="CPU \\"total\\"\\\\",unit="%"} 12.5'
    ) in text
    assert 'homelab_entity_state{entity_id="binary_sensor.nas_up"' in text
    assert "sensor.nas_text" not in text
    assert 'homelab_poll_duration_seconds{integration="system_info"} 0.25' in text
    assert 'homelab_part_queue_depth{part="redis",kind="sink"} 7' in text
    assert 'homelab_part_errors_total{part="redis",kind="sink"} 1' in text
    assert "homelab_websocket_clients 1" in text
    assert "homelab_state_changes_total 3" in text


@pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian package prometheus (promtool) missing")
async def test_promtool_check_metrics_passes(api: Api) -> None:
    text = await _metrics(api)
    process = await asyncio.create_subprocess_exec(
        "promtool",
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate(text.encode())
    assert process.returncode == 0, output.decode()
    assert output.decode().strip() == ""


async def test_metrics_need_a_token_by_default(api: Api) -> None:
    assert (await api.session.get(api.url + "/metrics")).status == 401


@pytest.mark.parametrize("http_settings", [True], indirect=True)
async def test_metrics_public_switch(api: Api) -> None:
    assert (await api.session.get(api.url + "/metrics")).status == 200
