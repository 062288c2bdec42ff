"""A real hub for the dashboard's browser tests: a polling `lab` integration, a second node, a token, history."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from hub.api.tokens import TokenStore
from hub.config import load_config
from hub.core import (
    STATE_UNAVAILABLE,
    Core,
    DeviceInfo,
    EntityDescription,
    RegistryEntry,
    ServiceCall,
    State,
    clock,
)
from hub.core.events import EVENT_STATE_CHANGED
from hub.integration import Integration, IntegrationService, UpdateFailed
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

__all__ = ["LAB", "DashboardHub", "Lab", "MemoryHistory", "running_hub", "seed_fleet_node", "seed_many"]


@dataclass
class LabData:
    """What the lab integration reads on each poll; tests change it and call `poll_now`."""

    cpu: float = 12.5
    memory: float = 41.0
    temperature: float = 47.5
    containers: dict[str, bool] = field(default_factory=lambda: {"grafana": True, "nginx": True, "postgres": True})
    fail: bool = False
    pressed: list[str] = field(default_factory=list)


LAB = LabData()
NODE = "nas"


class LabConfig(BaseModel):
    model_config = {"frozen": True, "extra": "forbid"}


@dataclass(frozen=True)
class LabSnapshot:
    cpu: float
    memory: float
    temperature: float
    containers: Mapping[str, bool]


def _container_device(node: str) -> Any:
    def device(_snapshot: LabSnapshot, name: str) -> DeviceInfo:
        return DeviceInfo(
            identifier=f"{node}_{name}", name=name, manufacturer="Docker", model="container", via_device=node
        )

    return device


async def _press(_integration: Any, call: ServiceCall) -> None:
    LAB.pressed.append(str(call.data.get("entity_id")))


async def _switch(integration: Any, call: ServiceCall) -> None:
    name = str(call.data["entity_id"]).partition(".nas_ct_")[2].removesuffix("_running")
    LAB.containers[name] = call.service == "start"
    integration.ctx.request_poll()


class Lab(Integration[LabConfig, LabSnapshot]):
    """Host figures and containers from `LAB`, with a restart button and a running switch per container."""

    domain = "lab"
    config_model = LabConfig
    default_interval = timedelta(seconds=30)
    services: ClassVar[tuple[IntegrationService[Any], ...]] = (
        IntegrationService(name="restart", handler=_press),
        IntegrationService(name="start", handler=_switch),
        IntegrationService(name="stop", handler=_switch),
    )

    async def poll(self) -> LabSnapshot:
        if LAB.fail:
            raise UpdateFailed("lab daemon not answering on /run/lab.sock")
        return LabSnapshot(LAB.cpu, LAB.memory, LAB.temperature, dict(LAB.containers))


def _containers(snapshot: LabSnapshot) -> list[str]:
    return sorted(snapshot.containers)


def _lab_entities(node: str) -> tuple[EntityDescription[Any], ...]:
    device = _container_device(node)
    return (
        EntityDescription(key="cpu_percent", name="CPU", unit="%", state_class="measurement", value=lambda s, _: s.cpu),
        EntityDescription(
            key="memory_percent", name="Memory", unit="%", state_class="measurement", value=lambda s, _: s.memory
        ),
        EntityDescription(
            key="cpu_temperature",
            name="CPU temperature",
            unit="°C",
            device_class="temperature",
            state_class="measurement",
            value=lambda s, _: s.temperature,
        ),
        EntityDescription(key="load_1m", name="Load (1 min)", state_class="measurement", value=lambda s, _: 0.42),
        EntityDescription(
            key="uptime", name="Uptime", unit="h", entity_category="diagnostic", value=lambda s, _: 312.4
        ),
        EntityDescription(
            key="ct_{instance}_cpu",
            name="CPU",
            unit="%",
            state_class="measurement",
            instances=_containers,
            device=device,
            value=lambda s, i: 3.2 if s.containers[i] else None,
        ),
        EntityDescription(
            key="ct_{instance}_running",
            name="Running",
            platform="switch",
            instances=_containers,
            device=device,
            commands={"ON": "start", "OFF": "stop"},
            value=lambda s, i: s.containers[i],
        ),
        EntityDescription(
            key="ct_{instance}_restart",
            name="Restart",
            platform="button",
            instances=_containers,
            device=device,
            commands={"PRESS": "restart"},
            value=lambda s, i: None,
        ),
    )


Lab.entities = _lab_entities(NODE)


class MemoryHistory:
    """History kept from the bus, answering as the recorder's `HistoryReader` does (used while none runs)."""

    def __init__(self, core: Core) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.statistics_rows: dict[str, list[dict[str, Any]]] = {}
        self.undo = core.bus.listen(EVENT_STATE_CHANGED, self._changed)

    def _changed(self, event: Any) -> None:
        new = event.data["new_state"]
        if new is not None:
            self.rows.setdefault(new.entity_id, []).append(new.as_dict())

    async def history_period(
        self, start: datetime, end: datetime, filters: Sequence[str], **_flags: bool
    ) -> list[list[dict[str, Any]]]:
        answer = []
        for entity_id in filters:
            rows = sorted(self.rows.get(entity_id, []), key=lambda r: str(r["last_changed"]))
            rows = [r for r in rows if r["last_changed"] <= end.isoformat()]
            before = [r for r in rows if r["last_changed"] < start.isoformat()]
            inside = [r for r in rows if r["last_changed"] >= start.isoformat()]
            answer.append(before[-1:] + inside)
        return answer

    async def statistics(
        self, statistic_ids: Sequence[str], period: str, start: datetime, end: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        return {sid: self.statistics_rows.get(sid, []) for sid in statistic_ids}


@dataclass
class DashboardHub:
    hub: Hub
    url: str
    token: str
    history: MemoryHistory

    @property
    def core(self) -> Core:
        return self.hub.core


@asynccontextmanager
async def running_hub(
    tmp_path: Path, *, with_token: bool = True, port: int | None = None
) -> AsyncIterator[DashboardHub]:
    """The hub `nas` with the lab integration on a free port, a `browser` token and history from the bus."""
    port = port or free_port()
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: {NODE}\n  data_dir: {tmp_path / 'data'}\n  http:\n    host: 127.0.0.1\n    port: {port}\n"
        "integrations:\n  - platform: lab\n    interval: 30s\n"
    )
    token = ""
    if with_token:
        tokens = TokenStore.in_dir(tmp_path / "data")
        token = tokens.create("browser")
        tokens.save()
    LAB.__init__()  # type: ignore[misc]
    hub = Hub(load_config(directory, {"lab": Lab}), {"lab": Lab})
    history = MemoryHistory(hub.core)
    async with hub.lifespan():
        # The recorder's history when the runtime runs one; else history kept from the bus.
        hub.history = hub.history or history
        await hub.poll_now("lab")
        await eventually(lambda: hub.core.states.get("sensor.nas_cpu_percent") is not None, what="a CPU reading")
        yield DashboardHub(hub, f"http://127.0.0.1:{port}", token, history)
    history.undo()


