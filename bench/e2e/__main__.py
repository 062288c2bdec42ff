"""End-to-end throughput: one hub with every sink on, state changes stepped up until a sink loses or lags.

Run from the repository root, as a module (so that bench/redis.py does not shadow the redis package):
.venv/bin/python -m bench.e2e [--seconds 20] [--steps 1000,2000,5000,10000,20000] [--postgres] [--profile DIR]

The hub runs as a subprocess (bench/e2e/synthetic.py: the real `Hub` from a hub.yaml, with the benchmark's synthetic
push integration over 1,000 sensors), so its CPU and RSS are its own; the load is generated inside it, by that
integration, as a push integration would. Every sink is on: the recorder on SQLite under a temp dir (or, with
`--postgres`, a fresh database on postgresql://postgres@127.0.0.1:5432), Redis (a private redis-server on a free
port), MQTT (a private Mosquitto on a free port), and the API with 20 `subscribe_entities` WebSocket clients
(coalesced, as the dashboard) plus one `subscribe_events` client. The measuring clients are separate processes,
one per sink (bench/e2e/probes.py): every state is its own write time in microseconds, so each receipt gives its
delay from `states.set`: recorder rows when a read of the database first sees them (read every 20 ms), Redis
stream entries when XREAD returns them, MQTT state messages at a mosquitto_sub, WebSocket events at each client.

Each step runs at its rate for `--seconds`, pauses the integration, waits for every sink to drain, then compares
every sink's count with the changes the hub accepted. A step passes when the rate was sustained (at least 98 %
of the offered changes accepted), nothing was lost anywhere and every sink's p99 is under 250 ms. The figure is
the highest passing step. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from hub.api.tokens import TokenStore

TARGET = 5000
P99_LIMIT_MS = 250.0
SUSTAINED = 0.98
NODE = "e2e"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_port(port: int, process: asyncio.subprocess.Process, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


@contextlib.asynccontextmanager
async def _process(*command: str, **kwargs: Any) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(*command, **kwargs)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def _servers(tmp: Path) -> AsyncIterator[tuple[int, int, list[int]]]:
    """A throwaway redis-server and Mosquitto on free loopback ports."""
    redis_port, mqtt_port = _free_port(), _free_port()
    # The broker's queue for a slow subscriber is unbounded: the subscriber is the benchmark's, not the hub's.
    (tmp / "mosquitto.conf").write_text(
        f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_queued_bytes 0\n"
    )
    redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    async with (
        _process(*redis_cmd, cwd=tmp, stdout=subprocess.DEVNULL) as redis,
        _process("mosquitto", "-c", str(tmp / "mosquitto.conf"), stderr=subprocess.DEVNULL) as mosquitto,
    ):
        await _wait_port(redis_port, redis, "redis-server")
        await _wait_port(mqtt_port, mosquitto, "mosquitto")
        yield redis_port, mqtt_port, [redis.pid, mosquitto.pid]


@contextlib.asynccontextmanager
async def _database(tmp: Path, postgres: bool) -> AsyncIterator[tuple[str, str]]:
    """The recorder's URL and the probe's URL for the same database: SQLite in tmp or a fresh PostgreSQL one."""
    if not postgres:
        path = tmp / "hub.db"
        yield f"sqlite://{path}", f"sqlite://{path}"
        return
    import asyncpg

    name = f"e2e_{os.getpid()}_{int(time.time())}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}", f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _hub_yaml(args: argparse.Namespace, tmp: Path, http: int, redis: int, mqtt: int, db_url: str) -> str:
    return f"""hub:
  name: {NODE}
  log_level: warning
  data_dir: {tmp / "data"}
  http: {{host: 127.0.0.1, port: {http}}}
  recorder: {{db_url: "{db_url}", commit_interval: {args.commit_interval}s}}
  redis: {{url: "redis://127.0.0.1:{redis}/0", stream_maxlen: 2000000}}
  mqtt: {{host: 127.0.0.1, port: {mqtt}}}
