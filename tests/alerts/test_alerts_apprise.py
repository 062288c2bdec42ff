"""The `apprise:` action in a running hub, delivering through the real Apprise library to a local receiver (Apprise's
`json://` service, which posts its JSON to any HTTP server): what arrives, retries after refusals, a URL Apprise
does not know, and the URL's password kept out of the log and the API."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.api.tokens import TokenStore
from hub.config import ConfigErrors, load_config
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

PASSWORD = "s3cret-apprise-pass"


@dataclass
class Receiver:
    port: int
    refuse: int = 0
    """Answer 500 to this many requests first."""
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    authorization: list[str | None] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(free_port())

    async def notify(request: web.Request) -> web.Response:
        if found.refused < found.refuse:
            found.refused += 1
            return web.Response(status=500, text="busy")
        found.authorization.append(request.headers.get("Authorization"))
        found.received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", found.port).start()
    yield found
    await runner.cleanup()


def _hub(tmp_path: Path, url: str) -> tuple[Hub, int, str]:
    port = free_port()
    (tmp_path / "secrets.yaml").write_text(f"notify_url: '{url}'\n")
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: lab\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        "alerts:\n  - name: hot\n    entity_id: sensor.lab_temperature\n    above: 70\n"
        "    message: '{friendly_name} is at {state}{unit}'\n"
        "    on_fire:\n      - apprise: !secret notify_url\n        title: 'Alert {alert}'\n"
    )
    store = TokenStore.in_dir(tmp_path / "data")
    token = store.create("test")
    store.save()
    return Hub(load_config(tmp_path, {}), {}), port, token


@pytest.mark.usefixtures("instant_backoff")
async def test_delivered_after_refusals_and_the_password_stays_out(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.refuse = 2
    url = f"json://homelab:{PASSWORD}@127.0.0.1:{receiver.port}/notify"
    hub, port, token = _hub(tmp_path, url)
    caplog.set_level(logging.DEBUG)
    async with hub.lifespan():
        hub.core.states.set("sensor.lab_temperature", "75", {"unit_of_measurement": "°C", "friendly_name": "Rack"})
        await eventually(lambda: receiver.received, 15, "the notification")
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            answers = [
                await (await session.get(f"http://127.0.0.1:{port}{path}")).text()
                for path in ("/api/hub/alerts", "/api/error_log", "/api/config", "/api/states")
            ]
    (sent,) = receiver.received
    assert (sent["title"], sent["message"], sent["type"]) == ("Alert hot", "Rack is at 75 °C", "failure")
    assert receiver.refused == 2  # two refusals, then delivered on the third try
    assert receiver.authorization[0] is not None  # the URL's credentials did reach the receiver
    warnings = [r.getMessage() for r in caplog.records if r.name == "hub.alerts.actions"]
    assert warnings[:2] == [
        "Alert hot: Apprise json:// failed (try 1 of 4): Apprise could not deliver it (its log says why)",
        "Alert hot: Apprise json:// failed (try 2 of 4): Apprise could not deliver it (its log says why)",
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in logged
    for answer in answers:
        assert PASSWORD not in answer


async def test_a_service_apprise_does_not_know_is_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub, _, _ = _hub(tmp_path, f"nosuchservice://user:{PASSWORD}@example")
    async with hub.lifespan():
        hub.core.states.set("sensor.lab_temperature", "75")
        await eventually(
            lambda: any("Apprise knows no service nosuchservice://" in r.getMessage() for r in caplog.records),
            10,
            "the unknown service",
        )
    assert PASSWORD not in "\n".join(record.getMessage() for record in caplog.records)


def test_an_apprise_url_must_look_like_one(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text(
        "alerts:\n  - name: hot\n    entity_id: sensor.x\n    above: 1\n    on_fire:\n      - apprise: just-text\n"
    )
    with pytest.raises(ConfigErrors) as raised:
        load_config(tmp_path, {})
    assert "hub.yaml:6 alerts[0].on_fire[0].apprise: " in str(raised.value)
    assert "expected an Apprise URL" in str(raised.value)
