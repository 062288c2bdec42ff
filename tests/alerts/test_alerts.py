"""Alert rules against a real HTTP receiver on loopback, with time driven by the fake clock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.alerts import AlertEngine
from hub.alerts.actions import ATTEMPTS
from hub.config import ConfigErrors, load_config
from hub.config.models.alerts import AlertRule
from hub.core import Core, DeviceInfo, ServiceCall, ServiceDescription
from hub.core.clock import FakeClock
from tests.fixtures.eventually import eventually


class Receiver:
    """A webhook endpoint that records what it gets and answers with a chosen status, or hangs."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.hang = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        if self.hang:
            await asyncio.sleep(self.hang)
        return web.Response(status=self.status)

    def json_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


pytestmark = pytest.mark.usefixtures("instant_backoff")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield rec, str(server.make_url("/"))
    await server.close()


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate(fields)


async def settle(receiver: Receiver, count: int) -> None:
    # 10 s: the first delivery of a process imports Apprise (~1 s alone, past 3 s once on a loaded machine).
    await eventually(lambda: len(receiver.requests) >= count, 10, f"{count} requests at the receiver")


async def _after_a_second(fake_clock: FakeClock, receiver: Receiver, count: int) -> bool:
    await fake_clock.advance(1)
    return len(receiver.requests) >= count


@pytest.fixture
def core(fake_clock: FakeClock) -> Core:
    return Core("nas")


DEVICE = DeviceInfo(identifier="nas", name="nas")


