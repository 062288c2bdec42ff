"""`/api/hub/checks`, the `hub/checks/subscribe` WebSocket feed and a public status page, in a running hub with
its recorder, checking a local site that goes down and up again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.runtime import Hub
from integrations.checks import Checks
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

AVAILABLE = {"checks": Checks}


class Site:
    """A local site whose answer the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.port = free_port()

    async def handle(self, _request: web.Request) -> web.Response:
        return web.Response(status=self.status, text="Nextcloud")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    served = Site()
    app = web.Application()
    app.router.add_get("/", served.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", served.port).start()
    yield served
    await runner.cleanup()


@pytest.fixture
async def hub(tmp_path: Path, site: Site) -> AsyncIterator[tuple[str, str]]:
    """A hub checking the site and a closed port, with a status page that shows only the site; its URL and token."""
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: t\n  data_dir: {tmp_path / 'data'}\n"
        f"  recorder: {{commit_interval: 100ms}}\n"
        f"  http:\n    host: 127.0.0.1\n    port: {port}\n"
        "    status_pages:\n      family: {title: Our services, checks: [cloud, missing]}\n"
        "integrations:\n  - platform: checks\n    checks:\n"
        f"      - {{kind: http, name: cloud, url: 'http://127.0.0.1:{site.port}/', interval: 1s, timeout: 500ms}}\n"
        f"      - {{kind: tcp, name: db, host: 127.0.0.1, port: {free_port()}, interval: 1s, timeout: 500ms}}\n"
    )
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("test")
    tokens.save()
    running = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with running.lifespan():
        yield f"http://127.0.0.1:{port}", token


async def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        body = await response.json() if response.content_type == "application/json" else await response.text()
        return response.status, body


def _by_name(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in listing["checks"]}


async def test_checks_listing_with_uptime_and_outages(hub: tuple[str, str], site: Site) -> None:
    base, token = hub

    async def both_recorded() -> dict[str, dict[str, Any]] | None:
        checks = _by_name((await _get(f"{base}/api/hub/checks", token))[1])
        known = all(check["uptime"]["24h"] is not None for check in checks.values())
        return checks if len(checks) == 2 and known else None

    checks = await eventually(both_recorded, 10, "both checks recorded")
    cloud, db = checks["cloud"], checks["db"]
    assert (cloud["status"], cloud["kind"], cloud["reason"]) == ("up", "http", "HTTP 200")
    assert cloud["uptime"] == {"24h": 100.0, "7d": 100.0, "30d": 100.0}
    assert cloud["bars"][-1] == 100.0
    assert len(cloud["bars"]) == 90
    assert cloud["bars"][:-1] == [None] * 89  # the hub knows only today
    assert 0 < cloud["response_time_ms"] < 500
    assert cloud["entity_id"] == "binary_sensor.t_check_cloud"
    assert cloud["outages"] == []
    assert (db["status"], db["uptime"]["24h"], db["response_time_ms"]) == ("down", 0.0, None)
    assert db["outages"][0]["end"] is None
    assert db["outages"][0]["reason"] == "connection refused"

    site.status = 503

    async def cloud_outage() -> dict[str, Any] | None:
        cloud = _by_name((await _get(f"{base}/api/hub/checks", token))[1])["cloud"]
        return cloud if cloud["outages"] else None

    cloud = await eventually(cloud_outage, 10, "the site's outage")
    assert cloud["status"] == "down"
    assert cloud["outages"][0]["reason"] == "HTTP 503 Service Unavailable"
    assert 0 < cloud["uptime"]["24h"] < 100
    site.status = 200

    async def cloud_back() -> dict[str, Any] | None:
        cloud = _by_name((await _get(f"{base}/api/hub/checks?bars=hour", token))[1])["cloud"]
        return cloud if cloud["outages"][0]["end"] is not None else None

    cloud = await eventually(cloud_back, 10, "the site back up")
    assert cloud["status"] == "up"
    assert cloud["outages"][0]["duration_s"] > 0
    assert 0 < cloud["bars"][-1] < 100  # this hour: up, down, up

    status, error = await _get(f"{base}/api/hub/checks?bars=week", token)
    assert (status, error) == (400, {"message": "Invalid bars: expected day or hour"})
    assert (await _get(f"{base}/api/hub/checks"))[0] == 401


async def test_status_page_is_public_and_shows_only_its_checks(hub: tuple[str, str]) -> None:
    base, _ = hub

    async def recorded() -> dict[str, Any] | None:
        status, listing = await _get(f"{base}/api/status/family")
        assert status == 200
        return listing if listing["checks"] and listing["checks"][0]["uptime"]["24h"] is not None else None

    listing = await eventually(recorded, 10, "the status page's check recorded")
    assert listing["title"] == "Our services"
    assert [check["name"] for check in listing["checks"]] == ["cloud"]  # `db` is not on it; `missing` is no check
    shown = listing["checks"][0]
    assert shown["status"] == "up"
    assert set(shown) == {"name", "status", "since", "response_time_ms", "certificate", "uptime", "bars", "outages"}
    status, page = await _get(f"{base}/status/family")
    assert status == 200
    assert "/js/status.js" in page
    assert (await _get(f"{base}/status/other"))[0] == 404
    assert (await _get(f"{base}/api/status/other"))[0] == 404


async def test_websocket_subscription_follows_each_check(hub: tuple[str, str], site: Site) -> None:
    base, token = hub
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{base}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "hub/checks/subscribe"})
        assert (await ws.receive_json())["success"] is True
        names: set[str] = set()
        while names != {"cloud", "db"}:  # the list as it is, then again as the checks appear
            names = {check["name"] for check in (await ws.receive_json(timeout=10))["event"]["checks"]}
        site.status = 500
        while True:
            update = {check["name"]: check for check in (await ws.receive_json(timeout=10))["event"]["checks"]}
            if update.get("cloud", {}).get("status") == "down":
                break
        assert update["cloud"]["reason"] == "HTTP 500 Internal Server Error"
