"""AppDaemon 4.5 (its HASS plugin) against the hub, as after a host reboot: AppDaemon starts first and the hub right
after it, with a first poll that takes seconds, so AppDaemon connects while the hub is STARTING. Its app's
`get_state()` must hold every entity of the hub once started, follow live changes, and again after the hub restarts
under it. AppDaemon keeps the states it loaded at start, so a hub that said RUNNING too early left it without them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.runtime import Hub
from tests.compat.venvs import APPDAEMON
from tests.fixtures.gated import Gate, Gated
from tests.fixtures.ports import free_port
from tests.fixtures.process import launch, read_log_tail

NODE = "ad"
FIRST_POLL = 3.0
"""Seconds the `gated` integration's first poll takes: AppDaemon surely connects before it ends."""

_APP = '''
import json
import os

from appdaemon.plugins.hass.hassapi import Hass


class Probe(Hass):
    """Writes what `get_state()` holds and how many changes of the gated sensor it heard, every half second."""

    def initialize(self):
        self.changes = 0
        self.listen_state(self.changed, "sensor.ad_gated_value")
        self.run_every(self.dump, "now", 0.5)

    def changed(self, entity, attribute, old, new, kwargs):
        self.changes += 1

    def dump(self, kwargs):
        path = os.path.join(self.args["out"], "probe.json")
        with open(path + ".tmp", "w") as out:
            json.dump({"states": sorted(self.get_state() or {}), "changes": self.changes}, out)
        os.replace(path + ".tmp", path)
'''


class AppDaemon:
    """AppDaemon from its cached venv on a config dir of its own, with the probe app."""

    def __init__(self, root: Path, hub_port: int, token: str) -> None:
        if not APPDAEMON.built():
            raise RuntimeError(
                f"AppDaemon's venv is missing at {APPDAEMON.path}: run `.venv/bin/python -m tests.compat.venvs`"
            )
        self.root = root
        self.out = root / "out"
        apps = root / "apps"
        apps.mkdir(parents=True)
        self.out.mkdir()
        (root / "appdaemon.yaml").write_text(
            f"""\
appdaemon:
  latitude: 0
  longitude: 0
  elevation: 0
  time_zone: UTC
  plugins:
    HASS:
      type: hass
      ha_url: http://127.0.0.1:{hub_port}
      token: {token}
      retry_secs: 0.5
logs:
  main_log:
    filename: {root / "appdaemon.log"}
  error_log:
    filename: {root / "error.log"}
"""
        )
        (apps / "apps.yaml").write_text(f"probe:\n  module: probe\n  class: Probe\n  out: {self.out}\n")
        (apps / "probe.py").write_text(_APP)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [str(APPDAEMON.path / "bin" / "appdaemon"), "-c", str(self.root)]
        self._process = launch(argv, self.root / "stdout.log")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def probe(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads((self.out / "probe.json").read_text()))
        except (OSError, ValueError):
            return None

    def log(self) -> str:
        return read_log_tail(self.root / "appdaemon.log", 60)


@asynccontextmanager
async def hub_running(config: Path) -> AsyncIterator[Hub]:
    """The hub in this process, with a first poll that takes `FIRST_POLL` seconds."""
    Gate.reset()
    hub = Hub(load_config(config, {"gated": Gated}), {"gated": Gated})
    loop = asyncio.get_running_loop()
    loop.call_later(FIRST_POLL, Gate.release.set)
    async with hub.lifespan():
        yield hub


async def _hub_entities(port: int, token: str) -> set[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/api/states", headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        return {state["entity_id"] for state in await r.json()}


async def _sees_everything(appdaemon: AppDaemon, port: int, token: str, timeout: float) -> dict[str, Any]:
    """AppDaemon's probe once its `get_state()` holds every entity the hub lists; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    missing: set[str] = set()
    while time.monotonic() < deadline:
        probe = appdaemon.probe()
        hub = await _hub_entities(port, token)
        if probe is not None:
            missing = hub - set(probe["states"])
            if not missing:
                return probe
        await asyncio.sleep(0.25)
    pytest.fail(f"AppDaemon's get_state() lacks {sorted(missing)} after {timeout} s:\n{appdaemon.log()}")


async def test_appdaemon_started_first_sees_every_entity_and_again_after_a_hub_restart(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hub"
    config.mkdir()
    (config / "hub.yaml").write_text(
        f"hub:\n  name: {NODE}\n  data_dir: {config / 'data'}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        "integrations:\n  - platform: gated\n    interval: 5s\n    timeout: 4s\n"
    )
    tokens = TokenStore.in_dir(config / "data")
    token = tokens.create("appdaemon")
    tokens.save()
    appdaemon = AppDaemon(tmp_path / "appdaemon", port, token)
    appdaemon.start()
    try:
        await asyncio.sleep(1)  # AppDaemon is up and retrying: the hub is not there yet
        async with hub_running(config):
            probe = await _sees_everything(appdaemon, port, token, 30)
            assert f"sensor.{NODE}_gated_value" in probe["states"]
            changes = probe["changes"]
            deadline = time.monotonic() + 10
            while (appdaemon.probe() or {}).get("changes", 0) <= changes:  # the gated sensor ticks every 5 s
                assert time.monotonic() < deadline, f"no live change reached AppDaemon:\n{appdaemon.log()}"
                await asyncio.sleep(0.25)
        (appdaemon.out / "probe.json").unlink()
        async with hub_running(config):  # restarted under the running AppDaemon
            await _sees_everything(appdaemon, port, token, 30)
    finally:
        appdaemon.stop()
    errors = (appdaemon.root / "error.log").read_text() if (appdaemon.root / "error.log").exists() else ""
    assert "Traceback" not in errors, errors