def _add(core: Core, entity_id: str, name: str, device: DeviceInfo, state: str, **attrs: Any) -> None:
    platform, _, object_id = entity_id.partition(".")
    node = device.via_device or device.identifier
    core.entities.add(
        RegistryEntry(
            entity_id=entity_id,
            unique_id=f"{node}:{object_id}",
            platform=platform,  # type: ignore[arg-type]
            name=name,
            node=node,
            integration="mqtt",
            device=device,
            unit=attrs.get("unit_of_measurement"),
        )
    )
    core.states.set(entity_id, state, {"friendly_name": f"{device.name} {name}", **attrs})


def seed_fleet_node(core: Core) -> None:
    """A second node `pi` as the MQTT ingest would register it: its host and one container, one unavailable."""
    pi = DeviceInfo(identifier="pi", name="pi", manufacturer="homelab-hub", model="Linux aarch64")
    pihole = DeviceInfo(
        identifier="pi_pihole", name="pihole", manufacturer="Docker", model="container", via_device="pi"
    )
    _add(core, "sensor.pi_cpu_percent", "CPU", pi, "23.4", unit_of_measurement="%", state_class="measurement")
    _add(core, "sensor.pi_memory_percent", "Memory", pi, "61.8", unit_of_measurement="%")
    _add(core, "sensor.pi_cpu_temperature", "CPU temperature", pi, "58.1", unit_of_measurement="°C")
    _add(core, "binary_sensor.pi_throttled", "Throttled", pi, "off", device_class="problem")
    _add(core, "sensor.pi_pihole_cpu", "CPU", pihole, "1.2", unit_of_measurement="%")
    _add(core, "sensor.pi_pihole_memory", "Memory", pihole, STATE_UNAVAILABLE, unit_of_measurement="MB")


