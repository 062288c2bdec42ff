"""The dashboard in Debian's chromium against a running hub: login, live cards, search, charts, errors, speed."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import statistics
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, async_playwright, expect

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.core import Core
from hub.integration import discover_integrations
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.gated import Gate, Gated
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.www.dashboard_lab import (
    LAB,
    DashboardHub,
    backfill,
    recorded_states,
    running_hub,
    seed_fleet_node,
    seed_many,
)

SCREENSHOTS = Path(os.environ.get("HUB_SCREENSHOTS") or "/tmp/homelab-hub-screenshots").resolve()
"""Where the browser tests save their screenshots: docs/screenshots only when asked (HUB_SCREENSHOTS), so that a
test run never rewrites files of the checkout."""
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# One browser for the module (launching chromium takes seconds); each test gets its own context.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="module")
async def lab(tmp_path: Path) -> AsyncIterator[DashboardHub]:
    async with running_hub(tmp_path) as hub:
        seed_fleet_node(hub.core)
        yield hub


class Requests:
    """Every URL the page asks for, to prove it talks to the hub alone."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))

    def outside(self, base: str) -> list[str]:
        hub = urlsplit(base).netloc
        return [url for url in self.urls if urlsplit(url).netloc != hub and not url.startswith("data:")]


_contexts: list[BrowserContext] = []


@pytest_asyncio.fixture(loop_scope="module", autouse=True)
async def _close_contexts() -> AsyncIterator[None]:
    """Close each test's pages, so none keeps reconnecting to a hub that has gone."""
    yield
    while _contexts:
        await _contexts.pop().close()


async def _page(browser: Browser, viewport: dict[str, int], color_scheme: str = "light") -> Page:
    context = await browser.new_context(viewport=viewport, color_scheme=color_scheme)  # type: ignore[arg-type]
    _contexts.append(context)
    return await context.new_page()


async def _login(page: Page, lab: DashboardHub, token: str) -> None:
    await page.goto(lab.url + "/")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Log in").click()


async def test_login_cards_live_updates_and_search(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, DESKTOP)
    requests = Requests(page)
    await _login(page, lab, lab.token)
    nas_card = page.locator("article.card[data-device='nas']")
    await expect(nas_card).to_contain_text("CPU")
    await expect(nas_card.locator("[data-entity='sensor.nas_cpu_percent'] .value")).to_have_text("12.5 %")
    await expect(page.locator("section.node[data-node='pi'] h2")).to_have_text("◆pi")
    await expect(page.locator("[data-entity='sensor.pi_pihole_memory'] .value")).to_have_text("unavailable")
    await expect(page.locator("article.card[data-device='nas_grafana']")).to_be_visible()

    started = time.monotonic()
    lab.core.states.set("sensor.pi_cpu_percent", "87.5", {"unit_of_measurement": "%", "friendly_name": "pi CPU"})
    await expect(page.locator("[data-entity='sensor.pi_cpu_percent'] .value")).to_have_text("87.5 %", timeout=2000)
    print(f"live update shown after {(time.monotonic() - started) * 1000:.0f} ms")

    await page.screenshot(path=SCREENSHOTS / "overview-desktop.png", full_page=True)
    search = page.get_by_label("Search")
    await search.fill("pihole")
    await expect(page.locator("article.card:visible")).to_have_count(1)
    await expect(page.locator("article.card[data-device='pi_pihole']")).to_be_visible()
    await search.fill("")
    await page.get_by_label("Domain").select_option("switch")
    await expect(page.locator("article.card:visible")).to_have_count(3)
    await page.get_by_label("Domain").select_option("")
    await page.get_by_label("Node").select_option("pi")
    await expect(page.locator("article.card:visible")).to_have_count(2)
    await page.get_by_label("Node").select_option("")
    await page.get_by_label("Integration").select_option("lab")
    await expect(page.locator("section.node[data-node='pi']")).to_be_hidden()
    assert requests.outside(lab.url) == []


async def test_phone_overview_in_dark(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, PHONE, "dark")
    await _login(page, lab, lab.token)
    await expect(page.locator("[data-entity='sensor.nas_cpu_percent'] .value")).to_have_text("12.5 %")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 17, 22)"
    await page.screenshot(path=SCREENSHOTS / "overview-phone.png", full_page=False)


