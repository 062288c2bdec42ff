"""Redis sink throughput: state changes per second written (hash, stream entry and publish each), none lost.

Run from the repository root, as a module so that this file does not shadow the redis package:
.venv/bin/python -m bench.redis [--changes 200000] [--entities 1000]

A private redis-server (no persistence) is started on a free loopback port. The hub's real core and Redis sink
run in this process; changes are written to `--entities` sensors round-robin as fast as the loop allows (the
loop yields every 500 so the sink's writer runs beside the producer, as it would in the hub). The clock runs
from the first change until the last one is confirmed by Redis. "None lost": no event dropped, the stream
holds exactly one entry per change, and the hash equals the state machine. Beside it, in the same run,
`redis-benchmark` (Debian redis-tools) on one connection with the same pipelining gives Redis's ceiling for
the commands one change costs (an XADD and a PUBLISH of the same JSON; HSETs are coalesced per batch).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from hub.config.models import RedisConfig
from hub.config.validation import Secret
from hub.core import Core, Event
from hub.health import HealthRegistry
from hub.jsonenc import event_json
from hub.sinks.redis import RedisSink

TARGET = 30_000
YIELD_EVERY = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.02)
    server.kill()
    raise SystemExit("redis-server did not start")


def _redis_benchmark(port: int, pipeline: int, *command: str) -> float:
    """Requests per second redis-benchmark reaches for one command on one connection."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", "1", "-n", "200000", "-P", str(pipeline), "-q", "--csv", *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # --csv prints "command","rps" and six latency columns; the command holds unescaped JSON, so count from the right.
    return float(out.strip().splitlines()[-1].split(",")[-7].strip('"'))


async def _redis_cpu(reader: Redis) -> float:
    """CPU seconds the Redis server has used so far."""
    info = await reader.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _ours(url: str, changes: int, entities: int, max_batch: int) -> dict[str, Any]:
    core = Core("bench")
    config = RedisConfig(url=Secret(url), key_prefix="bench:", stream_maxlen=changes + 1000, max_batch=max_batch)
    health = HealthRegistry().create("redis", "sink")
    sink = RedisSink(core, config, health)
    reader = Redis.from_url(url, decode_responses=True)
    ids = [f"sensor.bench_value_{index}" for index in range(entities)]
    last: list[Event[Any]] = []
    core.bus.listen("state_changed", last.append, event_filter=lambda _data: not last)
    async with sink.lifespan():
        while not health.success_count:  # the first resync: not part of the figure
            await asyncio.sleep(0.01)
        redis_cpu = await _redis_cpu(reader)
        started, cpu_started = time.perf_counter(), time.process_time()
        for index in range(changes):
            core.states.set(
                ids[index % entities], str(index), {"unit_of_measurement": "%", "state_class": "measurement"}
            )
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        produced = time.perf_counter() - started
        while sink.written < changes:
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        redis_cpu = await _redis_cpu(reader) - redis_cpu
        sample = event_json(last[0])
    stream = await reader.xlen("bench:events")
    stored = await reader.hgetall("bench:states")
    await reader.aclose()
    exact = {k: json.loads(v) for k, v in stored.items()} == {
        s.entity_id: json.loads(json.dumps(s.as_dict())) for s in core.states.all()
    }
    return {
        "changes_per_s": round(changes / elapsed),
        "producer_only_s": round(produced, 3),
        "elapsed_s": round(elapsed, 3),
        "hub_cpu_s": round(cpu, 3),
        "hub_cpu_us_per_change": round(cpu / changes * 1e6, 1),
        "redis_cpu_us_per_change": round(redis_cpu / changes * 1e6, 1),
        "dropped": sink.dropped,
        "stream_entries": stream,
        "hash_exact": exact,
        "event_bytes": len(sample),
        "sample": sample,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200_000)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--max-batch", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if shutil.which("redis-server") is None or shutil.which("redis-benchmark") is None:
        raise SystemExit("needs Debian's redis-server and redis-tools")
    with tempfile.TemporaryDirectory() as directory:
        server, port = _start_redis(Path(directory))
        try:
            ours = asyncio.run(_ours(f"redis://127.0.0.1:{port}/0", args.changes, args.entities, args.max_batch))
            payload = ours.pop("sample")
            xadd = _redis_benchmark(
                port,
                args.max_batch,
                "XADD",
                "peer:events",
                "MAXLEN",
                "~",
                "10000",
                "*",
                "event_type",
                "state_changed",
                "event",
                payload,
            )
            publish = _redis_benchmark(port, args.max_batch, "PUBLISH", "peer:state_changed", payload)
        finally:
            server.kill()
            server.wait()
    ceiling = 1 / (1 / xadd + 1 / publish)
    figures = {
        **ours,
        "redis_benchmark_xadd_per_s": round(xadd),
        "redis_benchmark_publish_per_s": round(publish),
        "redis_benchmark_changes_ceiling_per_s": round(ceiling),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "target": TARGET,
    }
    print(
        f"ours: {ours['changes_per_s']:,} changes/s written; redis-benchmark ceiling for XADD+PUBLISH: "
        f"{ceiling:,.0f}/s (XADD {xadd:,.0f}/s, PUBLISH {publish:,.0f}/s)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
