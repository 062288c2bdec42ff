"""The daemon stopped and restarted under a running hub, and a hub started while the daemon is down."""

from __future__ import annotations

import asyncio
from contextlib import closing
from pathlib import Path

import pytest

from hub.core import STATE_UNAVAILABLE
from hub.health import HealthStatus
from hub.runtime import Hub
from tests.fixtures.dockerd import DockerDaemon
from tests.fixtures.eventually import eventually
from tests.integrations.docker.dockerhub import NODE, entity, is_state, running_hub, wait_for


def _health_is(hub: Hub, status: HealthStatus) -> bool:
    health = hub.health.get("docker")
    return health is not None and health.status is status


@pytest.mark.usefixtures("instant_backoff")
async def test_daemon_stopped_and_restarted(tmp_path: Path, dockerd: DockerDaemon, busybox_image: str) -> None:
    with closing(dockerd.client()) as client:
        await asyncio.to_thread(
            client.containers.run,
            busybox_image,
            ["sleep", "600"],
            name="survivor",
            network_mode="none",
            restart_policy={"Name": "always"},
            detach=True,
        )
    async with running_hub(tmp_path, dockerd.url, interval="1s") as hub:
        state_id = entity("sensor", "survivor", "state")
        running = f"sensor.{NODE}_docker_containers_running"
        await wait_for(hub, state_id, is_state("running"))
        await wait_for(hub, running, is_state("1"))

        await asyncio.to_thread(dockerd.stop)
        await wait_for(hub, state_id, is_state(STATE_UNAVAILABLE), timeout=3.0)
        await wait_for(hub, running, is_state(STATE_UNAVAILABLE), timeout=1.0)
        await eventually(lambda: _health_is(hub, HealthStatus.failing), 6.0, "docker failing")
        health = hub.health.get("docker")
        assert health is not None
        assert health.last_error is not None
        assert "unavailable" in health.last_error

        await asyncio.to_thread(dockerd.start)
        # The restart policy brings the container back with the daemon; the hub follows within seconds.
        await wait_for(hub, state_id, is_state("running"), timeout=8.0)
        await wait_for(hub, running, is_state("1"), timeout=2.0)
        await eventually(lambda: _health_is(hub, HealthStatus.ok), 2.0, "docker ok")
        cpu_id = entity("sensor", "survivor", "cpu")
        await wait_for(hub, cpu_id, lambda s: s is not None and s.state not in (STATE_UNAVAILABLE, "unknown"), 5.0)

        with closing(dockerd.client()) as client:
            await asyncio.to_thread(client.containers.get("survivor").stop)
        await wait_for(hub, state_id, is_state("exited"))


@pytest.mark.usefixtures("instant_backoff")
async def test_hub_starts_while_the_daemon_is_down(tmp_path: Path, dockerd: DockerDaemon, busybox_image: str) -> None:
    await asyncio.to_thread(dockerd.stop)
    async with running_hub(tmp_path, dockerd.url, interval="1s") as hub:
        await eventually(lambda: _health_is(hub, HealthStatus.failing), 5.0, "docker failing")
        health = hub.health.get("docker")
        assert health is not None
        assert health.last_error is not None
        assert health.last_error.startswith("not ready")
        assert hub.core.states.get(f"sensor.{NODE}_docker_containers_total") is None

        await asyncio.to_thread(dockerd.start)
        await wait_for(hub, f"sensor.{NODE}_docker_containers_total", is_state("0"), timeout=5.0)
        await eventually(lambda: _health_is(hub, HealthStatus.ok), 3.0, "docker ok")
