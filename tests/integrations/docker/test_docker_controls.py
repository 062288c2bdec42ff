"""Start/stop/restart: allowed by the `homelab.controls` label or globally, refused with a clear error otherwise."""

from __future__ import annotations

import asyncio
from contextlib import closing
from pathlib import Path

import pytest

from hub.core import ServiceValidationError
from hub.entity_commands import run_command
from tests.fixtures.dockerd import DockerDaemon
from tests.integrations.docker.dockerhub import entity, is_state, running_hub, wait_for


async def _create(dockerd: DockerDaemon, image: str, name: str, labels: dict[str, str]) -> str:
    with closing(dockerd.client()) as client:
        container = await asyncio.to_thread(
            client.containers.run, image, ["sleep", "600"], name=name, labels=labels, network_mode="none", detach=True
        )
        return str(container.id)


async def test_controls_per_label_when_off_globally(tmp_path: Path, dockerd: DockerDaemon, busybox_image: str) -> None:
    await _create(dockerd, busybox_image, "locked", {})
    await _create(dockerd, busybox_image, "open", {"homelab.controls": "true"})
    async with running_hub(tmp_path, dockerd.url) as hub:
        switch = entity("switch", "open", "running")
        await wait_for(hub, switch, is_state("on"))
        await wait_for(hub, entity("sensor", "locked", "state"), is_state("running"))
        assert hub.core.states.get(entity("switch", "locked", "running")) is None
        assert hub.core.states.get(entity("button", "locked", "restart")) is None
        registry = hub.core.entities.get(switch)
        assert registry is not None
        assert registry.commands == {"ON": "docker.start", "OFF": "docker.stop"}

        with pytest.raises(ServiceValidationError, match=r"refused for container 'locked'.*homelab.controls=true"):
            await hub.core.services.call("docker", "stop", {"container": "locked"})
        with pytest.raises(ServiceValidationError, match="refused"):
            await hub.core.services.call("docker", "restart", {"entity_id": entity("sensor", "locked", "state")})
        with pytest.raises(ServiceValidationError, match="No container named 'ghost'"):
            await hub.core.services.call("docker", "start", {"container": "ghost"})
        with pytest.raises(ServiceValidationError, match="give entity_id or container"):
            await hub.core.services.call("docker", "start", {})
        await wait_for(hub, entity("sensor", "locked", "state"), is_state("running"))

        await hub.core.services.call("switch", "turn_off", {"entity_id": switch})
        await wait_for(hub, switch, is_state("off"))
        await wait_for(hub, entity("sensor", "open", "state"), is_state("exited"))
        await run_command(hub.core, switch, "ON")
        await wait_for(hub, switch, is_state("on"))

        started = hub.core.states.get(entity("sensor", "open", "started"))
        assert started is not None
        await hub.core.services.call("button", "press", {"entity_id": entity("button", "open", "restart")})
        await wait_for(hub, entity("sensor", "open", "started"), lambda s: s is not None and s.state > started.state)
        await wait_for(hub, switch, is_state("on"))


async def test_controls_on_globally_and_label_opt_out(
    tmp_path: Path, dockerd: DockerDaemon, busybox_image: str
) -> None:
    await _create(dockerd, busybox_image, "any", {})
    await _create(dockerd, busybox_image, "pinned", {"homelab.controls": "false"})
    async with running_hub(tmp_path, dockerd.url, extra="    controls: true\n") as hub:
        await wait_for(hub, entity("switch", "any", "running"), is_state("on"))
        await wait_for(hub, entity("sensor", "pinned", "state"), is_state("running"))
        assert hub.core.states.get(entity("switch", "pinned", "running")) is None
        await hub.core.services.call("docker", "stop", {"container": ["any"]})
        await wait_for(hub, entity("switch", "any", "running"), is_state("off"))
        with pytest.raises(ServiceValidationError, match="refused"):
            await hub.core.services.call("docker", "stop", {"container": "pinned"})
