"""Helpers of the chaos suite: a config directory, a token, and a real `homelab-hub run` child process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hub.api.tokens import TokenStore
from tests.fixtures.ports import free_port

__all__ = [
    "Change",
    "HubProcess",
    "LoadDriver",
    "PgCluster",
    "PingMonitor",
    "make_token",
    "unexpected_errors",
    "write_config",
]


_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.MULTILINE)


def unexpected_errors(log: str) -> list[str]:
    """The ERROR records of a hub log (with their tracebacks), less aiohttp's own report of malformed HTTP.

    aiohttp logs a request it cannot even parse (a NUL in a header) with a traceback of its parser; that is
    the library refusing junk with a 400, not our code failing.
    """
    starts = [match.start() for match in _RECORD.finditer(log)] + [len(log)]
    records = [log[a:b] for a, b in itertools.pairwise(starts)]
    return [r for r in records if " ERROR " in r[:40] and "aiohttp.http_exceptions.BadHttpMessage" not in r]


def write_config(root: Path, port: int, *, hub_extra: str = "", integrations: str = "") -> Path:
    """A config directory under `root` whose hub listens on 127.0.0.1:`port` and keeps its data in root/data."""
    directory = root / "config"
    directory.mkdir(exist_ok=True)
    text = (
        f"hub:\n  name: chaos\n  log_level: info\n  data_dir: {root / 'data'}\n"
        f"  http:\n    host: 127.0.0.1\n    port: {port}\n{hub_extra}"
    )
    if integrations:
        text += f"integrations:\n{integrations}"
    (directory / "hub.yaml").write_text(text)
    return directory


def make_token(root: Path, name: str = "chaos") -> str:
    """A token for the hub whose data_dir is root/data, made the way `homelab-hub token create` makes it."""
    store = TokenStore.in_dir(root / "data")
    token = store.create(name)
    store.save()
    return token


@dataclass
class HubProcess:
    """`python -m hub run` on a config made by `write_config`; stderr goes to a log file the tests read."""

    root: Path
    hub_extra: str = ""
    integrations: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        self.config_dir = write_config(self.root, self.port, hub_extra=self.hub_extra, integrations=self.integrations)
        self.token = make_token(self.root)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/websocket"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def log_path(self) -> Path:
        return self.root / f"hub-{self.starts}.log"

    def start(self, timeout: float = 30.0) -> None:
        """Launch the hub and return once `/api/hub/health` answers."""
        self.starts += 1
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "run", "-c", str(self.config_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"hub exited at start ({self.process.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/hub/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"hub not healthy after {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` to the hub by PID and reap it; return its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL, if still running: a crash, or the cleanup of a test that failed."""
        if self.process is not None:
            self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"

    def get(self, path: str) -> Any:
        """`GET <path>` with the token: the JSON answer, or None for a 404."""
        request = urllib.request.Request(self.url + path, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise
            return None

    def state(self, entity_id: str) -> dict[str, Any] | None:
        return self.get(f"/api/states/{entity_id}")  # type: ignore[no-any-return]


class PingMonitor:
    """A well-behaved WebSocket client on its own thread and loop, pinging every `interval` s throughout a test.

    It measures what a normal client sees while others misbehave: every round trip, and any ping lost.
    """

    def __init__(self, hub: HubProcess, interval: float = 0.05) -> None:
        self._hub = hub
        self._interval = interval
        self.round_trips: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="ping-monitor", daemon=True)

    def __enter__(self) -> PingMonitor:
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError(f"ping monitor could not log in: {self.failures}")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(15)

    @property
    def worst(self) -> float:
        return max(self.round_trips, default=0.0)

    @property
    def p99(self) -> float:
        trips = sorted(self.round_trips)
        return trips[int(0.99 * (len(trips) - 1))] if trips else 0.0

    async def _run(self) -> None:
        try:
            async with aiohttp.ClientSession() as session, session.ws_connect(self._hub.ws_url) as ws:
                await ws.receive_json(timeout=5)
                await ws.send_json({"type": "auth", "access_token": self._hub.token})
                assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
                self._ready.set()
                await self._ping_until_stopped(ws)
        except Exception as err:  # any failure of the normal client is the finding; keep it for the assert
            self.failures.append(repr(err))
            self._ready.set()

    async def _ping_until_stopped(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        msg_id = 0
        while not self._stop.is_set():
            msg_id += 1
            started = time.monotonic()
            await ws.send_json({"id": msg_id, "type": "ping"})
            answer = await ws.receive_json(timeout=10)
            if answer != {"id": msg_id, "type": "pong"}:
                self.failures.append(f"ping {msg_id} answered {answer!r}")
            self.round_trips.append(time.monotonic() - started)
            await asyncio.sleep(self._interval)


@dataclass(frozen=True, slots=True)
class Change:
    """One state write the hub accepted (answered 200 or 201), and when its answer came."""

    entity_id: str
    state: str
    accepted_at: float


class LoadDriver:
    """State changes through `POST /api/states/<id>` at up to `rate` per second, from its own thread and loop.

    Each write carries a new value (a global sequence number), so each accepted write is one state change.
    Writes that fail (the hub killed or stopping) are not counted: only what the hub answered was accepted.
    """

    def __init__(self, hub: HubProcess, rate: float, *, entities: int = 50, workers: int = 16) -> None:
        self._hub = hub
        self._rate = rate
        self._entities = entities
        self._workers = workers
        self.accepted: list[Change] = []
        self.errors = 0
        self._stop = threading.Event()
        self._sequence = itertools.count(1)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="load-driver", daemon=True)
        self.started_at = 0.0
        self.stopped_at = 0.0

    def __enter__(self) -> LoadDriver:
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.stopped_at = self.stopped_at or time.monotonic()

    @property
    def rate(self) -> float:
        """Accepted changes per second over the run."""
        end = self.stopped_at or time.monotonic()
        return len(self.accepted) / max(end - self.started_at, 1e-9)

    def last_states(self) -> dict[str, str]:
        return {change.entity_id: change.state for change in sorted(self.accepted, key=lambda c: int(c.state))}

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._workers)
        async with aiohttp.ClientSession(connector=connector, headers=self._hub.headers) as session:
            await asyncio.gather(*(self._worker(session, i) for i in range(self._workers)))
        self.stopped_at = time.monotonic()

    async def _worker(self, session: aiohttp.ClientSession, index: int) -> None:
        interval = self._workers / self._rate
        due = time.monotonic() + index * interval / self._workers
        while not self._stop.is_set():
            sequence = next(self._sequence)
            entity_id = f"sensor.chaos_load_{sequence % self._entities}"
            try:
                async with session.post(
                    f"{self._hub.url}/api/states/{entity_id}", json={"state": str(sequence)}, timeout=5
                ) as answer:
                    if answer.status in (200, 201):
                        self.accepted.append(Change(entity_id, str(sequence), time.monotonic()))
                    else:
                        self.errors += 1
            except (aiohttp.ClientError, TimeoutError):
                self.errors += 1
                await asyncio.sleep(0.05)
            due += interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))


