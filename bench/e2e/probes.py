"""The e2e benchmark's measuring clients, one process per sink: each counts the changes it receives and their delay.

Run by bench/e2e/: .venv/bin/python -m bench.e2e.probes KIND ARG... with KIND one of `ws URL TOKEN CLIENTS`,
`redis URL STREAM`, `mqtt PORT TOPIC`, `db URL`. Every synthetic state is its own write time in microseconds
(bench/e2e/synthetic.py), so a receipt's delay is its arrival time minus its payload. A probe prints `ready` once it
is subscribed, then answers commands on stdin, one JSON line each:
`reset T` starts a step (only stamps above T count from now on), `peek` gives the counts so far, `report`
gives the counts and the delay percentiles of the step.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
import time
from array import array
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

__all__ = ["Tally", "main"]

_BUCKETS = 100_000
"""Delays are kept as a histogram of 0.1 ms buckets up to 10 s (exact beyond), so a step of millions of receipts
costs a few hundred kilobytes and no sort."""
_CHILDREN: list[asyncio.subprocess.Process] = []
"""Subprocesses of this probe, ended with it."""
_POLL = 0.02
"""Seconds between database reads: a row's delay is the start of the first read that sees it (up to 20 ms late)."""


class Tally:
    """Receipts of one sink since the last reset: per client counts, one delay histogram."""

    def __init__(self, clients: int) -> None:
        self.floor = 0
        self.counts = [0] * clients
        self.disconnected = 0
        self._hist = array("l", bytes(8 * _BUCKETS))
        self._over: list[float] = []
        self._max = 0.0

    def reset(self, floor: int) -> None:
        self.floor = floor
        self.counts = [0] * len(self.counts)
        self._hist = array("l", bytes(8 * _BUCKETS))
        self._over.clear()
        self._max = 0.0

    def add_all(self, client: int, stamps: list[bytes] | list[str], now: float) -> None:
        """Count the received states (stamps) of this step among `stamps`, and their delays at `now`."""
        floor, hist, now_ms, counted = self.floor, self._hist, now * 1000.0, 0
        for text in stamps:
            stamp = int(text)
            if stamp <= floor:
                continue
            counted += 1
            delay = now_ms - stamp / 1000.0
            self._max = max(self._max, delay)
            bucket = max(0, int(delay * 10))
            if bucket < _BUCKETS:
                hist[bucket] += 1
            else:
                self._over.append(delay)
        self.counts[client] += counted

    def percentile(self, fraction: float) -> float | None:
        total = sum(self.counts)
        if not total:
            return None
        rank = max(1, round(fraction * total))
        seen = 0
        for bucket, count in enumerate(self._hist):
            seen += count
            if seen >= rank:
                return (bucket + 0.5) / 10
        return sorted(self._over)[rank - seen - 1]

    def report(self) -> dict[str, Any]:
        p50, p99 = self.percentile(0.5), self.percentile(0.99)
        return {
            "counts": self.counts,
            "p50_ms": None if p50 is None else round(p50, 1),
            "p99_ms": None if p99 is None else round(p99, 1),
            "max_ms": round(self._max, 1),
            "disconnected": self.disconnected,
        }


# sinks


