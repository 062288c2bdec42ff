"""Push checks through Uptime Kuma's URL shape, from curl as a cron job would call it: up, down with a message,
a wrong token, and the silence after which the check goes down by itself."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from hub.config import load_config
from hub.runtime import Hub
from integrations.checks import Checks
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

TOKEN = "nightly-backup-7f3k2"
ENTITY = "binary_sensor.t_check_backup"


async def _curl(*args: str) -> tuple[int, object]:
    done = await asyncio.to_thread(
        subprocess.run, ["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, check=True
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.startswith("{") else body


async def test_push_url_as_uptime_kuma_has_it(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: t\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        "integrations:\n  - platform: checks\n    checks:\n"
        f"      - {{kind: push, name: backup, token: {TOKEN}, interval: 1s, timeout: 500ms, grace: 1s}}\n"
    )
    hub = Hub(load_config(tmp_path, {"checks": Checks}), {"checks": Checks})
    base = f"http://127.0.0.1:{port}/api/push"
    async with hub.lifespan():
        states = hub.core.states
        assert states.get(ENTITY) is None  # nothing is known before the first push or the first silence
        assert await _curl(f"{base}/{TOKEN}?status=up&msg=OK&ping=42") == (200, {"ok": True})
        state = states.get(ENTITY)
        assert state is not None
        assert (state.state, state.attributes["reason"]) == ("on", "OK")
        assert states.get("sensor.t_check_backup_response_time").state == "42.0"  # type: ignore[union-attr]
        assert await _curl("-X", "POST", f"{base}/{TOKEN}?status=down&msg=disk%20full") == (200, {"ok": True})
        assert (states.get(ENTITY).state, states.get(ENTITY).attributes["reason"]) == ("off", "disk full")  # type: ignore[union-attr]
        assert await _curl(f"{base}/{TOKEN}?status=sideways") == (
            400,
            {"ok": False, "msg": "status must be up or down"},
        )
        wrong = await _curl(f"{base}/not-the-token-at-all")
        assert wrong == (404, {"ok": False, "msg": "Monitor not found or not active."})
        assert await _curl(f"{base}/{TOKEN}") == (200, {"ok": True})
        assert states.get(ENTITY).state == "on"  # type: ignore[union-attr]
        silent = await eventually(lambda: states.get(ENTITY).state == "off", 5, "down after the silence")  # type: ignore[union-attr]
        assert silent
        assert states.get(ENTITY).attributes["reason"] == "no push within 2s"  # type: ignore[union-attr]
        assert TOKEN not in json.dumps([s.as_dict() for s in states.all()])  # the token is in no state
        for _ in range(4):  # with the one above, five wrong tokens: the address is banned, as for bearer tokens
            assert (await _curl(f"{base}/guess-{_}-xxxxxxxxxx"))[0] == 404
        assert (await _curl(f"{base}/{TOKEN}"))[0] == 403
