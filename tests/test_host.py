"""IntegrationHost with a small in-test integration: NotReady retried, UpdateFailed, rates, vanished entities."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from hub.config import IntegrationEntry
from hub.config.validation import StrictModel
from hub.core import STATE_UNAVAILABLE, STATE_UNKNOWN, Core, DeviceInfo, EntityDescription
from hub.core.clock import FakeClock
from hub.health import HealthRegistry, HealthStatus
from hub.host import IntegrationHost
from hub.integration import Integration, NotReady, UpdateFailed

NODE = "lab"


@dataclass(frozen=True)
class Snap:
    load: float
    rx_bytes: int
    disks: dict[str, float] = field(default_factory=dict)


class ScriptConfig(StrictModel):
    not_ready_times: int = 0


class Scripted(Integration[ScriptConfig, Snap]):
    """Polls return (or raise) the next item of `script`; `lifespan` is not ready a configured number of times."""

    domain = "scripted"
    config_model = ScriptConfig
    entities: ClassVar[tuple[EntityDescription[Any], ...]] = (
        EntityDescription(key="load", name="Load", value=lambda s, _: s.load, unit="%", state_class="measurement"),
        EntityDescription(
            key="rx_rate", name="Received", value=lambda s, _: s.rx_bytes, unit="B/s", counter=True, precision=1
        ),
        EntityDescription(
            key="disk_{instance}",
            name="Disk {instance}",
            value=lambda s, i: s.disks[i],
            instances=lambda s: sorted(s.disks),
            unit="%",
        ),
    )

    def __init__(self, ctx: Any, config: ScriptConfig) -> None:
        super().__init__(ctx, config)
        self.script: list[Snap | Exception] = []
        self.opened = 0
        self.attempts = 0

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        self.attempts += 1
        if self.attempts <= self.config.not_ready_times:
            raise NotReady(f"daemon starting ({self.attempts})")
        self.opened += 1
        yield

    async def poll(self) -> Snap:
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


pytestmark = pytest.mark.usefixtures("instant_backoff")


@asynccontextmanager
async def hosted(core: Core, config: ScriptConfig | None = None) -> AsyncIterator[IntegrationHost]:
    """An hour's interval: only `poll()` below makes polls."""
    entry = IntegrationEntry(
        platform="scripted",
        id="scripted",
        name="scripted",
        interval=timedelta(hours=1),
        timeout=timedelta(seconds=5),
        enabled=True,
        options=config or ScriptConfig(),
    )
    health = HealthRegistry().create("scripted", "integration")
    host = IntegrationHost(
        core, entry, Scripted, health, offset=0.0, host_device=DeviceInfo(identifier=NODE, name=NODE)
    )
    async with host.lifespan():
        yield host


async def ready(host: IntegrationHost, fake_clock: FakeClock) -> None:
    for _ in range(50):
        if host._ready.is_set():
            return
        await fake_clock.advance(1)  # NotReady retries sleep on the clock
    raise AssertionError("never ready")


async def poll(host: IntegrationHost, fake_clock: FakeClock, item: Snap | Exception, after: float = 10) -> None:
    """Move time on by `after` seconds, then make one poll that returns or raises `item`."""
    assert host.poller is not None
    integration = host.integration
    assert isinstance(integration, Scripted)
    integration.script.append(item)
    await fake_clock.advance(after)
    before = host.health.success_count + host.health.error_count
    host.poller.request()
    deadline = time.monotonic() + 5
    while host.health.success_count + host.health.error_count == before:
        assert time.monotonic() < deadline, "no poll in 5 s"
        await fake_clock.advance(0)


def value(core: Core, key: str) -> str | None:
    state = core.states.get(f"sensor.{NODE}_{key}")
    return None if state is None else state.state


async def test_not_ready_is_retried_with_backoff_until_it_opens(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core, ScriptConfig(not_ready_times=3)) as host:
        await ready(host, fake_clock)
        integration = host.integration
        assert isinstance(integration, Scripted)
        assert integration.attempts == 4
        assert integration.opened == 1
        assert host.health.error_count == 3
        assert host.health.last_error == "not ready: daemon starting (3)"
        await poll(host, fake_clock, Snap(load=5.0, rx_bytes=0))
        assert host.health.status is HealthStatus.ok
        assert value(core, "load") == "5.0"


