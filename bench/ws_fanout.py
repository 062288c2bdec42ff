"""WebSocket fan-out: 50 `subscribe_entities` clients while the hub makes 2,000 state changes/s over 500 entities.

Run: .venv/bin/python bench/ws_fanout.py [--duration 30] [--clients 50] [--rate 2000] [--entities 500]

The hub (this process: the real core and API app on a loopback port) writes states on a paced 10 ms tick,
each carrying its write time; the clients run in a second process (one asyncio loop, as a dashboard host
would) and measure the delay from `states.set` to receipt. At the end every client's entity map must equal
the hub's states exactly, and none may have been disconnected. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from hub.api import make_app
from hub.api.keys import CONNECTIONS
from hub.api.tokens import TokenStore
from hub.config.models import HttpConfig
from hub.core import Core
from hub.health import HealthRegistry

TARGET_P99_MS = 100.0
TICK = 0.01
DONE = "sensor.bench_done"


class _Control:
    """No integrations: the benchmark writes the states itself."""

    def __init__(self) -> None:
        self.health = HealthRegistry()
        self.history = None

    def integrations(self) -> list[dict[str, Any]]:
        return []

    async def poll_now(self, integration_id: str) -> None:
        raise LookupError(integration_id)

    async def reload(self) -> list[str]:
        return []


# clients (second process)


def _apply(entities: dict[str, dict[str, Any]], event: dict[str, Any], now: float, delays: list[float]) -> None:
    for entity_id, full in event.get("a", {}).items():
        entities[entity_id] = {"s": full["s"], "a": dict(full["a"])}
    for entity_id in event.get("r", []):
        entities.pop(entity_id, None)
    for entity_id, diff in event.get("c", {}).items():
        entity = entities[entity_id]
        plus = diff.get("+", {})
        if "s" in plus:
            entity["s"] = plus["s"]
        attributes = plus.get("a")
        if attributes:
            entity["a"].update(attributes)
            if "t" in attributes:
                delays.append(now - attributes["t"])
        for key in diff.get("-", {}).get("a", []):
            entity["a"].pop(key, None)


async def _client(
    url: str, token: str, delays: list[float], ready: asyncio.Event, started: list[int]
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}})
        await ws.send_json({"id": 2, "type": "subscribe_entities"})
        entities: dict[str, dict[str, Any]] = {}
        started[0] += 1
        if started[0] == started[1]:
            ready.set()
        final: list[Any] | None = None
        while final is None:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                return {"dropped": True}
            now = time.time()
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else [data]:
                if item.get("type") == "event" and item["id"] == 2:
                    _apply(entities, item["event"], now, delays)
                elif item.get("id") == 3:
                    final = item["result"]
            if DONE in entities and entities[DONE]["s"] == "1" and final is None and not ws.closed:
                entities[DONE]["s"] = "seen"
                await ws.send_json({"id": 3, "type": "get_states"})
        expected = {s["entity_id"]: {"s": s["state"], "a": s["attributes"]} for s in final}
        entities[DONE]["s"] = "1"
        return {"dropped": False, "exact": entities == expected}


async def _clients_main(url: str, token: str, count: int) -> None:
    delays: list[float] = []
    ready = asyncio.Event()
    started = [0, count]
    tasks = [asyncio.create_task(_client(url, token, delays, ready, started)) for _ in range(count)]
    await ready.wait()
    print("ready", flush=True)
    results = await asyncio.gather(*tasks)
    delays_ms = sorted(d * 1000 for d in delays)
    summary = {
        "deliveries": len(delays_ms),
        "p50_ms": round(statistics.median(delays_ms), 2),
        "p99_ms": round(delays_ms[int(len(delays_ms) * 0.99)], 2),
        "max_ms": round(delays_ms[-1], 2),
    }
    print(json.dumps({**summary, "results": results}), flush=True)


# hub (this process)


async def _write(core: Core, entities: int, rate: int, duration: float) -> int:
    per_tick = max(1, round(rate * TICK))
    ids = [f"sensor.bench_{i}" for i in range(entities)]
    loop = asyncio.get_running_loop()
    start = loop.time()
    writes = 0
    tick = 0
    while loop.time() - start < duration:
        for _ in range(per_tick):
            entity_id = ids[writes % entities]
            core.states.set(entity_id, str(writes), {"t": time.time(), "unit_of_measurement": "x"})
            writes += 1
        tick += 1
        await asyncio.sleep(max(0.0, start + tick * TICK - loop.time()))
    return writes


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    core = Core("bench")
    for i in range(args.entities):
        core.states.set(f"sensor.bench_{i}", "0", {"t": 0.0, "unit_of_measurement": "x"})
    with tempfile.TemporaryDirectory() as data:
        tokens = TokenStore.in_dir(Path(data))
        token = tokens.create("bench")
        settings = HttpConfig(host="127.0.0.1", port=8130, www_dir=Path(data))
        app = make_app(core, _Control(), settings, tokens, hub_version="bench")  # type: ignore[arg-type]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        clients = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--as-clients",
            f"ws://127.0.0.1:{port}/api/websocket",
            token,
            str(args.clients),
            stdout=asyncio.subprocess.PIPE,
        )
        assert clients.stdout is not None
        assert (await clients.stdout.readline()).strip() == b"ready"
        await asyncio.sleep(1.0)  # every initial map delivered before the clock starts
        cpu_before, wall_before = _cpu(), time.monotonic()
        writes = await _write(core, args.entities, args.rate, args.duration)
        wall = time.monotonic() - wall_before
        cpu = _cpu() - cpu_before
        connected = len(app[CONNECTIONS])
        slow = app[CONNECTIONS].disconnected_slow
        core.states.set(DONE, "1")
        report = json.loads(await asyncio.wait_for(clients.stdout.readline(), 120))
        await clients.wait()
        await runner.cleanup()
    results = report["results"]
    return {
        "clients": args.clients,
        "entities": args.entities,
        "changes_per_s": round(writes / wall),
        "seconds": round(wall, 1),
        "deliveries": report["deliveries"],
        "p50_ms": report["p50_ms"],
        "p99_ms": report["p99_ms"],
        "max_ms": report["max_ms"],
        "hub_cpu_percent": round(100 * cpu / wall, 1),
        "connected_at_end": connected,
        "dropped": sum(1 for r in results if r["dropped"]) + slow,
        "exact_final_maps": sum(1 for r in results if r.get("exact")),
        "target_p99_ms": TARGET_P99_MS,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--as-clients":
        url, token, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
        asyncio.run(_clients_main(url, token, count))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--entities", type=int, default=500)
    figures = asyncio.run(_bench(parser.parse_args()))
    print(f"cpus: {os.cpu_count()}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