async def _ws_client(url: str, token: str, tally: Tally, index: int, ready: asyncio.Queue[int]) -> None:
    """One dashboard-like client (`subscribe_entities`, coalesced) or, with index -1, one `subscribe_events`."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise RuntimeError("WebSocket auth refused")
        await ws.send_json({"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}})
        if index < 0:
            await ws.send_json({"id": 2, "type": "subscribe_events", "event_type": "state_changed"})
        else:
            await ws.send_json({"id": 2, "type": "subscribe_entities"})
        ready.put_nowait(index)
        # Only the new states' stamps are read out of each frame, by a regular expression over its text: decoding
        # every frame into Python objects cost these 21 clients more CPU than the hub spent sending them.
        pattern, client = (_EVENT_STAMP, 0) if index < 0 else (_DIFF_STAMP, index)
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                tally.add_all(client, pattern.findall(message.data), time.time())
    # The hub cut this client off (too far behind): what it did not get counts as lost.
    tally.disconnected += 1


_DIFF_STAMP = re.compile(r'"\+":\{"s":"(\d+)"')
"""A changed state in a `subscribe_entities` diff (`{"+":{"s":...`: the state comes first when it changed)."""
_EVENT_STAMP = re.compile(r'"new_state":\{"entity_id":"[^"]*","state":"(\d+)"')
"""The new state of a `state_changed` event (its old state is skipped: it names an earlier change)."""
_EVENT_STAMP_BYTES = re.compile(_EVENT_STAMP.pattern.encode())


async def _ws(tallies: dict[str, Tally], args: list[str]) -> list[asyncio.Task[None]]:
    url, token = args[0], args[1]
    ready: asyncio.Queue[int] = asyncio.Queue()
    entities, events = tallies["entities"], tallies["events"]
    tasks = [asyncio.create_task(_ws_client(url, token, entities, i, ready)) for i in range(len(entities.counts))]
    tasks.append(asyncio.create_task(_ws_client(url, token, events, -1, ready)))
    for _ in tasks:
        await asyncio.wait_for(ready.get(), 30)
    return tasks


async def _redis(tallies: dict[str, Tally], args: list[str]) -> list[asyncio.Task[None]]:
    tally = tallies["sink"]
    from redis.asyncio import Redis

    url, stream = args[0], args[1]
    client = Redis.from_url(url)
    last = (await client.xinfo_stream(stream))["last-generated-id"] if await client.exists(stream) else b"0-0"

    async def read() -> None:
        position = last
        while True:
            answer = await client.xread({stream: position}, count=10_000, block=1000)
            now = time.time()
            for _, entries in answer:
                position = entries[-1][0]
                stamps = [m[1] for _, fields in entries if (m := _EVENT_STAMP_BYTES.search(fields[b"event"]))]
                tally.add_all(0, stamps, now)

    return [asyncio.create_task(read())]


async def _mqtt(tallies: dict[str, Tally], args: list[str]) -> list[asyncio.Task[None]]:
    tally = tallies["sink"]
    port, topic = args[0], args[1]
    # mosquitto_sub (C) is the subscriber: a Python client would cost this shared machine more CPU than the hub's
    # publisher does. `-F %p` prints each payload on its own line, flushed.
    command = ["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-q", "0", "-F", "%p"]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    _CHILDREN.append(process)
    assert process.stdout is not None
    stdout = process.stdout

    async def read() -> None:
        rest = b""
        while chunk := await stdout.read(1 << 16):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            tally.add_all(0, [line for line in lines if line.isdigit()], time.time())

    await asyncio.sleep(0.5)  # subscribed: it has had time to receive the retained states
    return [asyncio.create_task(read())]


async def _db(tallies: dict[str, Tally], args: list[str]) -> list[asyncio.Task[None]]:
    tally = tallies["sink"]
    url = args[0]
    query = "SELECT state_id, state FROM states WHERE state_id > $1 ORDER BY state_id"
    if url.startswith("sqlite://"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"), check_same_thread=False)
        sqlite_query = query.replace("$1", "?")

        async def fetch(after: int) -> list[Any]:
            return await asyncio.to_thread(lambda: connection.execute(sqlite_query, (after,)).fetchall())

    else:
        import asyncpg

        pg = await asyncpg.connect(url)

        async def fetch(after: int) -> list[Any]:
            return list(await pg.fetch(query, after))

    return [asyncio.create_task(_poll_db(tally, fetch))]


async def _poll_db(tally: Tally, fetch: Callable[[int], Awaitable[list[Any]]]) -> None:
    rows = await fetch(0)
    last = rows[-1][0] if rows else 0
    while True:
        await asyncio.sleep(_POLL)
        started = time.time()
        rows = await fetch(last)
        if rows:
            last = rows[-1][0]
            tally.add_all(0, [state for _, state in rows if state is not None and state.isdigit()], started)


# command loop


async def _serve(kind: str, args: list[str]) -> None:
    # The WebSocket probe's clients of each kind (entities, events) share one histogram per kind.
    tallies = {"entities": Tally(int(args[2])), "events": Tally(1)} if kind == "ws" else {"sink": Tally(1)}
    start = {"ws": _ws, "redis": _redis, "mqtt": _mqtt, "db": _db}[kind]
    tasks = await start(tallies, args)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    print("ready", flush=True)
    while line := (await stdin.readline()).decode().split():
        if any(task.done() and task.exception() for task in tasks):
            failed = next(task for task in tasks if task.done() and task.exception())
            print(json.dumps({"error": f"{kind} reader ended: {failed.exception()!r}"}), flush=True)
            return
        print(json.dumps(_answer(line, tallies)), flush=True)


def _answer(command: list[str], tallies: dict[str, Tally]) -> dict[str, Any]:
    if command[0] == "reset":
        for tally in tallies.values():
            tally.reset(int(command[1]))
        return {"ok": True}
    counts = [count for tally in tallies.values() for count in tally.counts]
    if command[0] == "peek":
        return {"counts": counts}
    reports = {name: tally.report() for name, tally in tallies.items()}
    return {**reports.pop("sink", {}), **reports, "counts": counts, "cpu_s": round(sum(os.times()[:2]), 2)}


async def _serve_then_clean(kind: str, args: list[str]) -> None:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await _serve(kind, args)
    except asyncio.CancelledError:
        pass
    finally:
        for child in _CHILDREN:
            if child.returncode is None:
                child.kill()
                await child.wait()


def main() -> None:
    asyncio.run(_serve_then_clean(sys.argv[1], sys.argv[2:]))


if __name__ == "__main__":
    main()
