"""A real Home Assistant for the compat tests: started on a temporary config dir and a free port, onboarded
through its own REST API, given an MQTT config entry through its config-flow API, and read through its REST and
WebSocket APIs. Its own log is part of every verdict (`problems()`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.compat.venvs import HOME_ASSISTANT
from tests.fixtures.ports import free_port
from tests.fixtures.process import launch, read_log_tail

__all__ = ["HomeAssistant"]

_CONFIGURATION = """\
homeassistant:
  name: compat
  time_zone: UTC
  unit_system: metric
  country: DE
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
"""
_LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (?P<level>[A-Z]+) \((?P<thread>[^)]*)\) \[(?P<logger>[^\]]+)\]"
)
_NOT_ABOUT_US = (
    # HA's own environment, said once at every start.
    re.compile(r"\[homeassistant\.bootstrap\] Support for the running Python version 3\.11"),
    re.compile(r"\[homeassistant\.bootstrap\] Skipping pip installation"),  # --skip-pip, ours on purpose
)
_PASSWORD = "compat-password"


class HomeAssistant:
    """One Home Assistant process on `config_dir`; `start()` and `stop()` may be called again (a restart)."""

    def __init__(self, config_dir: Path) -> None:
        if not HOME_ASSISTANT.built():
            raise RuntimeError(
                f"Home Assistant's venv is missing at {HOME_ASSISTANT.path}: "
                "run `.venv/bin/python -m tests.compat.venvs` (scripts/test does)"
            )
        self.config_dir = config_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config_dir / "ha.out"
        self.token = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._ids = itertools.count(1)
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "configuration.yaml").write_text(_CONFIGURATION.format(port=self.port))

    # -- process ---------------------------------------------------------------------------------------------

    async def start(self, timeout: float = 60.0) -> float:
        """Start HA and wait until its HTTP API answers; returns the seconds it took."""
        started = time.monotonic()
        argv = [str(HOME_ASSISTANT.python), "-m", "homeassistant", "--config", str(self.config_dir), "--skip-pip"]
        self._process = launch(argv, self.log_path)
        async with aiohttp.ClientSession() as session:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"Home Assistant exited at start:\n{read_log_tail(self.log_path, 40)}")
                try:
                    async with session.get(f"{self.url}/api/onboarding", timeout=aiohttp.ClientTimeout(total=1)) as r:
                        if r.status in (200, 401):
                            return time.monotonic() - started
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"Home Assistant not up after {timeout} s:\n{read_log_tail(self.log_path, 40)}")
                await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 30.0) -> None:
        """A clean stop (SIGTERM, as systemd or docker stop would), SIGKILL only past `timeout`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    # -- onboarding ------------------------------------------------------------------------------------------

    async def onboard(self, mqtt_port: int) -> None:
        """The owner account, a token, and the MQTT integration against the broker at `mqtt_port`.

        Onboarding's `core_config` step is left out: it starts config flows of cloud integrations (translation,
        weather, radio) whose libraries the venv does not carry; the location is in configuration.yaml instead.
        """
        client_id = f"{self.url}/"
        async with aiohttp.ClientSession() as session:
            user = await _json(
                session.post(
                    f"{self.url}/api/onboarding/users",
                    json={
                        "client_id": client_id,
                        "name": "Compat",
                        "username": "compat",
                        "password": _PASSWORD,
                        "language": "en",
                    },
                )
            )
            tokens = await _json(
                session.post(
                    f"{self.url}/auth/token",
                    data={"grant_type": "authorization_code", "code": user["auth_code"], "client_id": client_id},
                )
            )
            self.token = tokens["access_token"]
            await self.rest("POST", "/api/onboarding/analytics", {})
            await self.rest(
                "POST", "/api/onboarding/integration", {"client_id": client_id, "redirect_uri": f"{client_id}?x=1"}
            )
            # A long-lived token, as a user makes one on their profile page: it outlives restarts and 30 minutes.
            self.token = await self.ws("auth/long_lived_access_token", client_name="compat", lifespan=365)
        flow = await self.rest("POST", "/api/config/config_entries/flow", {"handler": "mqtt"})
        assert (flow["type"], flow["step_id"]) == ("form", "broker"), flow
        entry = await self.rest(
            "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {"broker": "127.0.0.1", "port": mqtt_port}
        )
        assert (entry["type"], entry["result"]["state"]) == ("create_entry", "loaded"), entry

    # -- API -------------------------------------------------------------------------------------------------

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        async with aiohttp.ClientSession() as session:
            return await _json(
                session.request(
                    method, f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {self.token}"}
                )
            )

    async def ws(self, command: str, **fields: Any) -> Any:
        """One WebSocket command on a fresh connection, its result or a failed assertion with HA's error."""
        async with aiohttp.ClientSession() as session, session.ws_connect(f"{self.url}/api/websocket") as ws:
            assert (await ws.receive_json())["type"] == "auth_required"
            await ws.send_json({"type": "auth", "access_token": self.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            message_id = next(self._ids)
            await ws.send_json({"id": message_id, "type": command, **fields})
            while True:
                reply = await ws.receive_json(timeout=30)
                if reply.get("id") == message_id:
                    assert reply["success"], f"{command}: {reply.get('error')}"
                    return reply["result"]

    async def states(self) -> dict[str, dict[str, Any]]:
        return {state["entity_id"]: state for state in await self.rest("GET", "/api/states")}

    # -- its log ---------------------------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every warning and error HA logged, each with the lines that follow it (a traceback), but those about
        its own environment."""
        if not self.log_path.exists():
            return []
        found: list[list[str]] = []
        current: list[str] | None = None
        for line in self.log_path.read_text(errors="replace").splitlines():
            match = _LOG_LINE.match(line)
            if match is None:
                if current is not None:
                    current.append(line)
                continue
            current = None
            if match["level"] in ("WARNING", "ERROR", "CRITICAL") and not any(p.search(line) for p in _NOT_ABOUT_US):
                current = [line]
                found.append(current)
        return ["\n".join(block) for block in found]


async def _json(request: Any) -> Any:
    async with request as response:
        text = await response.text()
        assert response.status < 300, f"{response.method} {response.url}: {response.status} {text[:500]}"
        return await response.json() if text else None