def seed_many(core: Core, count: int) -> None:
    """`count` sensors over devices of ten entities each, for the time-to-interactive figure."""
    host = DeviceInfo(identifier="big", name="big")
    for index in range(count):
        device = DeviceInfo(identifier=f"big_ct{index // 10}", name=f"service-{index // 10:02d}", via_device="big")
        value = f"{50 + 40 * math.sin(index):.1f}"
        _add(
            core,
            f"sensor.big_ct{index // 10}_metric_{index}",
            f"Metric {index}",
            device if index else host,
            value,
            unit_of_measurement="%",
        )


async def recorded_states(lab: DashboardHub, entity_id: str, within: timedelta = timedelta(hours=1)) -> list[str]:
    """The states history answers for `entity_id` now: what the dashboard's chart would draw (the recorder commits
    in batches, so a change made a moment ago may not be there yet)."""
    reader = lab.hub.history
    assert reader is not None
    now = clock.utcnow()
    rows = await reader.history_period(
        now - within,
        now,
        [entity_id],
        minimal_response=True,
        no_attributes=True,
        skip_initial_state=False,
        significant_changes_only=True,
    )
    return [row["state"] for row in rows[0]] if rows else []


async def backfill(lab: DashboardHub, entity_id: str, hours: float, step_minutes: float) -> int:
    """Recorded rows of a gently varying sensor over the last `hours`, as if the hub had run that long.

    The rows reach whichever history the hub has (its recorder, or `MemoryHistory`) the way live ones do: as
    `state_changed` events on the bus, here with past timestamps. Returns how many rows history then answers
    for the last 24 hours, once they are all written.
    """
    now = clock.utcnow()
    steps = int(hours * 60 / step_minutes)
    old_state = None
    for i in range(steps, 0, -1):
        when = now - timedelta(minutes=i * step_minutes)
        value = 30 + 12 * math.sin(i / 9) + 5 * math.sin(i / 2.3)
        new_state = State(entity_id, f"{value:.1f}", {"unit_of_measurement": "°C"}, when, when)
        lab.core.bus.fire(EVENT_STATE_CHANGED, {"entity_id": entity_id, "old_state": old_state, "new_state": new_state})
        old_state = new_state
    reader = lab.hub.history
    assert reader is not None
    counts = [0]
    async with asyncio.timeout(10):
        # Written in batches: done when the count holds still (a recorder may merge identical neighbours).
        while counts[-1] < steps * 0.9 or counts[-1] != counts[-2]:
            await asyncio.sleep(0.3)
            rows = await reader.history_period(
                now - timedelta(days=1),
                clock.utcnow(),
                [entity_id],
                minimal_response=True,
                no_attributes=True,
                skip_initial_state=False,
                significant_changes_only=True,
            )
            counts.append(len(rows[0]) if rows else 0)
    return counts[-1]
