"""Docker polling cost: wall time of one full poll and the hub's CPU in steady state, for 1, 10 and 30 containers.

Run from the repository root, as root (needs Debian's docker.io and busybox-static), as a module so that this
file does not shadow the docker SDK: .venv/bin/python -m bench.docker [--window 20]

A private dockerd is started under a temp dir (as the test fixture does) with N running busybox containers.
For each N the docker integration (its real lifespan, event follower and polls, on the hub's BlockingRunner)
is measured: the first poll (every container inspected, stats streams opening), warm polls, and the process
CPU over `--window` seconds polled every 10 s, the stats streams running throughout. Beside it, in the same
run: `docker stats --no-stream` (the docker CLI, concurrent one-shot reads) and the docker SDK's one-shot
`stats(stream=False)` called container after container (the naive poll). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.support.integration_context import BenchContext
from integrations.docker import Docker
from integrations.docker.config import DockerConfig
from tests.fixtures.dockerd import BUSYBOX_IMAGE, DockerDaemon, _build_context

TARGET_WALL_S = 1.5
TARGET_CPU_PCT = 2.0
INTERVAL = 10.0


def _scale(daemon: DockerDaemon, count: int) -> None:
    with closing(daemon.client()) as client:
        have = len(client.containers.list())
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda i: client.containers.run(
                        BUSYBOX_IMAGE, ["sleep", "3600"], name=f"c{i}", network_mode="none", detach=True
                    ),
                    range(have, count),
                )
            )


async def _measure_hub(url: str, count: int, window: float) -> dict[str, float]:
    ctx = BenchContext("bench-docker")
    integration = Docker(ctx, DockerConfig(url=url))
    async with integration.lifespan():
        events = asyncio.create_task(integration.run())
        started = time.perf_counter()
        snapshot = await integration.poll()
        first = time.perf_counter() - started
        assert len(snapshot.containers) == count, len(snapshot.containers)
        await asyncio.sleep(2.5)  # every stream has sent two samples: CPU % is known
        warm = []
        for _ in range(5):
            started = time.perf_counter()
            snapshot = await integration.poll()
            warm.append(time.perf_counter() - started)
        known = sum(1 for c in snapshot.containers.values() if c.stats.cpu_percent is not None)
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        while time.perf_counter() - wall_before < window:
            await integration.poll()
            await asyncio.sleep(INTERVAL - (time.perf_counter() - wall_before) % INTERVAL)
        cpu = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before) * 100
        events.cancel()
        await asyncio.gather(events, return_exceptions=True)
    ctx.runner.shutdown()
    return {"first_poll_s": first, "poll_s": statistics.median(warm), "cpu_pct": cpu, "cpu_known": known}


def _peers(daemon: DockerDaemon, serial_max: int) -> dict[str, float | None]:
    started = time.perf_counter()
    cli = shutil.which("docker")
    if cli is not None:
        subprocess.run([cli, "-H", daemon.url, "stats", "--no-stream"], check=True, capture_output=True)
    cli_s = time.perf_counter() - started if cli is not None else None
    serial_s = None
    with closing(daemon.client()) as client:
        containers = client.containers.list()
        if len(containers) <= serial_max:
            started = time.perf_counter()
            for container in containers:
                container.stats(stream=False)
            serial_s = time.perf_counter() - started
    return {"docker_cli_s": cli_s, "sdk_serial_s": serial_s}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", type=float, default=20.0, help="seconds of steady state per size")
    parser.add_argument("--serial-max", type=int, default=10, help="largest size the naive serial poll runs at")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-dockerd-"))
    daemon = DockerDaemon(binary=shutil.which("dockerd") or "dockerd", root=root)
    figures: dict[str, Any] = {}
    try:
        daemon.start()
        with closing(daemon.client()) as client:
            client.images.build(fileobj=_build_context(), custom_context=True, tag=BUSYBOX_IMAGE, rm=True)
        for count in (1, 10, 30):
            _scale(daemon, count)
            hub = asyncio.run(_measure_hub(daemon.url, count, args.window))
            peers = _peers(daemon, args.serial_max)
            print(f"{count:>2} containers: hub {json.dumps(hub)} peers {json.dumps(peers)}", flush=True)
            figures[str(count)] = {**{k: round(v, 3) for k, v in hub.items()}, **peers}
    finally:
        if daemon.pid is not None:
            daemon.remove_containers()
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
    thirty = figures["30"]
    print(
        json.dumps(
            {
                "poll_wall_s_30": thirty["poll_s"],
                "first_poll_wall_s_30": thirty["first_poll_s"],
                "cpu_pct_of_core_30_at_10s": thirty["cpu_pct"],
                "target": {"poll_wall_s": TARGET_WALL_S, "cpu_pct": TARGET_CPU_PCT},
                "sizes": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
