"""The Checks page, a check's page and a public status page in Debian's chromium, against a hub checking local
sites: what a person reads (states, reasons, response times, uptime figures, 90 bars) matches the API, a check
going down and up shows live, the status page needs no login and shows nothing of targets; screenshots for docs."""

from __future__ import annotations

import asyncio
import math
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.core import clock
from hub.runtime import Hub
from integrations.checks import Checks
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port
from tests.www.test_dashboard_browser import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Requests,
    _assert_reads_clean,
    _close_contexts,
    _page,
    browser,
)

__all__ = ["_close_contexts", "browser"]  # fixtures shared with the dashboard's module

pytestmark = pytest.mark.asyncio(loop_scope="module")
AVAILABLE = {"checks": Checks}
HOUR = 3600


@dataclass
class ChecksLab:
    hub: Hub
    url: str
    token: str
    db: Path
    answers: dict[str, int]


@pytest_asyncio.fixture(loop_scope="module")
async def checks_lab(tmp_path: Path) -> AsyncIterator[ChecksLab]:
    answers = {"jellyfin": 503}

    async def answer(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.Response(status=answers.get(name, 200), text=f"{name} works")

    site = web.Application()
    site.router.add_get("/{name}", answer)
    runner = web.AppRunner(site)
    await runner.setup()
    site_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", site_port).start()
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  recorder: {{commit_interval: 100ms}}\n"
        f"  http:\n    host: 127.0.0.1\n    port: {port}\n"
        "    status_pages:\n      family: {title: Our services, checks: [nextcloud, jellyfin, router]}\n"
        "integrations:\n  - platform: checks\n    checks:\n"
        f"      - {{kind: http, name: nextcloud, url: 'http://127.0.0.1:{site_port}/nextcloud', interval: 1s}}\n"
        f"      - {{kind: http, name: jellyfin, url: 'http://127.0.0.1:{site_port}/jellyfin', interval: 1s}}\n"
        f"      - {{kind: tcp, name: router, host: 127.0.0.1, port: {site_port}, interval: 1s}}\n"
        f"      - {{kind: tcp, name: printer, host: 127.0.0.1, port: {free_port()}, interval: 1s, timeout: 300ms}}\n"
    )
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("browser")
    tokens.save()
    db = tmp_path / "data" / "hub.db"
    # The past is written while no hub runs: a first start makes the database, the second finds the history there.
    # Written beside a running recorder, SQLite's one writer lock once failed its commits and the API's reads.
    async with Hub(load_config(tmp_path, AVAILABLE), AVAILABLE).lifespan():
        pass
    await asyncio.to_thread(_seed_past_uptime, db)
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with hub.lifespan():
        lab = ChecksLab(hub, f"http://127.0.0.1:{port}", token, db, answers)
        await eventually(lambda: len(_listed(hub)) == 4, 10, "four checks")
        yield lab
    await runner.cleanup()


def _listed(hub: Hub) -> list[str]:
    return [state.entity_id for state in hub.core.states.all() if state.entity_id.startswith("binary_sensor.nas_check")]


