"""Soak: a real `homelab-hub run` with every sink, 500 changes/s and 20 WebSocket clients; RSS must stay flat.

Run: .venv/bin/python bench/soak.py [--duration 1800] [--warmup 300] [--rate 500] [--clients 20] [--every 60]

Starts its own Mosquitto and Redis on free loopback ports; the recorder writes SQLite (its default). The load
goes through `POST /api/states/<id>` over 50 entities; the clients hold `subscribe_entities` and read all the
time. RSS of the hub is printed every `--every` seconds; the figure judged is the growth from the end of the
warm-up to the end of the run (target: under 5 %). Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.chaostools import HubProcess, LoadDriver
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess

TARGET_GROWTH_PCT = 5.0


def _servers(root: Path) -> tuple[ServerProcess, ServerProcess]:
    mqtt_port, redis_port = free_port(), free_port()
    conf = root / "mosquitto.conf"
    conf.write_text(f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = ServerProcess(argv=["mosquitto", "-c", str(conf)], port=mqtt_port, url="", log_path=root / "mosquitto.log")
    redis = ServerProcess(
        argv=["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        port=redis_port,
        url=f"redis://127.0.0.1:{redis_port}/0",
        log_path=root / "redis.log",
    )
    broker.start()
    redis.start()
    return broker, redis


class _Clients:
    """`count` dashboards on their own thread: each subscribes to every entity and reads all the time."""

    def __init__(self, hub: HubProcess, count: int) -> None:
        self.messages = 0
        self.disconnects = 0
        self._hub = hub
        self._count = count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> _Clients:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(self._client(session) for _ in range(self._count)))

    async def _client(self, session: aiohttp.ClientSession) -> None:
        async with session.ws_connect(self._hub.ws_url) as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self._hub.token})
            await ws.receive_json()
            await ws.send_json({"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}})
            await ws.send_json({"id": 2, "type": "subscribe_entities"})
            while not self._stop.is_set():
                try:
                    message = await ws.receive(timeout=1)
                except TimeoutError:
                    continue
                if message.type is not aiohttp.WSMsgType.TEXT:
                    self.disconnects += 1
                    return
                self.messages += 1


def _soak(args: argparse.Namespace, root: Path) -> dict[str, float]:
    broker, redis = _servers(root)
    hub = HubProcess(
        root,
        hub_extra=f"  redis:\n    url: {redis.url}\n  mqtt:\n    port: {broker.port}\n    base_topic: homelab\n",
    )
    hub.start()
    try:
        assert hub.process is not None
        process = psutil.Process(hub.process.pid)
        samples: list[tuple[float, float]] = []
        with _Clients(hub, args.clients) as clients, LoadDriver(hub, args.rate, workers=8) as load:
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < args.duration:
                time.sleep(min(args.every, args.duration - elapsed))
                rss = process.memory_info().rss / 2**20
                samples.append((time.monotonic() - started, rss))
                print(f"{samples[-1][0]:6.0f} s  RSS {rss:6.1f} MB  {load.rate:5.0f} changes/s", flush=True)
        parts = {part["name"]: part["status"] for part in hub.get("/api/hub/parts")}
    finally:
        hub.kill()
        broker.stop()
        redis.stop()
    after_warmup = next(rss for at, rss in samples if at >= args.warmup - 1)
    end = samples[-1][1]
    return {
        "duration_s": round(samples[-1][0]),
        "changes_per_s": round(load.rate),
        "clients": args.clients,
        "client_messages": clients.messages,
        "client_disconnects": clients.disconnects,
        "sinks_ok": int(all(status == "ok" for status in parts.values())),
        "rss_mb_after_warmup": round(after_warmup, 1),
        "rss_mb_end": round(end, 1),
        "rss_mb_max": round(max(rss for _, rss in samples), 1),
        "growth_pct": round(100 * (end - after_warmup) / after_warmup, 2),
        "target": TARGET_GROWTH_PCT,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds of load (default 30 min)")
    parser.add_argument("--warmup", type=float, default=300.0, help="seconds before growth is measured")
    parser.add_argument("--rate", type=float, default=500.0, help="state changes per second")
    parser.add_argument("--clients", type=int, default=20, help="WebSocket clients subscribed to every entity")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between RSS samples")
    args = parser.parse_args()
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")
    root = Path(tempfile.mkdtemp(prefix="hub-soak-"))
    try:
        figures = _soak(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
