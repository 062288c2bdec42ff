"""Fixtures of the compat suite: one broker, one Home Assistant and one hub node per module, all real processes.

The tests of a module run in file order against the same three processes (a real Home Assistant takes seconds to
start); each test leaves them as the next one expects, and the last one kills the hub.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.compat.homeassistant import HomeAssistant
from tests.fixtures.dockerd import DockerDaemon
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess, launch, read_log_tail, require_binary

NODE = "nas"
POLL_INTERVAL = 1.0
"""system_info's interval in the hub under test: short, so that 10 intervals fit in the time budget."""

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def compat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compat")


@pytest.fixture(scope="module")
def broker(compat_dir: Path) -> Iterator[ServerProcess]:
    binary = require_binary("mosquitto", "mosquitto")
    port = free_port()
    conf = compat_dir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = ServerProcess(
        argv=[binary, "-c", str(conf)], port=port, url=f"mqtt://127.0.0.1:{port}", log_path=compat_dir / "mqtt.log"
    )
    process.start()
    yield process
    process.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def home_assistant(compat_dir: Path, broker: ServerProcess) -> AsyncIterator[HomeAssistant]:
    ha = HomeAssistant(compat_dir / "homeassistant")
    try:
        took = await ha.start()
        print(f"\nHome Assistant up in {took:.1f} s", file=sys.stderr)
        await ha.onboard(broker.port)
        yield ha
    finally:
        await ha.stop()


class HubNode:
    """The hub under test as a process, started with `homelab-hub run` on its own config dir."""

    def __init__(self, directory: Path, broker: ServerProcess, docker_url: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "hub.log"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hub.yaml").write_text(
            f"""\
hub:
  name: {NODE}
  data_dir: {directory / "data"}
  http: {{host: 127.0.0.1, port: {self.port}}}
  mqtt: {{host: 127.0.0.1, port: {broker.port}, birth_delay: 100ms}}
integrations:
  - platform: system_info
    interval: {POLL_INTERVAL}s
  - platform: docker
    url: {docker_url}
    interval: 5s
    controls: true
  - platform: checks
    checks:
      - {{kind: tcp, name: broker, host: 127.0.0.1, port: {broker.port}, interval: 2s, timeout: 1s}}
"""
        )
        self.token = subprocess.run(
            [sys.executable, "-m", "hub", "token", "create", "compat", "-c", str(directory)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        self._process = launch([sys.executable, "-m", "hub", "run", "-c", str(self.directory)], self.log_path)
        deadline = time.monotonic() + 30
        while not await self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not come up:\n{read_log_tail(self.log_path, 40)}")
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None

    async def rest(self, path: str) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token}"}) as response,
        ):
            assert response.status == 200, await response.text()
            return await response.json()

    async def ws(self, command: str) -> Any:
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json({"id": 1, "type": command})
            reply = await ws.receive_json()
            assert reply["success"], reply
            return reply["result"]

    async def _answers(self) -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{self.url}/api/") as response:
                return response.status in (200, 401)
        except aiohttp.ClientError:
            return False


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub_node(
    compat_dir: Path, broker: ServerProcess, dockerd: DockerDaemon, home_assistant: HomeAssistant
) -> AsyncIterator[HubNode]:
    node = HubNode(compat_dir / "hub", broker, dockerd.url)
    await node.start()
    try:
        yield node
    finally:
        node.kill()