def _seed_past_uptime(db: Path) -> None:
    """Hourly statistics for the 89 days before today, as if the hub had run them: nextcloud always up, the router
    down for two hours 12 days ago, jellyfin flaky; the printer is new and has no past."""
    now = clock.utcnow().timestamp()
    today = now // 86400 * 86400
    flaky = {f"binary_sensor.nas_check_{name}": share for name, share in (("nextcloud", {}), ("router", {12: 0.0}))}
    flaky["binary_sensor.nas_check_jellyfin"] = {day: 0.9 for day in range(0, 89, 9)}
    with closing(sqlite3.connect(db)) as connection, connection:
        for entity_id, bad_days in flaky.items():
            meta = connection.execute(
                "INSERT INTO statistics_meta (statistic_id, source, unit_of_measurement, has_mean, has_sum, name)"
                " VALUES (?, 'recorder', NULL, 1, 0, ?) RETURNING id",
                (entity_id, entity_id),
            ).fetchone()[0]
            rows = []
            for hour in range(89 * 24):
                start = today - 89 * 86400 + hour * HOUR
                day_ago = 89 - hour // 24
                mean = bad_days.get(day_ago, 1.0) if hour % 24 in (3, 4) else 1.0
                rows.append((meta, start + HOUR, start, mean, mean, mean, None, None, None))
            connection.executemany(
                "INSERT INTO statistics (metadata_id, created_ts, start_ts, mean, min, max, last_reset_ts, state, sum)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        connection.execute("INSERT INTO statistics_runs (start_ts) VALUES (?)", (today - 300,))


async def _api(lab: ChecksLab) -> dict[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {lab.token}"}
    async with aiohttp.ClientSession() as session, session.get(f"{lab.url}/api/hub/checks", headers=headers) as got:
        return {check["name"]: check for check in (await got.json())["checks"]}


async def _login_to_checks(page: Page, lab: ChecksLab) -> None:
    await page.goto(lab.url + "/")
    await page.get_by_label("Access token").fill(lab.token)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("link", name="Checks").click()


async def test_checks_page_reads_as_the_api_says_and_stays_live(browser: Browser, checks_lab: ChecksLab) -> None:
    page = await _page(browser, DESKTOP)
    requests = Requests(page)
    before = await _api(checks_lab)
    await _login_to_checks(page, checks_lab)
    jellyfin = page.locator('tr[data-check="jellyfin"]')
    await expect(jellyfin).to_contain_text("HTTP 503 Service Unavailable")
    await expect(page.locator(".check-summary")).to_have_text("2 of 4 down")
    nextcloud = page.locator('tr[data-check="nextcloud"]')
    await expect(nextcloud.locator(".check-sub")).to_contain_text("http · Up")
    await expect(nextcloud.locator("td.num").nth(1)).to_have_text("100 %")  # 30 days, seeded and live all up
    router = page.locator('tr[data-check="router"]')
    await expect(router.locator("td.num").nth(1)).to_have_text(re.compile(r"^99\.\d\d %$"))  # 2 h down in 30 days
    shown = float((await router.locator("td.num").nth(1).inner_text()).removesuffix(" %"))
    # Rounded down as the page writes it (99.999 % up is not 100 %); the window's known time grows by the second,
    # so the figure lies between what the API said before and after the page's reading.
    after = (await _api(checks_lab))["router"]["uptime"]["30d"]
    assert _floor2(before["router"]["uptime"]["30d"]) <= shown <= _floor2(after)
    assert 99 < after < 100
    assert await router.locator(".uptime-strip rect").count() == 90
    assert await router.locator(".uptime-strip rect.u-warn, .uptime-strip rect.u-bad").count() == 1  # 12 days ago
    printer = page.locator('tr[data-check="printer"]')
    await expect(printer).to_contain_text("connection refused")
    await expect(printer.locator("td.num").nth(0)).to_have_text("0.0 %")
    assert await printer.locator(".uptime-strip rect.u-none").count() == 89  # new: nothing known before today
    assert (await nextcloud.locator(".check-response .value").inner_text()).endswith(" ms")
    await _assert_reads_clean(page)

    checks_lab.answers["jellyfin"] = 200  # back up: the row turns without a reload
    await expect(jellyfin.locator(".check-sub")).to_contain_text("http · Up", timeout=5000)
    await expect(page.locator(".check-summary")).to_have_text("1 of 4 down")
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(SCREENSHOTS / "checks.png"), full_page=True)
    assert requests.outside(checks_lab.url) == []


async def test_a_check_page_shows_its_outages(browser: Browser, checks_lab: ChecksLab) -> None:
    checks_lab.answers["jellyfin"] = 503
    await eventually(lambda: _state(checks_lab, "jellyfin") == "off", 5, "jellyfin down")
    checks_lab.answers["jellyfin"] = 200
    await eventually(lambda: _state(checks_lab, "jellyfin") == "on", 5, "jellyfin up again")
    page = await _page(browser, DESKTOP)
    await _login_to_checks(page, checks_lab)
    await page.get_by_role("link", name="jellyfin").click()
    outages = page.locator("table.outages tbody tr")
    await expect(outages.first).to_contain_text("HTTP 503 Service Unavailable", timeout=5000)
    await expect(page.locator(".big-state")).to_have_text("Up")
    await expect(page.locator(".uptime-figure").filter(has_text="uptime 30 d")).to_contain_text("%")
    await expect(page.locator(".chart-box svg.chart")).to_be_visible(timeout=5000)
    await _assert_reads_clean(page)
    await page.screenshot(path=str(SCREENSHOTS / "check.png"), full_page=True)


def _floor2(percent: float) -> float:
    return math.floor(percent * 100) / 100


def _state(lab: ChecksLab, name: str) -> str | None:
    state = lab.hub.core.states.get(f"binary_sensor.nas_check_{name}")
    return state.state if state else None


async def test_status_page_needs_no_login_and_shows_no_targets(browser: Browser, checks_lab: ChecksLab) -> None:
    checks_lab.answers["jellyfin"] = 503
    await eventually(lambda: _state(checks_lab, "jellyfin") == "off", 5, "jellyfin down")
    page = await _page(browser, PHONE)
    requests = Requests(page)
    await page.goto(checks_lab.url + "/status/family")
    await expect(page.get_by_role("heading", name="Our services")).to_be_visible()
    await expect(page.locator(".status-overall")).to_have_text("jellyfin is down")
    names = await page.locator(".status-check h2").all_inner_texts()
    assert names == ["nextcloud", "jellyfin", "router"]  # the page's checks in its order; not the printer
    await expect(page.locator('[data-check="nextcloud"] .status-uptime')).to_have_text("100 % in 30 days")
    text = await page.locator("body").inner_text()
    assert "127.0.0.1" not in text
    assert "503" not in text  # no error texts for the household
    await _assert_reads_clean(page)
    await page.screenshot(path=str(SCREENSHOTS / "status-page.png"), full_page=True)
    assert requests.outside(checks_lab.url) == []
