"""Two hubs on one broker: a real `homelab-hub run` node publishes, a central hub ingests it; SIGKILL and Last Will."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.integration import discover_integrations
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import recording


def _hub_yaml(directory: Path, node: str, broker: ServerProcess, extra: str = "") -> Path:
    directory.mkdir(parents=True)
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: {node}\n  data_dir: {directory / 'data'}\n"
        f"  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {broker.port}, birth_delay: 10ms}}\n"
        f"integrations:\n  - platform: system_info\n    interval: 2s\n{extra}"
    )
    return directory


@pytest.fixture
def remote_node(tmp_path: Path, mosquitto: ServerProcess) -> Iterator[subprocess.Popen[bytes]]:
    """A real hub process named `pi` publishing to the broker; SIGKILLed by the test or at the end."""
    directory = _hub_yaml(tmp_path / "pi", "pi", mosquitto)
    log = (tmp_path / "pi.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "-c", str(directory)], stdout=log, stderr=subprocess.STDOUT
    )
    yield process
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    log.close()


@pytest.mark.usefixtures("instant_backoff")
async def test_two_nodes_one_view_and_the_last_will(
    tmp_path: Path, mosquitto: ServerProcess, remote_node: subprocess.Popen[bytes]
) -> None:
    ingest = f"  - platform: mqtt\n    port: {mosquitto.port}\n    discovery: true\n"
    directory = _hub_yaml(tmp_path / "central", "central", mosquitto, ingest)
    tokens = TokenStore.in_dir(directory / "data")
    token = tokens.create("test")
    tokens.save()
    config = load_config(directory, discover_integrations())
    hub = Hub(config, discover_integrations())
    async with (
        recording(mosquitto.port, "homelab/pi/availability", "homeassistant/+/central/#") as seen,
        hub.lifespan(),
    ):
        core = hub.core
        await eventually(lambda: core.states.get("sensor.pi_cpu_percent") is not None, 30, "pi's cpu ingested")
        await eventually(lambda: core.states.get("sensor.central_cpu_percent") is not None, 10, "own cpu")
        pi_ids = {s.entity_id for s in core.states.all() if s.object_id.startswith("pi_")}
        await eventually(lambda: core.states.get("sensor.pi_cpu_percent").state != "unavailable", 10, "pi online")  # type: ignore[union-attr]
        http = config.hub.http
        async with aiohttp.ClientSession() as session:
            response = await session.get(
                f"http://127.0.0.1:{http.port}/api/states", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status == 200
            listed = {state["entity_id"] for state in await response.json()}
        assert pi_ids <= listed
        assert "sensor.central_cpu_percent" in listed
        entry = core.entities.get("sensor.pi_cpu_percent")
        assert entry is not None
        assert entry.node == "pi"
        # The central hub never re-publishes what it ingested: no loop back to the pi node.
        assert not [m for m in seen.messages if "/central/pi_" in m.topic.value]
        assert seen.payload("homelab/pi/availability") == b"online"

        os.kill(remote_node.pid, signal.SIGKILL)
        await eventually(lambda: seen.payload("homelab/pi/availability") == b"offline", 10, "the Last Will")
        await eventually(lambda: core.states.get("sensor.pi_cpu_percent").state == "unavailable", 5, "pi gone")  # type: ignore[union-attr]
        await asyncio.sleep(0.1)