async def test_history_chart_with_hover(browser: Browser, lab: DashboardHub) -> None:
    rows = await backfill(lab, "sensor.nas_cpu_temperature", hours=23, step_minutes=5)
    assert rows > 250
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = await _page(browser, viewport)
        requests = Requests(page)
        await _login(page, lab, lab.token)
        await page.locator("[data-entity='sensor.nas_cpu_temperature'] a").click()
        await expect(page.locator("h2")).to_have_text("nas CPU temperature")
        await page.get_by_role("tab", name="24 h").click()
        chart = page.locator("svg.chart")
        # One point per recorded row, and one carrying the current state to the right edge.
        await expect(chart).to_have_attribute("data-points", str(rows + 1))
        # The chart is redrawn as its data and size settle: a box read mid-redraw is None, so ask again.
        box = await chart.bounding_box()
        for _ in range(50):
            if box is not None:
                break
            await asyncio.sleep(0.1)
            box = await chart.bounding_box()
        assert box is not None
        await page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
        await expect(page.locator(".chart-tip strong")).to_contain_text("°C")
        await expect(page.locator(".chart .axis-unit")).to_have_text("°C")
        await page.screenshot(path=SCREENSHOTS / f"entity-chart-{name}.png", full_page=name == "desktop")
        assert requests.outside(lab.url) == []
    lab.core.states.set("sensor.nas_cpu_temperature", "71.5", {"unit_of_measurement": "°C"})
    await expect(page.locator(".big-state")).to_have_text("71.5 °C", timeout=2000)
    await expect(page.locator("svg.chart")).to_have_attribute("data-points", str(rows + 2))


async def test_wrong_token_shows_the_error(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, DESKTOP)
    await _login(page, lab, "not-a-token")
    await expect(page.get_by_role("alert")).to_contain_text("wrong or has been revoked")
    assert await page.evaluate("localStorage.length") == 0


async def test_tti_with_500_entities(browser: Browser, tmp_path: Path) -> None:
    async with running_hub(tmp_path) as lab:
        seed_many(lab.core, 500)
        page = await _page(browser, DESKTOP)
        await page.add_init_script(f"localStorage.setItem('homelab-hub.token', {lab.token!r})")
        timings = []
        for _ in range(3):
            await page.goto(lab.url + "/")
            await expect(page.locator("html[data-ready='1']")).to_have_count(1)
            timings.append(await page.evaluate("window.hubReadyMs"))
        marks = await page.evaluate(
            "performance.getEntriesByType('mark').map(m => `${m.name} ${Math.round(m.startTime)}`).join(', ')"
        )
        rows = await page.locator("li.row").count()
        median = statistics.median(timings)
        print(
            f"time to interactive with {rows} entities: first (cold) load {timings[0]:.0f} ms, "
            f"median {median:.0f} ms of {[round(t) for t in timings]}"
        )
        print(f"  last load: {marks}, ready {timings[-1]:.0f}")
        assert rows >= 500
        assert timings[0] < 1500
        assert median < 1500


async def test_switch_and_button_ask_first(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, DESKTOP)
    await _login(page, lab, lab.token)
    toggle = page.get_by_role("switch", name="Switch grafana Running")
    await expect(toggle).to_have_attribute("aria-checked", "true")
    await toggle.click()
    await expect(page.locator("dialog.confirm")).to_contain_text("Turn off grafana Running?")
    await page.get_by_role("button", name="Cancel").click()
    assert LAB.containers["grafana"] is True
    await toggle.click()
    await page.locator("dialog.confirm").get_by_role("button", name="Turn off").click()
    await expect(toggle).to_have_attribute("aria-checked", "false")
    assert LAB.containers["grafana"] is False
    await expect(page.locator("[data-entity='sensor.nas_ct_grafana_cpu'] .value")).to_have_text("unknown")

    # The chart draws what history holds: wait for the recorder's commit of both states.
    switch = "switch.nas_ct_grafana_running"
    await eventually(lambda: _equals(recorded_states(lab, switch), ["on", "off"]), 10, "both states recorded")
    await page.locator(f"[data-entity='{switch}'] a").click()
    await expect(page.locator("svg.chart.timeline rect.state-off")).to_have_count(1)
    await expect(page.locator("svg.chart.timeline rect.state-on")).to_have_count(1)
    await page.get_by_role("link", name="← Overview").click()

    await page.locator("[data-entity='button.nas_ct_nginx_restart']").get_by_role("button", name="Press").click()
    await page.locator("dialog.confirm").get_by_role("button", name="Press").click()
    await expect(page.locator(".toast")).to_contain_text("Pressed: nginx Restart")
    assert LAB.pressed == ["button.nas_ct_nginx_restart"]
    assert await page.locator("[data-entity^='sensor.'] button").count() == 0


