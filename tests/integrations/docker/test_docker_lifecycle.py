"""Containers created, started, stopped, killed and removed while the hub runs: states follow within 2 s."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import docker
import pytest

from tests.fixtures.dockerd import DockerDaemon
from tests.integrations.docker.dockerhub import NODE, entity, is_state, running_hub, wait_for


@pytest.fixture
def client(dockerd: DockerDaemon) -> Iterator[docker.DockerClient]:
    with closing(dockerd.client()) as c:
        yield c


async def test_container_lifecycle_seen_within_two_seconds(
    tmp_path: Path, dockerd: DockerDaemon, busybox_image: str, client: docker.DockerClient
) -> None:
    # A 30 s interval: only the event stream can make these changes show within 2 s.
    async with running_hub(tmp_path, dockerd.url, interval="30s") as hub:
        total = f"sensor.{NODE}_docker_containers_total"
        await wait_for(hub, total, is_state("0"))
        state_id = entity("sensor", "life", "state")

        container = await asyncio.to_thread(
            client.containers.create, busybox_image, ["sleep", "600"], name="life", network_mode="none"
        )
        await wait_for(hub, state_id, is_state("created"))
        await wait_for(hub, total, is_state("1"))
        registry = hub.core.entities.get(state_id)
        assert registry is not None
        assert registry.device.name == "life"
        assert registry.device.via_device == NODE
        assert registry.device.model == busybox_image

        await asyncio.to_thread(container.start)
        state, _ = await wait_for(hub, state_id, is_state("running"))
        assert state is not None
        assert state.attributes["image"] == busybox_image
        assert state.attributes["container_id"] == container.id[:12]
        await wait_for(hub, f"sensor.{NODE}_docker_containers_running", is_state("1"))
        started, _ = await wait_for(
            hub, entity("sensor", "life", "started"), lambda s: s is not None and s.state[:2] == "20"
        )

        await asyncio.to_thread(container.stop)
        await wait_for(hub, state_id, is_state("exited"))
        await wait_for(hub, entity("sensor", "life", "cpu"), is_state("0.0"))
        # When it last started, kept while it is stopped (an unknown timestamp is a warning in HA 2024.3's log).
        assert hub.core.states.get(entity("sensor", "life", "started")) == started

        await asyncio.to_thread(container.start)
        await wait_for(hub, state_id, is_state("running"))
        await asyncio.to_thread(container.kill)
        await wait_for(hub, state_id, is_state("exited"))

        await asyncio.to_thread(container.remove)
        await wait_for(hub, state_id, lambda s: s is None)
        assert hub.core.entities.get(state_id) is None
        assert not [e for e in hub.core.states.entity_ids() if "_docker_life_" in e]
        await wait_for(hub, total, is_state("0"))


async def test_filters_and_host_figures(
    tmp_path: Path, dockerd: DockerDaemon, busybox_image: str, client: docker.DockerClient
) -> None:
    for name, labels in (("keep-a", {}), ("skip-b", {}), ("keep-c", {"homelab.ignore": "yes"})):
        await asyncio.to_thread(
            client.containers.create, busybox_image, ["true"], name=name, labels=labels, network_mode="none"
        )
    extra = "    include: ['keep-*']\n    exclude: ['label:homelab.ignore']\n"
    async with running_hub(tmp_path, dockerd.url, extra=extra) as hub:
        await wait_for(hub, entity("sensor", "keep-a", "state"), is_state("created"))
        await wait_for(hub, f"sensor.{NODE}_docker_containers_total", is_state("3"))
        await wait_for(hub, f"sensor.{NODE}_docker_images", is_state("1"))
        version = hub.core.states.get(f"sensor.{NODE}_docker_version")
        assert version is not None
        assert version.state[:1].isdigit()
        assert hub.core.states.get(entity("sensor", "skip-b", "state")) is None
        assert hub.core.states.get(entity("sensor", "keep-c", "state")) is None
        assert hub.core.states.get(entity("switch", "keep-a", "running")) is None  # controls are off


async def test_health_follows_the_healthcheck(
    tmp_path: Path, dockerd: DockerDaemon, busybox_image: str, client: docker.DockerClient
) -> None:
    healthcheck = {"test": ["CMD-SHELL", "test -e /tmp/ok"], "interval": 100_000_000, "retries": 1}
    async with running_hub(tmp_path, dockerd.url, interval="30s") as hub:
        container = await asyncio.to_thread(
            client.containers.run,
            busybox_image,
            ["sleep", "600"],
            name="checked",
            healthcheck=healthcheck,
            network_mode="none",
            detach=True,
        )
        health_id = entity("sensor", "checked", "health")
        await wait_for(hub, health_id, is_state("unhealthy"), timeout=3.0)
        await asyncio.to_thread(container.exec_run, ["touch", "/tmp/ok"])
        await wait_for(hub, health_id, is_state("healthy"))
        assert hub.core.states.get(entity("sensor", "life", "health")) is None