integrations:
  - platform: synthetic
    entities: {args.entities}
"""


class _Probe:
    """One measuring process (bench/e2e/probes.py), asked by line, answering in JSON lines."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.cpu_s = 0.0
        """The probe's CPU time at its last report."""

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(self.process.stdout.readline(), 120))
        if "error" in answer:
            raise RuntimeError(f"{self.name} probe failed: {answer['error']}")
        return answer


@contextlib.asynccontextmanager
async def _probes(specs: dict[str, list[str]]) -> AsyncIterator[list[_Probe]]:
    async with contextlib.AsyncExitStack() as stack:
        probes = []
        for name, argv in specs.items():
            process = await stack.enter_async_context(
                _process(
                    sys.executable, "-m", "bench.e2e.probes", name, *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
            )
            probes.append(_Probe(name, process))
        for probe in probes:
            assert probe.process.stdout is not None
            line = await asyncio.wait_for(probe.process.stdout.readline(), 60)
            if line.strip() != b"ready":
                raise RuntimeError(f"{probe.name} probe did not start")
        yield probes


class _Hub:
    """The hub subprocess, seen through its REST API and its /proc entry."""

    def __init__(self, base: str, token: str, pid: int) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.proc = psutil.Process(pid)
        self.session = aiohttp.ClientSession()

    async def wait_ready(self, last_entity: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with self.session.get(f"{self.base}/api/states/{last_entity}", headers=self.headers) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise RuntimeError("the hub did not come up")

    async def set_rate(self, rate: int) -> dict[str, Any]:
        url = f"{self.base}/api/services/synthetic/set_rate?return_response"
        async with self.session.post(url, json={"rate": rate}, headers=self.headers) as resp:
            resp.raise_for_status()
            answer: dict[str, Any] = (await resp.json())["service_response"]
            return answer

    def cpu(self) -> float:
        times = self.proc.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(self.proc.memory_info().rss) / 2**20


async def _drain(probes: list[_Probe], accepted: int, patience: float = 5.0, limit: float = 90.0) -> float:
    """Wait until every client has every change, or none has progressed for `patience` s; seconds waited."""
    started = time.monotonic()
    last_total, last_progress = -1, started
    while time.monotonic() - started < limit:
        counts = [c for probe in probes for c in (await probe.ask("peek"))["counts"]]
        if all(c >= accepted for c in counts):
            break
        if sum(counts) != last_total:
            last_total, last_progress = sum(counts), time.monotonic()
        elif time.monotonic() - last_progress > patience:
            break
        await asyncio.sleep(0.25)
    return time.monotonic() - started


class _CpuMeter:
    """CPU of the benchmark's other processes (probes and their children, redis-server, mosquitto) over a step."""

    def __init__(self, pids: list[int]) -> None:
        self._procs = [psutil.Process(pid) for pid in pids]
        self._procs += [child for proc in self._procs for child in proc.children(recursive=True)]
        self._start = self._total()

    def _total(self) -> float:
        total = 0.0
        for proc in self._procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def percent(self, wall: float) -> float:
        return round(100 * (self._total() - self._start) / wall, 1)


async def _step(
    hub: _Hub, probes: list[_Probe], servers: list[int], rate: int, seconds: float, profile: Path | None
) -> dict[str, Any]:
    floor = time.time_ns() // 1000
    for probe in probes:
        await probe.ask(f"reset {floor}")
    spy = _py_spy(hub.proc.pid, seconds, profile / f"step-{rate}.txt") if profile else None
    others = _CpuMeter([p.process.pid for p in probes] + servers)
    cpu, started = hub.cpu(), time.monotonic()
    await hub.set_rate(rate)
    rss = 0.0
    while time.monotonic() - started < seconds:
        await asyncio.sleep(min(1.0, seconds - (time.monotonic() - started)))
        rss = max(rss, hub.rss_mb())
    ended = await hub.set_rate(0)
    wall, cpu = time.monotonic() - started, hub.cpu() - cpu
    others_cpu = others.percent(wall)
    if spy is not None:
        await (await spy).wait()
    drain = await _drain(probes, ended["accepted"])
    reports = {probe.name: await probe.ask("report") for probe in probes}
    for probe in probes:
        reports[probe.name]["cpu_s"], probe.cpu_s = (
            reports[probe.name]["cpu_s"] - probe.cpu_s,
            reports[probe.name]["cpu_s"],
        )
    row = _row(rate, seconds, ended["accepted"], wall, cpu, rss, drain, reports)
    lag = {key: ended[key] for key in ("loop_lag_p99_ms", "loop_lag_max_ms")}
    return {**row, **lag, "others_cpu_percent": others_cpu}


_PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
"""py-spy is not a dependency of the project: found on PATH, or beside the interpreter."""


def _py_spy(pid: int, seconds: float, output: Path) -> asyncio.Future[Any]:
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [
        _PY_SPY,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
    ]
    command += ["--rate", "100", "--format", "raw", "--output", str(output), "--nonblocking"]
    return asyncio.ensure_future(asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL))


def _row(
    rate: int,
    seconds: float,
    accepted: int,
    wall: float,
    cpu: float,
    rss: float,
    drain: float,
    reports: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    ws = reports["ws"]
    sinks = {
        "recorder": reports["db"],
        "redis": reports["redis"],
        "mqtt": reports["mqtt"],
        "ws_entities": ws["entities"],
        "ws_events": ws["events"],
    }
    lost = {name: sum(max(0, accepted - c) for c in sink["counts"]) for name, sink in sinks.items()}
    sustained = accepted >= SUSTAINED * rate * seconds
    p99_ok = all(sink["p99_ms"] is not None and sink["p99_ms"] < P99_LIMIT_MS for sink in sinks.values())
    return {
        "rate": rate,
        "accepted": accepted,
        "accepted_per_s": round(accepted / wall),
        "sinks": {
            name: {
                "received": sink["counts"],
                "lost": lost[name],
                **{k: sink.get(k) for k in ("p50_ms", "p99_ms", "max_ms", "disconnected")},
            }
            for name, sink in sinks.items()
        },
        "hub_cpu_percent": round(100 * cpu / wall, 1),
        "hub_cpu_us_per_change": round(1e6 * cpu / max(1, accepted), 1),
        "hub_rss_mb": round(rss, 1),
        "drain_s": round(drain, 1),
        "probe_cpu_us_per_change": {
            name: round(1e6 * report["cpu_s"] / max(1, accepted), 1) for name, report in reports.items()
        },
        "passed": sustained and not any(lost.values()) and p99_ok,
    }


def _print_step(row: dict[str, Any]) -> None:
    print(
        f"step {row['rate']:>6}/s: accepted {row['accepted']} ({row['accepted_per_s']}/s), "
        f"hub CPU {row['hub_cpu_percent']} % of a core ({row['hub_cpu_us_per_change']} us/change; probes and servers "
        f"{row['others_cpu_percent']} %), loop lag p99 {row['loop_lag_p99_ms']} max {row['loop_lag_max_ms']} ms, "
        f"RSS {row['hub_rss_mb']} MB, drained in {row['drain_s']} s, "
        f"{'PASS' if row['passed'] else 'FAIL'}",
        flush=True,
    )
    print(f"    probe CPU us/change (step and drain): {row['probe_cpu_us_per_change']}", flush=True)
    for name, sink in row["sinks"].items():
        received = sink["received"]
        shown = received[0] if len(received) == 1 else f"{min(received)}..{max(received)} at {len(received)} clients"
        print(
            f"    {name:<12} received {shown}, lost {sink['lost']}, "
            f"p50 {sink['p50_ms']} ms, p99 {sink['p99_ms']} ms, max {sink['max_ms']} ms"
            + (f", {sink['disconnected']} disconnected by the hub" if sink.get("disconnected") else ""),
            flush=True,
        )


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hub-e2e-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "data").mkdir()
        tokens = TokenStore.in_dir(tmp / "data")
        token = tokens.create("bench")
        tokens.save()
        http = _free_port()
        async with _servers(tmp) as (redis, mqtt, servers), _database(tmp, args.postgres) as (db_url, probe_db_url):
            (tmp / "hub.yaml").write_text(_hub_yaml(args, tmp, http, redis, mqtt, db_url))
            async with _process(sys.executable, "-m", "bench.e2e.synthetic", str(tmp)) as process:
                hub = _Hub(f"http://127.0.0.1:{http}", token, process.pid)
                try:
                    await hub.wait_ready(f"sensor.{NODE}_s{args.entities - 1:04d}")
                    rows = await _run_steps(args, hub, servers, http, token, redis, mqtt, probe_db_url)
                finally:
                    await hub.session.close()
    return _figures(args, rows)


async def _run_steps(
    args: argparse.Namespace, hub: _Hub, servers: list[int], http: int, token: str, redis: int, mqtt: int, db_url: str
) -> list[dict[str, Any]]:
    specs = {
        "ws": [f"ws://127.0.0.1:{http}/api/websocket", token, str(args.clients)],
        "redis": [f"redis://127.0.0.1:{redis}/0", f"homelab:{NODE}:events"],
        "mqtt": [str(mqtt), f"homelab/{NODE}/+/state"],
        "db": [db_url],
    }
    rows = []
    async with _probes(specs) as probes:
        await asyncio.sleep(2.0)  # initial maps, retained messages and the first commits settle
        for rate in args.steps:
            row = await _step(hub, probes, servers, rate, args.seconds, args.profile)
            _print_step(row)
            rows.append(row)
    return rows


def _figures(args: argparse.Namespace, rows: list[dict[str, Any]]) -> dict[str, Any]:
    passed = [row["rate"] for row in rows if row["passed"]]
    return {
        "database": "postgresql" if args.postgres else "sqlite",
        "seconds_per_step": args.seconds,
        "commit_interval_s": args.commit_interval,
        "steps": {
            str(row["rate"]): {
                "accepted_per_s": row["accepted_per_s"],
                "lost": sum(sink["lost"] for sink in row["sinks"].values()),
                "p99_ms": {name: sink["p99_ms"] for name, sink in row["sinks"].items()},
                "hub_cpu_percent": row["hub_cpu_percent"],
                "hub_cpu_us_per_change": row["hub_cpu_us_per_change"],
                "probe_cpu_us_per_change": row["probe_cpu_us_per_change"],
                "others_cpu_percent": row["others_cpu_percent"],
                "hub_rss_mb": row["hub_rss_mb"],
                "passed": row["passed"],
            }
            for row in rows
        },
        "changes_per_s": max(passed, default=0),
        "target": TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each step")
    parser.add_argument(
        "--steps", type=lambda text: [int(s) for s in text.split(",")], default=[1000, 2000, 5000, 10000, 20000]
    )
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument(
        "--clients", type=int, default=20, help="subscribe_entities clients (plus one subscribe_events)"
    )
    parser.add_argument("--commit-interval", type=float, default=0.1, help="the recorder's commit_interval, s")
    parser.add_argument("--postgres", action="store_true", help=f"record into a fresh database beside {PG_ADMIN}")
    parser.add_argument("--profile", type=Path, help="record a py-spy profile of the hub per step into this dir")
    args = parser.parse_args()
    if shutil.which("mosquitto") is None or shutil.which("redis-server") is None:
        sys.exit("needs mosquitto and redis-server (Debian: mosquitto mosquitto-clients redis-server)")
    if args.profile and not Path(_PY_SPY).exists():
        sys.exit("--profile needs py-spy on PATH (pip install py-spy)")
    print(json.dumps(asyncio.run(_bench(args))))


if __name__ == "__main__":
    main()