async def test_above_for_duration_fires_then_clears_with_hysteresis(
    core: Core, fake_clock: FakeClock, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    disk = rule(
        name="disk_full",
        entity_id="sensor.nas_disk_*_percent",
        above=90,
        clear_below=85,
        **{"for": "5m"},
        on_fire=[{"webhook": f"{url}fire"}],
        on_clear=[{"webhook": f"{url}clear"}],
    )
    async with AlertEngine(core, [disk], DEVICE).lifespan() as engine:
        core.states.set("sensor.nas_disk_root_percent", "95", {"unit_of_measurement": "%", "friendly_name": "nas /"})
        await fake_clock.advance(299)
        assert core.states.get("binary_sensor.alert_disk_full").state == "off"
        await fake_clock.advance(2)
        alert = core.states.get("binary_sensor.alert_disk_full")
        assert alert.state == "on"
        assert alert.attributes["entities"] == ["sensor.nas_disk_root_percent"]
        await settle(rec, 1)
        body = rec.json_bodies()[0]
        assert rec.requests[0]["path"] == "/fire"
        assert body["status"] == "firing"
        assert body["message"] == "nas / is 95 %"
        core.states.set("sensor.nas_disk_root_percent", "87", {"unit_of_measurement": "%"})
        assert core.states.get("binary_sensor.alert_disk_full").state == "on", "87 is inside the hysteresis band"
        core.states.set("sensor.nas_disk_root_percent", "84", {"unit_of_measurement": "%"})
        assert core.states.get("binary_sensor.alert_disk_full").state == "off"
        await settle(rec, 2)
        assert rec.requests[1]["path"] == "/clear"
        assert engine.as_list()[0]["last_cleared"] is not None


async def test_the_alert_entity_is_described_as_every_entity_is(core: Core) -> None:
    """The hub's own entities follow the one rule: the alert's is registered from a description (its registry entry
    is what MQTT discovery and the API read), named `<device> Alert <rule>`, with a stable id and unique id."""
    disk = rule(name="disk_full", entity_id="sensor.nas_disk_*_percent", above=90)
    async with AlertEngine(core, [disk], DEVICE).lifespan():
        entry = core.entities.get("binary_sensor.alert_disk_full")
        state = core.states.get("binary_sensor.alert_disk_full")
    assert entry is not None
    assert state is not None
    assert (entry.unique_id, entry.name, entry.device, entry.device_class) == (
        "nas_alert_disk_full",
        "Alert disk_full",
        DEVICE,
        "problem",
    )
    assert (state.state, state.attributes["friendly_name"], state.attributes["device_class"]) == (
        "off",
        "nas Alert disk_full",
        "problem",
    )


async def test_condition_that_stops_holding_before_the_duration_never_fires(
    core: Core, fake_clock: FakeClock, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    hot = rule(name="hot", entity_id="sensor.nas_cpu", above=80, **{"for": "1m"}, on_fire=[{"webhook": url}])
    async with AlertEngine(core, [hot], DEVICE).lifespan():
        core.states.set("sensor.nas_cpu", "90")
        await fake_clock.advance(50)
        core.states.set("sensor.nas_cpu", "10")
        await fake_clock.advance(30)
        core.states.set("sensor.nas_cpu", "91")
        await fake_clock.advance(59)
        assert core.states.get("binary_sensor.alert_hot").state == "off"
        await fake_clock.advance(1)
        assert core.states.get("binary_sensor.alert_hot").state == "on"
        await settle(rec, 1)
        assert len(rec.requests) == 1


async def test_repeat_notifies_again_while_firing(
    core: Core, fake_clock: FakeClock, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    low = rule(name="low", entity_id="sensor.nas_free", below=5, repeat="10m", on_fire=[{"webhook": url}])
    async with AlertEngine(core, [low], DEVICE).lifespan():
        core.states.set("sensor.nas_free", "3")
        await settle(rec, 1)
        await fake_clock.advance(599)
        await asyncio.sleep(0.1)
        assert len(rec.requests) == 1
        await fake_clock.advance(1)
        await settle(rec, 2)
        await fake_clock.advance(600)
        await settle(rec, 3)
        assert [b["status"] for b in rec.json_bodies()] == ["firing"] * 3
        core.states.set("sensor.nas_free", "6")
        assert core.states.get("binary_sensor.alert_low").state == "off"


async def test_state_equal_and_leaving_a_value(core: Core, fake_clock: FakeClock) -> None:
    exited = rule(name="exited", entity_id="sensor.nas_plex_state", state="exited")
    left = rule(name="not_running", entity_id="sensor.nas_plex_state", not_state="running")
    async with AlertEngine(core, [exited, left], DEVICE).lifespan():
        core.states.set("sensor.nas_plex_state", "running")
        assert core.states.get("binary_sensor.alert_exited").state == "off"
        assert core.states.get("binary_sensor.alert_not_running").state == "off"
        core.states.set("sensor.nas_plex_state", "paused")
        assert core.states.get("binary_sensor.alert_exited").state == "off"
        assert core.states.get("binary_sensor.alert_not_running").state == "on"
        core.states.set("sensor.nas_plex_state", "exited")
        assert core.states.get("binary_sensor.alert_exited").state == "on"
        core.states.set("sensor.nas_plex_state", "running")
        assert core.states.get("binary_sensor.alert_exited").state == "off"
        assert core.states.get("binary_sensor.alert_not_running").state == "off"


async def test_unavailable_for_a_duration(core: Core, fake_clock: FakeClock) -> None:
    gone = rule(name="gone", entity_id=["sensor.nas_a", "sensor.nas_b"], unavailable=True, **{"for": "2m"})
    async with AlertEngine(core, [gone], DEVICE).lifespan():
        core.states.set("sensor.nas_a", "1")
        core.states.set("sensor.nas_b", "unavailable")
        await fake_clock.advance(119)
        assert core.states.get("binary_sensor.alert_gone").state == "off"
        await fake_clock.advance(1)
        alert = core.states.get("binary_sensor.alert_gone")
        assert alert.state == "on"
        assert alert.attributes["entities"] == ["sensor.nas_b"]
        core.states.set("sensor.nas_b", "2")
        assert core.states.get("binary_sensor.alert_gone").state == "off"


async def test_no_update_for_a_duration(core: Core, fake_clock: FakeClock) -> None:
    silent = rule(name="silent", entity_id="sensor.pi_*", no_update_for="5m")
    async with AlertEngine(core, [silent], DEVICE).lifespan():
        core.states.set("sensor.pi_cpu", "1")
        await fake_clock.advance(240)
        core.states.set("sensor.pi_cpu", "2")
        await fake_clock.advance(240)
        assert core.states.get("binary_sensor.alert_silent").state == "off"
        await fake_clock.advance(61)
        assert core.states.get("binary_sensor.alert_silent").state == "on"
        core.states.set("sensor.pi_cpu", "3")
        assert core.states.get("binary_sensor.alert_silent").state == "off"


async def test_failing_webhook_is_retried_and_never_blocks_the_bus(
    core: Core, fake_clock: FakeClock, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    rec.status = 500
    hot = rule(
        name="hot", entity_id="sensor.nas_cpu", above=80, on_fire=[{"webhook": f"{url}alerts", "format": "ntfy"}]
    )
    async with AlertEngine(core, [hot], DEVICE).lifespan() as engine:
        core.states.set("sensor.nas_cpu", "90")
        await settle(rec, 1)
        for attempt in range(2, ATTEMPTS + 1):
            # Time moves on until the next try arrives: the receiver has a request a moment before the runner,
            # back from it, sleeps its backoff, and time moved before that sleep began would never wake it.
            await eventually(partial(_after_a_second, fake_clock, rec, attempt), 10, f"try {attempt} at the receiver")
        await engine.runner.drain()
        assert len(rec.requests) == ATTEMPTS
        assert engine.runner.failures == ATTEMPTS
        rec.status, rec.hang = 200, 1.0
        core.states.set("sensor.nas_cpu", "10")
        core.states.set("sensor.nas_cpu", "95")
        started = time.perf_counter()
        for value in range(1000):
            core.states.set("sensor.nas_cpu", str(81 + value % 10))
        assert time.perf_counter() - started < 0.5, "state writes must not wait on a hanging webhook"


async def test_ntfy_and_gotify_formats(core: Core, fake_clock: FakeClock, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    hot = rule(
        name="hot",
        entity_id="sensor.nas_cpu",
        above=80,
        message="{friendly_name} at {state}{unit} on {node}",
        on_fire=[
            {"webhook": f"{url}ntfy", "format": "ntfy", "token": "tk1"},
            {"webhook": f"{url}gotify", "format": "gotify", "token": "tk2"},
        ],
    )
    async with AlertEngine(core, [hot], DEVICE).lifespan():
        core.states.set("sensor.nas_cpu", "90", {"friendly_name": "nas CPU", "unit_of_measurement": "%"})
        await settle(rec, 2)
    # Both go through Apprise, which speaks each server's own API: ntfy's JSON publish (at its root, the topic in
    # the body) and Gotify's /message.
    by_path = {r["path"]: r for r in rec.requests}
    ntfy = by_path["/"]
    assert json.loads(ntfy["body"]) == {"topic": "ntfy", "title": "hot firing", "message": "nas CPU at 90 % on nas"}
    assert (ntfy["headers"]["X-Tags"], ntfy["headers"]["X-Priority"]) == ("rotating_light", "high")
    assert ntfy["headers"]["Authorization"] == "Bearer tk1"
    gotify = by_path["/gotify/message"]
    assert gotify["headers"]["X-Gotify-Key"] == "tk2"
    assert json.loads(gotify["body"]) == {"title": "hot firing", "message": "nas CPU at 90 % on nas", "priority": 8}


async def test_service_action_gets_templated_data(core: Core, fake_clock: FakeClock) -> None:
    calls: list[ServiceCall] = []

    async def restart(call: ServiceCall) -> None:
        calls.append(call)

    core.services.register("docker", ServiceDescription(name="restart", handler=restart))
    dead = rule(
        name="dead",
        entity_id="sensor.nas_plex_state",
        state="exited",
        on_fire=[{"service": "docker.restart", "data": {"entity_id": "{entity_id}", "force": True}}],
    )
    async with AlertEngine(core, [dead], DEVICE).lifespan() as engine:
        core.states.set("sensor.nas_plex_state", "exited")
        await engine.runner.drain()
    assert [dict(c.data) for c in calls] == [{"entity_id": "sensor.nas_plex_state", "force": True}]


def test_bad_rule_is_a_config_error_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text(
        "hub:\n  name: nas\nalerts:\n  - name: ok\n    entity_id: sensor.a\n    above: 1\n"
        "  - name: both\n    entity_id: sensor.b\n    above: 1\n    state: 'on'\n"
        "  - name: tpl\n    entity_id: sensor.c\n    below: 2\n    message: '{state.__class__}'\n"
        "  - name: ok\n    entity_id: sensor.d\n    unavailable: true\n"
    )
    with pytest.raises(ConfigErrors) as caught:
        load_config(tmp_path, {})
    messages = [str(e).replace(str(tmp_path) + "/", "") for e in caught.value.errors]
    assert messages[0] == (
        "hub.yaml:7 alerts[1]: give exactly one trigger: above/below, state, not_state, unavailable or no_update_for"
    )
    assert messages[1].startswith("hub.yaml:14 alerts[2].message: unknown template field {state.__class__}")
    assert messages[2] == "hub.yaml:15 alerts[3].name: duplicate alert name 'ok'"
