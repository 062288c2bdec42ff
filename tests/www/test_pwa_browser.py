"""The dashboard as an installable app in Debian's chromium: a manifest with icons that exist at their sizes, a
service worker that keeps the shell, and a dashboard opened offline that says it is offline."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from tests.www.dashboard_lab import DashboardHub, running_hub
from tests.www.test_dashboard_browser import PHONE, _close_contexts, _page, browser

__all__ = ["_close_contexts", "browser"]  # fixtures shared with the dashboard's module

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def lab(tmp_path: Path) -> AsyncIterator[DashboardHub]:
    async with running_hub(tmp_path) as hub:
        yield hub


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_manifest_and_icons(lab: DashboardHub) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{lab.url}/manifest.webmanifest") as got:
            assert got.content_type == "application/manifest+json"
            manifest = await got.json(content_type=None)
        assert (manifest["name"], manifest["start_url"], manifest["display"]) == ("homelab-hub", "/", "standalone")
        for icon in manifest["icons"]:
            async with session.get(lab.url + icon["src"]) as got:
                assert got.status == 200, icon["src"]
                data = await got.read()
            if icon["type"] == "image/png":
                size = int(icon["sizes"].split("x")[0])
                assert _png_size(data) == (size, size)
        async with session.get(f"{lab.url}/sw.js") as got:
            assert got.headers["Cache-Control"] == "no-cache"


async def test_opens_offline_and_says_so(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, PHONE)
    await page.goto(lab.url + "/")
    assert await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.get_by_label("Access token").fill(lab.token)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator(".card").first).to_be_visible()
    await page.context.set_offline(True)
    await page.reload()
    await expect(page.locator("p.booting")).to_contain_text("You are offline: the hub cannot be reached from here.")
    await page.context.set_offline(False)
    await expect(page.locator(".card").first).to_be_visible(timeout=10_000)  # back by itself
