"""Idle cost: `homelab-hub run -c config` left alone, its mean CPU (% of one core) and peak resident memory.

Run: .venv/bin/python bench/idle.py [--seconds 60] [--runs 1] [--config config] [--peer "glances -q -t 10"]

The hub runs as a subprocess in a throwaway working directory (so its `data/` starts empty), on the example
config by default. The CPU figure is the process's user+system time from /proc/<pid>/stat over the measured
window, which starts once the hub logs that it runs plus a settling time (start-up is import and schema work,
not idle); peak RSS is the kernel's high-water mark (VmHWM), so start-up counts there. A `--peer` command runs
beside the hub over the same window and is measured the same way. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TARGET_CPU_PERCENT = 1.0
TARGET_PEAK_RSS_MIB = 60.0
READY_LINE = "running as node"
_TICKS = os.sysconf("SC_CLK_TCK")
_ROOT = Path(__file__).resolve().parent.parent


def _cpu_seconds(pid: int) -> float:
    """User + system time of the process, all its threads, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


class _Measured:
    """A running process and its CPU time at the start of the window."""

    def __init__(self, name: str, process: subprocess.Popen[str]) -> None:
        self.name = name
        self.process = process
        self.cpu_start = 0.0
        self.rss_samples: list[int] = []

    def start_window(self) -> None:
        self.cpu_start = _cpu_seconds(self.process.pid)

    def sample(self) -> None:
        self.rss_samples.append(_status_kib(self.process.pid, "VmRSS"))

    def figures(self, seconds: float) -> dict[str, float]:
        pid = self.process.pid
        return {
            "cpu_percent": round((_cpu_seconds(pid) - self.cpu_start) / seconds * 100, 3),
            "peak_rss_mib": round(_status_kib(pid, "VmHWM") / 1024, 1),
            "mean_rss_mib": round(statistics.mean(self.rss_samples) / 1024, 1),
        }


def _start_hub(config: Path, workdir: Path) -> tuple[subprocess.Popen[str], threading.Event, list[str]]:
    executable = Path(sys.executable).with_name("homelab-hub")
    process = subprocess.Popen(
        [str(executable), "run", "-c", str(config)],
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()
    lines: list[str] = []

    def follow() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip())
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=follow, daemon=True).start()
    return process, ready, lines


def _stop(process: subprocess.Popen[str]) -> tuple[int | None, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code: int | None = process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        code = None
    return code, time.monotonic() - started


def run_once(config: Path, seconds: float, settle: float, peer: list[str] | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hub-idle-") as workdir:
        hub, ready, lines = _start_hub(config, Path(workdir))
        started = time.monotonic()
        peer_process = (
            subprocess.Popen(peer, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
            if peer
            else None
        )
        if not ready.wait(30) or hub.poll() is not None:
            _stop(hub)
            raise SystemExit("the hub did not start:\n" + "\n".join(lines[-20:]))
        startup = time.monotonic() - started
        time.sleep(settle)
        measured = [_Measured("hub", hub)]
        if peer_process is not None:
            measured.append(_Measured(Path(peer[0]).name if peer else "peer", peer_process))
        for item in measured:
            item.start_window()
        window_start = time.monotonic()
        while time.monotonic() - window_start < seconds:
            for item in measured:
                item.sample()
            time.sleep(1.0)
        elapsed = time.monotonic() - window_start
        results = {item.name: item.figures(elapsed) for item in measured}
        if peer_process is not None:
            _stop(peer_process)
        code, stop_seconds = _stop(hub)
        errors = [line for line in lines if " ERROR " in line or "Traceback" in line]
        results["hub"].update(
            startup_s=round(startup, 2), stop_s=round(stop_seconds, 2), exit_code=code, errors=len(errors)
        )
        for line in errors[:5]:
            print(f"  hub error: {line}", file=sys.stderr)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window per run (default 60)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after start-up before measuring")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--config", type=Path, default=_ROOT / "config", help="config directory (default config/)")
    parser.add_argument("--peer", help="a command to measure beside the hub, e.g. 'glances -q -t 10'")
    args = parser.parse_args()
    peer = shlex.split(args.peer) if args.peer else None
    runs = []
    for index in range(args.runs):
        result = run_once(args.config.resolve(), args.seconds, args.settle, peer)
        runs.append(result)
        for name, figures in result.items():
            print(f"run {index + 1} {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), file=sys.stderr)
    summary: dict[str, Any] = {}
    for name in runs[0]:
        for key in ("cpu_percent", "peak_rss_mib", "mean_rss_mib"):
            summary[key if name == "hub" else f"{name}_{key}"] = statistics.median(run[name][key] for run in runs)
    summary["runs"] = len(runs)
    summary["seconds"] = args.seconds
    summary["target"] = {"cpu_percent": TARGET_CPU_PERCENT, "peak_rss_mib": TARGET_PEAK_RSS_MIB}
    summary["met"] = summary["cpu_percent"] < TARGET_CPU_PERCENT and summary["peak_rss_mib"] < TARGET_PEAK_RSS_MIB
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
