"""Sparklines on the device cards in Debian's chromium: every numeric row's last hour from one request
(`/api/hub/sparklines`, the recorder's 5-minute means, here written into the hub's database as an hour of running
would have), then kept live from the WebSocket feed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from hub.core import clock
from tests.fixtures.eventually import eventually
from tests.www.dashboard_lab import LAB, DashboardHub, running_hub
from tests.www.test_dashboard_browser import DESKTOP, Requests, _close_contexts, _page, browser

__all__ = ["_close_contexts", "browser"]  # fixtures shared with the dashboard's module

pytestmark = pytest.mark.asyncio(loop_scope="module")
MEANS = [10.0, 12.5, 15.0, 11.0, 30.0, 28.0, 26.5, 20.0, 18.0, 17.5, 16.0, 14.0]


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


def _seed_means(db: Path, entity_id: str) -> None:
    now = clock.utcnow().timestamp() // 300 * 300
    with sqlite3.connect(db, timeout=30) as connection:
        meta = connection.execute(
            "INSERT INTO statistics_meta (statistic_id, source, unit_of_measurement, has_mean, has_sum, name)"
            " VALUES (?, 'recorder', '%', 1, 0, 'CPU') RETURNING id",
            (entity_id,),
        ).fetchone()[0]
        rows = [
            (meta, now - (11 - index) * 300 + 300, now - (11 - index) * 300, mean, mean, mean, None, None, None)
            for index, mean in enumerate(MEANS)
        ]
        connection.executemany(
            "INSERT INTO statistics_short_term (metadata_id, created_ts, start_ts, mean, min, max, last_reset_ts,"
            " state, sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


@pytest_asyncio.fixture(loop_scope="module")
async def lab(tmp_path: Path) -> AsyncIterator[DashboardHub]:
    async with running_hub(tmp_path) as hub:
        await asyncio.to_thread(_seed_means, tmp_path / "data" / "hub.db", "sensor.nas_cpu_percent")
        yield hub


async def test_card_rows_draw_their_hour_and_stay_live(browser: Browser, lab: DashboardHub) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {lab.token}"}) as session:
        answer = await (await session.get(f"{lab.url}/api/hub/sparklines?filter_entity_id=sensor.nas_cpu_*")).json()
        assert [mean for _, mean in answer["sensor.nas_cpu_percent"]] == MEANS
        bad = await session.get(f"{lab.url}/api/hub/sparklines?filter_entity_id=sensor&hours=900")
        assert (bad.status, (await bad.json())["message"]) == (400, "hours must be a number above 0 and at most 168")
    page = await _page(browser, DESKTOP)
    requests = Requests(page)
    await page.goto(lab.url + "/")
    await page.get_by_label("Access token").fill(lab.token)
    await page.get_by_role("button", name="Log in").click()
    cpu = page.locator('li.row[data-entity="sensor.nas_cpu_percent"] .row-spark path')
    await expect(cpu).to_have_count(1)
    drawn = await cpu.get_attribute("d")
    assert drawn is not None
    assert drawn.count("L") == len(MEANS) - 1  # the twelve means of the hour
    LAB.cpu = 44.0
    await lab.hub.poll_now("lab")

    async def segments() -> int:
        return (await cpu.get_attribute("d") or "").count("L")

    await eventually(lambda: _equals(segments(), len(MEANS)), 5, "the live value joining the line")
    sparkline_requests = [u for u in requests.urls if "/api/hub/sparklines" in u]
    assert len(sparkline_requests) == 1  # one request for every row of every card
    assert len([u for u in requests.urls if "/api/history/period" in u]) == 1  # and one for the fleet's table