async def test_integrations_page_health_and_poll_now(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, DESKTOP)
    await _login(page, lab, lab.token)
    await page.get_by_role("link", name="Integrations").click()
    card = page.locator("article.integration[data-integration='lab']")
    await expect(card.locator(".pill")).to_have_text("ok")
    LAB.fail = True
    await card.get_by_role("button", name="Poll now").click()
    await expect(page.locator(".toast")).to_contain_text("Poll of lab requested")
    await expect(card.locator(".last-error")).to_contain_text("lab daemon not answering", timeout=5000)
    await expect(card.locator(".pill")).not_to_have_text("ok")
    sinks = [health.name for health in lab.hub.health if health.kind == "sink"]
    await expect(page.locator("article[data-sink]")).to_have_count(len(sinks))
    for sink in sinks:  # the recorder, when the runtime runs one
        await expect(page.locator(f"article[data-sink='{sink}'] .pill")).to_have_text("ok")
    await page.screenshot(path=SCREENSHOTS / "integrations-desktop.png")
    await page.get_by_role("link", name="Overview").click()
    await expect(page.locator("[data-entity='sensor.nas_cpu_percent'] .value")).to_have_text("unavailable")


async def _assert_reads_clean(page: Page) -> None:
    text = await page.locator("body").inner_text()
    for word in ("undefined", "NaN", "null", "[object Object]"):
        assert word not in text, f"the page shows {word!r}:\n{text}"


async def test_first_start_pages_read_right(browser: Browser, lab: DashboardHub) -> None:
    """What a new user reads on first start: health rows first on the hub's card, integrations apart from sinks,
    each sink by its name with its last success, no button that does nothing, no undefined or NaN anywhere."""
    page = await _page(browser, DESKTOP)
    await _login(page, lab, lab.token)
    card = page.locator("article.card[data-device='nas']")
    await expect(card.locator("[data-entity='sensor.nas_cpu_percent'] .value")).to_have_text("12.5 %")
    rows = await card.locator("li.row").evaluate_all("(rows) => rows.map((row) => row.dataset.entity)")
    health = [row for row in rows if row.startswith("binary_sensor.") and row.endswith("_health")]
    assert health, rows
    assert max(rows.index(row) for row in health) < rows.index("sensor.nas_cpu_percent"), rows
    await _assert_reads_clean(page)

    await page.get_by_role("link", name="Integrations").click()
    integrations = [item for item in lab.hub.integrations() if item["kind"] == "integration"]
    cards = page.locator("article.integration[data-integration]")
    await expect(cards).to_have_count(len(integrations))
    await expect(cards.locator("h3")).to_have_text([item["id"] for item in integrations])
    await expect(page.get_by_role("button", name="Poll now")).to_have_count(len(integrations))
    assert [health.name for health in lab.hub.health if health.kind == "sink"] == ["recorder"]
    await expect(page.locator("article[data-sink] h3")).to_have_text(["Recorder"])
    recorder = page.locator("article[data-sink='recorder']")
    await expect(recorder.locator("dd").nth(3)).not_to_have_text("never", timeout=10_000)  # it has written
    await expect(recorder.locator("dd").nth(3)).to_have_text(re.compile(r"\d+ ?s ago|just now"))
    await _assert_reads_clean(page)