class PgCluster:
    """A throwaway PostgreSQL cluster of this test's own (initdb, pg_ctl), so stopping it harms no one else.

    The machine's own server on 5432 is shared by the suite and must never be stopped; this one may be.
    """

    def __init__(self) -> None:
        initdbs = Path("/usr/lib/postgresql").glob("*/bin/initdb")
        newest = max(initdbs, key=lambda p: tuple(int(n) for n in p.parts[-3].split(".")), default=None)
        assert newest is not None, "initdb is not installed: `bash scripts/test` installs the Debian package postgresql"
        self._bin = newest.parent
        # Short: it holds the unix socket, whose path may not pass 107 bytes.
        self._root = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self._root, "postgres", "postgres")
        self._data = self._root / "data"
        self.port = free_port()
        self._postgres("initdb", "-A", "trust", "-U", "postgres", "--no-sync", "-D", str(self._data))
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._postgres("pg_ctl", "-D", str(self._data), "-l", str(self._root / "log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        """`-m immediate`: the server dies without a checkpoint, as in a crash."""
        self._postgres("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")

    def psql(self, database: str, sql: str) -> str:
        return self._postgres(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-At", "-c", sql
        )

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    def _postgres(self, tool: str, *args: str) -> str:
        command = [str(self._bin / tool), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"
        return done.stdout
