"""Home Assistant's own client, `home-assistant-js-websocket` under Node, against the running API.

It connects with a long-lived token, subscribes to entities, calls a service; its entity map must equal
`/api/states`, and a state change must reach it.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.api.keys import CONNECTIONS
from hub.core import ServiceCall, ServiceDescription
from tests.api.apitools import Api

JS_DIR = Path(__file__).parent / "js"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm (Debian nodejs, npm)"
)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned packages of package-lock.json, installed once (offline from npm's cache when it has them)."""
    modules = JS_DIR / "node_modules"
    if not (modules / "home-assistant-js-websocket").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=JS_DIR, check=True, timeout=300
        )
    return modules


def _comparable(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state as both sides can express it: the JS client keeps whole milliseconds (`new Date(lc * 1000)`)."""

    def millis(text: str) -> int:
        if text.endswith("Z"):  # the client's own ISO string: exact milliseconds
            return round(datetime.fromisoformat(text[:-1] + "+00:00").timestamp() * 1000)
        return math.floor(datetime.fromisoformat(text).timestamp() * 1000)

    return {
        "entity_id": state["entity_id"],
        "state": state["state"],
        "attributes": state["attributes"],
        "context": state["context"],
        "last_changed": millis(state["last_changed"]),
        "last_updated": millis(state["last_updated"]),
    }


async def _rest_states(api: Api) -> dict[str, dict[str, Any]]:
    states = await (await api.request("GET", "/api/states")).json()
    return {state["entity_id"]: _comparable(state) for state in states}


async def test_home_assistant_js_websocket(api: Api, node_modules: Path) -> None:
    states = api.core.states
    states.set("sensor.nas_cpu", "12.5", {"unit_of_measurement": "%", "friendly_name": "CPU"})
    states.set("sensor.nas_load", "0.3")
    states.set("sensor.external", "wait")
    states.set("sensor.nas_load", "0.4", {"x": 1})  # last_updated differs from last_changed

    async def set_state(call: ServiceCall) -> Mapping[str, Any] | None:
        states.set("sensor.js_target", str(call.data["value"]), context=call.context)
        return None

    api.core.services.register("test", ServiceDescription(name="set_state", handler=set_state))
    before = await _rest_states(api)  # the client calls the service right after its first entity map
    node = await asyncio.create_subprocess_exec(
        "node",
        str(JS_DIR / "client.mjs"),
        api.url,
        api.token,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert node.stdout is not None

    async def step(name: str) -> dict[str, Any]:
        line = await asyncio.wait_for(node.stdout.readline(), 20)  # type: ignore[union-attr]
        assert line, (await node.stderr.read()).decode()  # type: ignore[union-attr]
        data: dict[str, Any] = json.loads(line)
        assert data["step"] == name, data
        return data

    try:
        assert (await step("connected"))["haVersion"] == "2024.3.3"
        initial = await step("initial")
        assert {k: _comparable(v) for k, v in initial["entities"].items()} == before
        (connection,) = list(api.app[CONNECTIONS])
        assert connection.coalesce, "the client enables coalesce_messages when the version allows it"

        called = await step("called")
        assert called["result"]["context"]["user_id"] == api.tokens.records()[0].id
        assert {k: _comparable(v) for k, v in called["entities"].items()} == await _rest_states(api)

        states.set("sensor.external", "go", {"why": "test"})
        final = await step("final")
        assert {k: _comparable(v) for k, v in final["entities"].items()} == await _rest_states(api)
        assert await asyncio.wait_for(node.wait(), 10) == 0
    finally:
        if node.returncode is None:
            node.kill()
            await node.wait()
