"""Helpers for MQTT tests: a recording subscriber on the fixture's broker and a core with a few entities."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from hub.core import Core, DeviceInfo, RegistryEntry, ServiceCall, ServiceDescription

__all__ = ["Recorder", "add_entity", "make_core", "recording"]

HOST = DeviceInfo(identifier="nas", name="NAS", manufacturer="homelab-hub", model="Linux x86_64", sw_version="0.1.0")
NGINX = DeviceInfo(
    identifier="nas_docker_nginx", name="nginx", manufacturer="Docker", model="nginx:1", via_device="nas"
)


@dataclass
class Recorder:
    """Every message seen, in order, and the latest per topic."""

    messages: list[aiomqtt.Message] = field(default_factory=list)
    latest: dict[str, aiomqtt.Message] = field(default_factory=dict)

    def payload(self, topic: str) -> bytes | None:
        message = self.latest.get(topic)
        return None if message is None else bytes(message.payload)  # type: ignore[arg-type]

    def json(self, topic: str) -> Any:
        payload = self.payload(topic)
        return None if payload is None else json.loads(payload)

    def on(self, topic: str) -> list[aiomqtt.Message]:
        return [m for m in self.messages if m.topic.value == topic]


@asynccontextmanager
async def recording(port: int, *topics: str, identifier: str = "test-recorder") -> AsyncIterator[Recorder]:
    """A subscriber recording what the broker delivers on `topics` while the context is open."""
    recorder = Recorder()
    async with aiomqtt.Client("127.0.0.1", port, identifier=identifier) as client:
        for topic in topics:
            await client.subscribe(topic, qos=1)

        async def collect() -> None:
            async for message in client.messages:
                recorder.messages.append(message)
                recorder.latest[message.topic.value] = message

        task = asyncio.create_task(collect())
        try:
            yield recorder
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def make_core(node: str = "nas") -> tuple[Core, list[ServiceCall]]:
    """A core with a sensor, a binary sensor, a switch and a button; `calls` records the test services."""
    core = Core(node)
    calls: list[ServiceCall] = []

    async def record(call: ServiceCall) -> Mapping[str, Any] | None:
        calls.append(call)
        return None

    for name in ("start", "stop", "restart"):
        core.services.register("test", ServiceDescription(name=name, handler=record))
    add_entity(core, "sensor", "cpu_percent", "CPU", "12.5", unit="%", state_class="measurement")
    add_entity(core, "binary_sensor", "docker_nginx_running", "Running", "on", device=NGINX, device_class="running")
    add_entity(
        core,
        "switch",
        "docker_nginx_power",
        "Power",
        "on",
        device=NGINX,
        commands={"ON": "test.start", "OFF": "test.stop"},
    )
    add_entity(
        core,
        "button",
        "docker_nginx_restart",
        "Restart",
        "unknown",
        device=NGINX,
        commands={"PRESS": "test.restart"},
        device_class="restart",
    )
    return core, calls


def add_entity(
    core: Core,
    platform: str,
    key: str,
    name: str,
    state: str,
    *,
    device: DeviceInfo = HOST,
    attributes: Mapping[str, Any] | None = None,
    **options: Any,
) -> str:
    entity_id = f"{platform}.{core.node}_{key}"
    core.entities.add(
        RegistryEntry(
            entity_id=entity_id,
            unique_id=f"{core.node}_test_{key}",
            platform=platform,  # type: ignore[arg-type]
            name=name,
            node=core.node,
            integration="test",
            device=device,
            **options,
        )
    )
    core.states.set(entity_id, state, {"friendly_name": f"{device.name} {name}", **(attributes or {})})
    return entity_id