async def test_states_units_and_registry_entries_come_from_the_descriptions(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core) as host:
        await ready(host, fake_clock)
        await poll(host, fake_clock, Snap(load=12.5, rx_bytes=100, disks={"/": 40.0, "/mnt/Data": 70.0}))
        load = core.states.get("sensor.lab_load")
        assert load is not None
        assert load.state == "12.5"
        assert load.attributes["unit_of_measurement"] == "%"
        assert load.attributes["state_class"] == "measurement"
        assert load.attributes["friendly_name"] == "lab Load"
        assert value(core, "disk_mnt_data") == "70.0"
        entry = core.entities.get("sensor.lab_disk_mnt_data")
        assert entry is not None
        assert entry.integration == "scripted"
        assert entry.unique_id == "lab_scripted_disk_mnt_data"
        assert sorted(host.writer.entity_ids()) == [
            "sensor.lab_disk",
            "sensor.lab_disk_mnt_data",
            "sensor.lab_load",
            "sensor.lab_rx_rate",
        ]


async def test_counter_rates_only_from_the_second_snapshot(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core) as host:
        await ready(host, fake_clock)
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=1_000))
        assert value(core, "rx_rate") == STATE_UNKNOWN  # no false zero from one sample
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=6_000), after=10)
        assert value(core, "rx_rate") == "500.0"
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=100), after=10)
        assert value(core, "rx_rate") == "500.0"  # a counter reset publishes nothing rather than a negative rate
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=2_100), after=20)
        assert value(core, "rx_rate") == "100.0"


async def test_update_failed_makes_entities_unavailable_then_recovers(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core) as host:
        await ready(host, fake_clock)
        await poll(host, fake_clock, Snap(load=3.0, rx_bytes=10))
        await poll(host, fake_clock, UpdateFailed("daemon unreachable"))
        assert value(core, "load") == STATE_UNAVAILABLE
        assert value(core, "rx_rate") == STATE_UNAVAILABLE
        load = core.states.get("sensor.lab_load")
        assert load is not None
        assert load.attributes["unit_of_measurement"] == "%"  # kept while unavailable
        assert host.health.status is HealthStatus.degraded
        await poll(host, fake_clock, Snap(load=4.0, rx_bytes=20))
        assert value(core, "load") == "4.0"
        assert host.health.status is HealthStatus.ok
        # No rate spans the outage: the counter waits for a second sample before it has a value again.
        assert value(core, "rx_rate") == STATE_UNAVAILABLE
        await poll(host, fake_clock, Snap(load=4.0, rx_bytes=120), after=10)
        assert value(core, "rx_rate") == "10.0"


async def test_an_unexpected_error_is_treated_like_update_failed(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core) as host:
        await ready(host, fake_clock)
        await poll(host, fake_clock, Snap(load=3.0, rx_bytes=10))
        await poll(host, fake_clock, KeyError("bug"))
        assert value(core, "load") == STATE_UNAVAILABLE
        assert host.health.last_error == "'bug'"


async def test_vanished_instances_are_removed_from_states_and_registry(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core) as host:
        await ready(host, fake_clock)
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=0, disks={"/": 10.0, "/mnt/usb": 20.0}))
        assert value(core, "disk_mnt_usb") == "20.0"
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=0, disks={"/": 11.0}))
        assert core.states.get("sensor.lab_disk_mnt_usb") is None
        assert core.entities.get("sensor.lab_disk_mnt_usb") is None
        assert value(core, "disk") == "11.0"
        await poll(host, fake_clock, Snap(load=1.0, rx_bytes=0, disks={"/": 11.0, "/mnt/usb": 25.0}))
        assert value(core, "disk_mnt_usb") == "25.0"


async def test_stopping_the_host_closes_the_lifespan(fake_clock: FakeClock) -> None:
    core = Core(NODE)
    async with hosted(core) as host:
        await ready(host, fake_clock)
        task_names = {task.get_name() for task in asyncio.all_tasks()}
        assert "poll:scripted" in task_names
    assert "poll:scripted" not in {task.get_name() for task in asyncio.all_tasks()}