async def test_starting_banner_until_every_integration_gave_a_reading(browser: Browser, tmp_path: Path) -> None:
    """While the hub is STARTING (a first poll still running) the dashboard says so; it goes once it is RUNNING."""
    Gate.reset()
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        "integrations:\n  - platform: gated\n"
    )
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("browser")
    tokens.save()
    hub = Hub(load_config(tmp_path, {"gated": Gated}), {"gated": Gated})
    stop = asyncio.Event()

    async def run() -> None:
        async with hub.lifespan():
            await stop.wait()

    task = asyncio.create_task(run())
    try:
        while hub.core.lifecycle.state != "STARTING" or not hub.core.states.get("binary_sensor.nas_recorder_health"):
            await asyncio.sleep(0.02)
        page = await _page(browser, DESKTOP)
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.get_by_label("Access token").fill(token)
        await page.get_by_role("button", name="Log in").click()
        banner = page.locator(".banner.starting")
        await expect(banner).to_be_visible()
        await expect(banner).to_have_text(
            "The hub is starting: values appear as each integration gives its first reading."
        )
        Gate.release.set()
        await expect(banner).to_be_hidden()
        await expect(page.locator("[data-entity='sensor.nas_gated_value'] .value")).to_have_text("42")
        await _assert_reads_clean(page)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_statistics_for_seven_days(browser: Browser, lab: DashboardHub) -> None:
    # Statistics are compiled hourly; a week of them is given here in the recorder's shape (HA's).
    lab.hub.history = lab.history
    now = time.time()
    lab.history.statistics_rows["sensor.nas_memory_percent"] = [
        {"start": (now - hours * 3600) * 1000, "mean": 40 + hours % 7, "min": 30 + hours % 5, "max": 55 + hours % 9}
        for hours in range(168, 0, -1)
    ]
    page = await _page(browser, DESKTOP)
    await _login(page, lab, lab.token)
    await page.goto(lab.url + "/#/entity/sensor.nas_memory_percent")
    await page.get_by_role("tab", name="7 d").click()
    await expect(page.locator("svg.chart")).to_have_attribute("data-points", "168")
    await expect(page.locator("svg.chart polygon.band")).to_have_count(1)


async def test_login_link_works_once(browser: Browser, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "hub.api")
    async with running_hub(tmp_path, with_token=False) as lab:
        link = re.search(r"http://\S+:\d+/(#token=\S+)", caplog.text)
        assert link is not None
        page = await _page(browser, DESKTOP)
        await page.goto(lab.url + "/" + link.group(1))
        await expect(page.locator("[data-entity='sensor.nas_cpu_percent']")).to_be_visible()
        assert "token" not in page.url
        assert await page.evaluate("localStorage.getItem('homelab-hub.token')")
        await page.get_by_role("button", name="Log out").click()
        await expect(page.get_by_label("Access token")).to_be_visible()
        assert await page.evaluate("localStorage.length") == 0
        await page.goto(lab.url + "/" + link.group(1))
        await expect(page.get_by_role("alert")).to_contain_text("already used")


async def test_revoked_token_logs_out_with_the_reason(browser: Browser, lab: DashboardHub, tmp_path: Path) -> None:
    page = await _page(browser, DESKTOP)
    await _login(page, lab, lab.token)
    await expect(page.locator("[data-entity='sensor.nas_cpu_percent']")).to_be_visible()
    # As `homelab-hub token revoke` does: change the token file; the hub picks it up within its sync interval.
    tokens = TokenStore.in_dir(tmp_path / "data")
    tokens.revoke("browser")
    tokens.save()
    await expect(page.get_by_role("alert")).to_contain_text("wrong or has been revoked", timeout=8000)


async def test_reconnects_after_a_hub_restart(browser: Browser, tmp_path: Path) -> None:
    async with running_hub(tmp_path) as first:
        seed_fleet_node(first.core)
        page = await _page(browser, DESKTOP)
        await _login(page, first, first.token)
        await expect(page.locator("[data-entity='sensor.pi_cpu_percent']")).to_be_visible()
    await expect(page.locator(".conn-dot.offline")).to_be_visible()
    await expect(page.locator(".banner.offline")).to_contain_text("Connection to the hub lost")
    port = int(urlsplit(first.url).port or 0)
    async with running_hub(tmp_path, with_token=False, port=port) as second:
        await expect(page.locator(".conn-dot.online")).to_be_visible(timeout=8000)
        await expect(page.locator(".banner.offline")).to_be_hidden()
        second.core.states.set("sensor.nas_cpu_percent", "55.5", {"unit_of_measurement": "%"})
        await expect(page.locator("[data-entity='sensor.nas_cpu_percent'] .value")).to_have_text("55.5 %")


def _fleet_yaml(directory: Path, node: str, broker: ServerProcess, extra: str = "") -> Path:
    directory.mkdir(parents=True)
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: {node}\n  data_dir: {directory / 'data'}\n"
        f"  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {broker.port}, birth_delay: 10ms}}\n"
        f"integrations:\n  - platform: system_info\n    interval: 2s\n{extra}"
    )
    return directory


async def _equals(read: Awaitable[object], expected: object) -> bool:
    return await read == expected


