"""CPU % of a busy loop under a 0.5 CPU limit, and memory against the container's limit, on the real daemon."""

from __future__ import annotations

import asyncio
import statistics
from contextlib import closing
from pathlib import Path

from hub.core import State
from tests.fixtures.dockerd import DockerDaemon
from tests.integrations.docker.dockerhub import entity, running_hub, wait_for

_MIB = 1024 * 1024


def _number(state: State | None) -> bool:
    try:
        return state is not None and float(state.state) >= 0
    except ValueError:
        return False


async def test_cpu_of_a_half_cpu_busy_loop_and_memory_of_limit(
    tmp_path: Path, dockerd: DockerDaemon, busybox_image: str
) -> None:
    with closing(dockerd.client()) as client:
        await asyncio.to_thread(
            client.containers.run,
            busybox_image,
            ["sh", "-c", "while :; do :; done"],
            name="busy",
            network_mode="none",
            nano_cpus=500_000_000,
            detach=True,
        )
        # 20 MiB in the container's /dev/shm (tmpfs) is charged to its memory cgroup and stays there.
        await asyncio.to_thread(
            client.containers.run,
            busybox_image,
            ["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=20 && sleep 600"],
            name="memory",
            network_mode="none",
            mem_limit=64 * _MIB,
            detach=True,
        )
    async with running_hub(tmp_path, dockerd.url, interval="1s") as hub:
        cpu_id = entity("sensor", "busy", "cpu")
        await wait_for(hub, cpu_id, _number, timeout=6.0)
        readings = []
        for _ in range(4):
            state = hub.core.states.get(cpu_id)
            assert state is not None
            readings.append(float(state.state))
            await asyncio.sleep(1.0)
        assert 40.0 <= statistics.median(readings) <= 60.0, readings
        cpu = hub.core.states.get(cpu_id)
        assert cpu is not None
        assert cpu.attributes["unit_of_measurement"] == "%"

        percent, _ = await wait_for(hub, entity("sensor", "memory", "memory_percent"), _number, timeout=4.0)
        used, _ = await wait_for(hub, entity("sensor", "memory", "memory"), _number, timeout=4.0)
        assert used is not None
        assert percent is not None
        assert 19.0 <= float(used.state) <= 30.0, used
        assert used.attributes["unit_of_measurement"] == "MiB"
        assert abs(float(percent.state) - 100 * float(used.state) / 64) < 2.0, (percent, used)
        idle_cpu = hub.core.states.get(entity("sensor", "memory", "cpu"))
        assert idle_cpu is not None
        assert float(idle_cpu.state) < 5.0
