"""Service checks at scale: N checks of mixed kinds against local targets, the hub's CPU, RSS added and spread.

Run: .venv/bin/python -m bench.checks [--checks 1000] [--interval 60] [--seconds 150] [--profile FILE]
     .venv/bin/python -m bench.checks --checks 100 --interval 5 --seconds 60

The targets run in another process (an HTTP server that is also the TCP target, an HTTPS server with a
certificate made by trustme for the TLS checks) beside a dnsmasq and 127.0.0.1 for ping, so their cost is not the
hub's. The hub runs in this process, tuned as `homelab-hub run` tunes its own (hub/process.py: malloc arenas, the
garbage collector's heap settled once started), with its recorder (SQLite in a temporary directory) and the checks
integration: 40 % http, 25 % tcp, 15 % tls, 10 % dns, 10 % ping. CPU is this process's user+system time over the
measured window (after the first interval, when every check has started), as % of one core; RSS added is VmRSS
at the end less VmRSS once the hub runs, before the first attempt; spread is the most attempts started in any one
second against the mean per second. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trustme

from hub.config import load_config
from hub.core import clock
from hub.process import prepare_process, settle_heap
from hub.runtime import Hub
from integrations.checks import Checks
from integrations.checks.integration import Checks as ChecksIntegration

_TARGETS = """
import asyncio, ssl, sys
from aiohttp import web

async def ok(request):
    return web.Response(text="all is well")

async def main():
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1])).start()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[3])
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[2]), ssl_context=context).start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _config(directory: Path, count: int, interval: int, ports: dict[str, int], ca_file: Path) -> None:
    timeout = min(10, max(1, interval // 2))
    lines = []
    for index in range(count):
        share = index % 20
        common = f"name: c{index}, interval: {interval}s, timeout: {timeout}s"
        if share < 8:
            lines.append(f"{{kind: http, {common}, url: 'http://127.0.0.1:{ports['http']}/', keyword: well}}")
        elif share < 13:
            lines.append(f"{{kind: tcp, {common}, host: 127.0.0.1, port: {ports['http']}}}")
        elif share < 16:
            lines.append(
                f"{{kind: tls, {common}, host: 127.0.0.1, port: {ports['https']}, server_name: bench.lab, "
                f"ca_file: '{ca_file}'}}"
            )
        elif share < 18:
            lines.append(
                f"{{kind: dns, {common}, query: bench.lab, server: 127.0.0.1, port: {ports['dns']}, "
                "expect: 192.168.50.10}"
            )
        else:
            lines.append(f"{{kind: ping, {common}, host: 127.0.0.1, count: 1}}")
    checks = "".join(f"      - {line}\n" for line in lines)
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: bench\n  log_level: warning\n  data_dir: {directory / 'data'}\n"
        f"  http: {{host: 127.0.0.1, port: {_free_port()}}}\n"
        f"integrations:\n  - platform: checks\n    checks:\n{checks}"
    )


def _start_targets(directory: Path, ports: dict[str, int]) -> tuple[list[subprocess.Popen[bytes]], Path]:
    ca = trustme.CA()
    leaf = ca.issue_cert("bench.lab")
    chain = directory / "leaf.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(chain))
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    web = subprocess.Popen(
        [sys.executable, "-c", _TARGETS, str(ports["http"]), str(ports["https"]), str(chain)],
        stdout=subprocess.PIPE,
    )
    assert web.stdout is not None
    web.stdout.readline()
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    dns = subprocess.Popen(
        [
            dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
            "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={ports['dns']}", "--user=root",
            "--address=/bench.lab/192.168.50.10", "--dns-forward-max=1000",
        ],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.3)
    return [web, dns], ca_file


async def _measure(directory: Path, interval: int, seconds: float, profile: Path | None) -> dict[str, Any]:
    starts: list[float] = []
    attempt = ChecksIntegration._attempt

    async def counted(self: ChecksIntegration, check: Any) -> Any:
        starts.append(clock.monotonic())
        return await attempt(self, check)

    ChecksIntegration._attempt = counted  # type: ignore[method-assign]
    available = {"checks": Checks}
    hub = Hub(load_config(directory, available), available)
    async with hub.lifespan():
        settle_heap()  # as `homelab-hub run` does once started
        began = clock.monotonic()
        rss_before = _rss_mib()
        await asyncio.sleep(interval + 1)  # every check has made its first attempt
        profiler = cProfile.Profile() if profile is not None else None
        cpu_before, wall_before = _cpu(), time.monotonic()
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(max(1.0, seconds - interval - 1))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        cpu = (_cpu() - cpu_before) / (time.monotonic() - wall_before) * 100
        rss_after = _rss_mib()
        up = sum(
            1
            for state in hub.core.states.all()
            if state.domain == "binary_sensor" and state.object_id.startswith("bench_check_") and state.state == "on"
        )
    ChecksIntegration._attempt = attempt  # type: ignore[method-assign]
    per_second = collections.Counter(int(moment - began) for moment in starts if moment - began < interval)
    mean = len([m for m in starts if m - began < interval]) / interval
    return {
        "cpu_percent": round(cpu, 2),
        "rss_added_mib": round(rss_after - rss_before, 1),
        "attempts": len(starts),
        "checks_up": up,
        "max_starts_in_a_second": max(per_second.values(), default=0),
        "mean_starts_per_second": round(mean, 2),
        "spread_ratio": round(max(per_second.values(), default=0) / mean, 2) if mean else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the measured window (main thread) here")
    args = parser.parse_args()
    prepare_process()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        ports = {"http": _free_port(), "https": _free_port(), "dns": _free_port()}
        targets, ca_file = _start_targets(directory, ports)
        try:
            _config(directory, args.checks, args.interval, ports, ca_file)
            figures = asyncio.run(_measure(directory, args.interval, args.seconds, args.profile))
        finally:
            for process in targets:
                process.kill()
                process.wait()
    result = {"checks": args.checks, "interval_s": args.interval, **figures}
    if args.interval >= 60:
        result["target"] = {"cpu_percent": 3.0, "spread_ratio": 2.0, "rss_added_mib": 20.0}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