def _unknown_rates(core: Core) -> list[str]:
    return [s.entity_id for s in core.states.all() if s.state == "unknown" and s.entity_id.startswith("sensor.")]


@pytest.mark.usefixtures("instant_backoff")
async def test_fleet_of_real_hubs_over_mqtt(browser: Browser, tmp_path: Path, mosquitto: ServerProcess) -> None:
    """system_info on two hubs; `pi` publishes over MQTT, `nas` ingests it: the page shows both nodes, live."""
    available = discover_integrations()
    pi_dir = _fleet_yaml(tmp_path / "pi", "pi", mosquitto)
    ingest = f"  - platform: mqtt\n    port: {mosquitto.port}\n    discovery: true\n"
    nas_dir = _fleet_yaml(tmp_path / "nas", "nas", mosquitto, ingest)
    tokens = TokenStore.in_dir(nas_dir / "data")
    token = tokens.create("browser")
    tokens.save()
    pi = Hub(load_config(pi_dir, available), available)
    nas = Hub(load_config(nas_dir, available), available)
    async with pi.lifespan(), nas.lifespan():
        await eventually(lambda: nas.core.states.get("sensor.pi_cpu_percent") is not None, 30, "pi ingested")
        await eventually(lambda: nas.core.states.get("sensor.nas_cpu_percent") is not None, 10, "own cpu")
        page = await _page(browser, DESKTOP)
        requests = Requests(page)
        url = f"http://127.0.0.1:{nas.config.hub.http.port}"
        await page.goto(url + "/")
        await page.get_by_label("Access token").fill(token)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.locator("section.node[data-node='nas'] article.card").first).to_be_visible()
        await expect(page.locator("section.node[data-node='pi'] [data-entity='sensor.pi_cpu_percent']")).to_be_visible()
        sections = await page.locator("section.node").evaluate_all("els => els.map(e => e.dataset.node)")
        assert sections[:2] == ["nas", "pi"]

        started = time.monotonic()
        pi.core.states.set("sensor.pi_cpu_percent", "77.7", pi.core.states.get("sensor.pi_cpu_percent").attributes)  # type: ignore[union-attr]
        value = page.locator("[data-entity='sensor.pi_cpu_percent'] .value")
        await expect(value).to_have_text("77.7 %", timeout=2000)
        print(f"pi -> MQTT -> nas -> browser: {(time.monotonic() - started) * 1000:.0f} ms")
        await page.get_by_label("Node").select_option("pi")
        await expect(page.locator("section.node[data-node='nas']")).to_be_hidden()
        await page.get_by_label("Node").select_option("")
        # Rates need two readings: let every one of them be known before the picture.
        await eventually(lambda: not _unknown_rates(nas.core), 15, "rates known")
        await eventually(lambda: not _unknown_rates(pi.core), 15, "pi's rates known")
        await expect(page.locator("li.row.unknown")).to_have_count(0)
        await page.screenshot(path=SCREENSHOTS / "overview-fleet-desktop.png", full_page=False)
        # The mqtt ingest only pushes: its card says so and offers no Poll now, which could do nothing.
        await page.get_by_role("link", name="Integrations").click()
        ingest = page.locator("article.integration[data-integration='mqtt']")
        await expect(ingest.locator("dd").nth(4)).to_have_text("push")
        await expect(ingest.get_by_role("button", name="Poll now")).to_have_count(0)
        await expect(
            page.locator("article.integration[data-integration='system_info']").get_by_role("button")
        ).to_have_text("Poll now")
        await _assert_reads_clean(page)
        assert requests.outside(url) == []


async def test_keeps_trying_when_the_websocket_fails(browser: Browser, lab: DashboardHub) -> None:
    page = await _page(browser, DESKTOP)
    await page.add_init_script(f"localStorage.setItem('homelab-hub.token', {lab.token!r})")
    attempts: list[str] = []

    async def flaky(ws: WebSocketRoute) -> None:
        attempts.append(ws.url)
        if len(attempts) == 1:
            await ws.close()  # the first try fails as if the hub were restarting
        else:
            ws.connect_to_server()

    await page.route_web_socket("**/api/websocket", flaky)
    await page.goto(lab.url + "/")
    await expect(page.locator(".booting")).to_contain_text("Retrying")
    await expect(page.locator("[data-entity='sensor.nas_cpu_percent']")).to_be_visible()
    assert len(attempts) == 2
    assert await page.evaluate("localStorage.getItem('homelab-hub.token')") == lab.token
