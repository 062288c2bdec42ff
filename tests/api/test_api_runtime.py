"""The API as a part of the real hub runtime: served on hub.http, the first-start login link, the token CLI."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from hub.api.app import TOKEN_SYNC_INTERVAL
from hub.config import load_config
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port


def _config_dir(tmp_path: Path, port: int) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: rt\n  data_dir: {tmp_path / 'data'}\n  http:\n    host: 127.0.0.1\n    port: {port}\n"
    )
    return directory


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=60, check=False)


async def test_first_start_link_then_cli_tokens(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    directory = _config_dir(tmp_path, port)
    caplog.set_level(logging.INFO, "hub")
    hub = Hub(load_config(directory, {}), {})
    base = f"http://127.0.0.1:{port}"
    async with hub.lifespan(), aiohttp.ClientSession() as session:
        links = re.findall(r"http://\S+:(\d+)/#token=(\S+)", caplog.text)
        assert len(links) == 1
        assert links[0][0] == str(port)
        code = links[0][1]
        assert (await session.get(f"{base}/api/hub/health")).status == 200
        redeemed = await session.post(f"{base}/api/hub/auth/redeem", json={"code": code})
        token = (await redeemed.json())["access_token"]
        assert token != code
        headers = {"Authorization": f"Bearer {token}"}
        config = await (await session.get(f"{base}/api/config", headers=headers)).json()
        assert config["location_name"] == "rt"
        assert (await session.post(f"{base}/api/hub/auth/redeem", json={"code": code})).status == 401
        error_log = await (await session.get(f"{base}/api/error_log", headers=headers)).text()
        assert code not in error_log

        created = await asyncio.to_thread(_cli, "token", "create", "laptop", "-c", str(directory))
        assert created.returncode == 0, created.stderr
        laptop = created.stdout.strip()
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", laptop)
        # At once, well within the periodic sync interval: an unknown bearer makes the hub read the file again.
        laptop_headers = {"Authorization": f"Bearer {laptop}"}
        assert (await session.get(f"{base}/api/", headers=laptop_headers)).status == 200
        desktop = (await asyncio.to_thread(_cli, "token", "create", "desktop", "-c", str(directory))).stdout.strip()
        async with session.ws_connect(f"{base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": desktop})
            assert (await ws.receive_json())["type"] == "auth_ok"

        listed = await asyncio.to_thread(_cli, "token", "list", "-c", str(directory))
        assert "laptop" in listed.stdout
        assert "dashboard" in listed.stdout
        assert laptop not in listed.stdout

        revoked = await asyncio.to_thread(_cli, "token", "revoke", "laptop", "-c", str(directory))
        assert revoked.returncode == 0

        async def refused() -> bool:
            return (await session.get(f"{base}/api/", headers=laptop_headers)).status == 401

        # The running hub reads the token file again every TOKEN_SYNC_INTERVAL.
        await eventually(refused, 2 * TOKEN_SYNC_INTERVAL + 1, "the revoked token refused")
        again = await asyncio.to_thread(_cli, "token", "revoke", "laptop", "-c", str(directory))
        assert again.returncode == 1
        assert "No token named 'laptop'" in again.stderr


async def test_no_link_when_a_token_exists(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = _config_dir(tmp_path, free_port())
    assert _cli("token", "create", "first", "-c", str(directory)).returncode == 0
    caplog.set_level(logging.INFO, "hub")
    async with Hub(load_config(directory, {}), {}).lifespan():
        pass
    assert "#token=" not in caplog.text
