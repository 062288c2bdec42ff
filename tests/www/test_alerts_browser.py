"""The Alerts page in Debian's chromium: every rule as the API says it (firing or not, for which entities, when
it last fired and cleared), and its Test button running the rule's actions once, through Apprise to a local
receiver; a screenshot for the docs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, expect

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.www.test_dashboard_browser import (
    DESKTOP,
    SCREENSHOTS,
    Requests,
    _assert_reads_clean,
    _close_contexts,
    _page,
    browser,
)

__all__ = ["_close_contexts", "browser"]  # fixtures shared with the dashboard's module

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def alerting(tmp_path: Path) -> AsyncIterator[tuple[Hub, str, str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def notify(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    receiver = free_port()
    await web.TCPSite(runner, "127.0.0.1", receiver).start()
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        "alerts:\n"
        "  - name: disk_full\n    entity_id: sensor.nas_disk_*_percent\n    above: 90\n"
        f"    on_fire:\n      - apprise: 'json://127.0.0.1:{receiver}/notify'\n"
        "  - name: ups_on_battery\n    entity_id: binary_sensor.*_ups_*_on_battery\n    state: 'on'\n"
    )
    store = TokenStore.in_dir(tmp_path / "data")
    token = store.create("browser")
    store.save()
    hub = Hub(load_config(tmp_path, {}), {})
    async with hub.lifespan():
        hub.core.states.set("sensor.nas_disk_root_percent", "96.5", {"unit_of_measurement": "%"})
        hub.core.states.set("sensor.nas_disk_data_percent", "41", {"unit_of_measurement": "%"})
        hub.core.states.set("binary_sensor.nas_ups_rack_on_battery", "off")
        yield hub, f"http://127.0.0.1:{port}", token, received
    await runner.cleanup()


async def test_alerts_page_and_test_fire(
    browser: Browser, alerting: tuple[Hub, str, str, list[dict[str, Any]]]
) -> None:
    _, url, token, received = alerting
    await eventually(lambda: received, 10, "the firing notification")
    received.clear()
    page = await _page(browser, DESKTOP)
    requests = Requests(page)
    await page.goto(url + "/")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("link", name="Alerts").click()
    disk = page.locator('tr[data-alert="disk_full"]')
    await expect(disk).to_contain_text("Firing")
    await expect(disk).to_contain_text("above 90")
    await expect(disk.locator(".alert-entity")).to_have_text(["sensor.nas_disk_root_percent"])
    await expect(disk).to_contain_text("s ago")  # last fired
    ups = page.locator('tr[data-alert="ups_on_battery"]')
    await expect(ups).to_contain_text("OK")
    await expect(ups).to_contain_text("state is on")
    await expect(page.locator(".check-summary")).to_have_text("1 of 2 firing")
    await _assert_reads_clean(page)
    await page.screenshot(path=str(SCREENSHOTS / "alerts.png"), full_page=True)

    await disk.get_by_role("button", name="Test").click()
    await page.get_by_role("button", name="Test-fire").click()
    await expect(page.locator(".toast")).to_have_text("Alert disk_full test-fired.")
    await eventually(lambda: received, 10, "the test notification")
    assert (received[0]["title"], received[0]["type"]) == ("disk_full test", "success")
    assert received[0]["message"] == "nas disk root percent is 96.5 %"  # its friendly name, derived from the id
    assert requests.outside(url) == []

    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        missing = await session.post(f"{url}/api/hub/alerts/nope/test")
        assert (missing.status, await missing.json()) == (404, {"message": "No alert rule named 'nope'."})
