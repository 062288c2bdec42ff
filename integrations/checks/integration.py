"""`Checks`: runs every configured check on a timer of its own, spread over its interval, and reports each outcome.

One integration instance holds many checks. Each runs in its own task, so a slow or hostile target never delays
another; each attempt is bounded by the check's `timeout` (and an HTTP body by `max_body`), failed attempts are
retried `retries` times at once, and only then does the check count as down.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import ClassVar

import aiohttp

from hub.core import clock
from hub.integration import Integration

from .config import Check, ChecksConfig, HttpCheck, TcpCheck
from .entities import ENTITIES, ChecksSnapshot, CheckState
from .probes import Result, probe_http, probe_tcp, probe_tls

__all__ = ["Checks", "first_delay"]

_MAX_JITTER = 1.0


def first_delay(check: Check) -> float:
    """Seconds from start to a check's first attempt: a stable phase from its name, so checks that share an
    interval are spread over it and a restart keeps them where they were."""
    fraction = int.from_bytes(hashlib.sha256(check.name.encode()).digest()[:8], "big") / 2**64
    return fraction * check.interval.total_seconds()


def _target(check: Check) -> str:
    if isinstance(check, HttpCheck):
        return check.url
    return f"{check.host}:{check.port}"


class Checks(Integration[ChecksConfig, ChecksSnapshot]):
    domain = "checks"
    config_model = ChecksConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=60)
    entities = ENTITIES

    _session: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        # No connection pooling between attempts: each measures a fresh connection, as a user's browser would.
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:
            self._session = session
            try:
                yield
            finally:
                self._session = None

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for check in self.config.checks:
                group.create_task(self._keep_checking(check), name=f"check:{check.name}")

    async def _keep_checking(self, check: Check) -> None:
        await clock.sleep(first_delay(check))
        interval = check.interval.total_seconds()
        while True:
            started = clock.monotonic()
            await self.check_once(check)
            jitter = random.uniform(0, min(_MAX_JITTER, interval * 0.02))
            await clock.sleep(max(0.0, interval - (clock.monotonic() - started)) + jitter)

    async def check_once(self, check: Check) -> Result:
        """One check with its retries, reported as it ends."""
        attempts = 0
        while True:
            attempts += 1
            result = await self._attempt(check)
            if result.up or attempts > check.retries:
                break
        state = CheckState(check.kind, _target(check), result, clock.utcnow(), attempts)
        self.ctx.report(ChecksSnapshot({check.name: state}), partial=True)
        return result

    async def _attempt(self, check: Check) -> Result:
        if isinstance(check, HttpCheck):
            assert self._session is not None
            return await probe_http(check, self._session)
        if isinstance(check, TcpCheck):
            return await probe_tcp(check)
        return await probe_tls(check, clock.utcnow())
