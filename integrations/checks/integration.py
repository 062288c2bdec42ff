"""`Checks`: runs every configured check on a timer of its own, spread over its interval, and reports each outcome.

One integration instance holds many checks. Each runs in its own task, so a slow or hostile target never delays
another; each attempt is bounded by the check's `timeout` (and an HTTP body by `max_body`), failed attempts are
retried `retries` times at once, and only then does the check count as down. A push check is the other way round:
its `checks.push` service (the hub's `/api/push/<token>`) reports it, and its task only notices the silence.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp

from hub.core import ServiceCall, ServiceValidationError, clock
from hub.integration import Integration, IntegrationService

from .config import Check, ChecksConfig, DnsCheck, HttpCheck, PingCheck, PushCheck, TcpCheck, TlsCheck
from .entities import ENTITIES, ChecksSnapshot, CheckState
from .probes import Certificate, Result, ping_privileged, probe_dns, probe_http, probe_ping, probe_tcp, probe_tls

__all__ = ["Checks", "first_delay"]

_MAX_JITTER = 1.0
CERTIFICATE_EVERY = 3600.0
"""Seconds an `https` check's certificate is read again after: its days left move once a day."""


def first_delay(check: Check) -> float:
    """Seconds from start to a check's first attempt: a stable phase from its name, so checks that share an
    interval are spread over it and a restart keeps them where they were."""
    fraction = int.from_bytes(hashlib.sha256(check.name.encode()).digest()[:8], "big") / 2**64
    return fraction * check.interval.total_seconds()


def _target(check: Check) -> str:
    if isinstance(check, HttpCheck):
        return check.url
    if isinstance(check, PushCheck):
        return "push"
    if isinstance(check, DnsCheck):
        return f"{check.query} {check.record_type} @{check.server}:{check.port}"
    if isinstance(check, PingCheck):
        return check.host
    return f"{check.host}:{check.port}"


_PUSH_FIELDS: Mapping[str, Mapping[str, Any]] = {
    "token": {"description": "the push check's token", "required": True},
    "status": {"description": "up (default) or down"},
    "msg": {"description": "why, as the pusher says it"},
    "ping": {"description": "a response time in ms, as the pusher measured it"},
}


async def _push(integration: Checks, call: ServiceCall) -> None:
    await integration.push(call.data)


class Checks(Integration[ChecksConfig, ChecksSnapshot]):
    domain = "checks"
    config_model = ChecksConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=60)
    entities = ENTITIES
    services: ClassVar[tuple[IntegrationService[ChecksConfig], ...]] = (
        IntegrationService(
            name="push",
            handler=_push,
            description="A push check's heartbeat (what /api/push/<token> calls).",
            fields=_PUSH_FIELDS,
        ),
    )

    _session: aiohttp.ClientSession | None = None
    _pushed: dict[str, asyncio.Event]

    def __init__(self, ctx: Any, config: ChecksConfig) -> None:
        super().__init__(ctx, config)
        self._pushed = {check.name: asyncio.Event() for check in config.checks if isinstance(check, PushCheck)}
        self._certificates: dict[str, tuple[float, Certificate | None]] = {}

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
        if any(isinstance(check, PingCheck) for check in self.config.checks):
            way = "raw ICMP sockets (root)" if ping_privileged() else "unprivileged ICMP datagram sockets"
            self.ctx.logger.info("Ping checks use %s", way)
        async with asyncio.TaskGroup() as group:
            for check in self.config.checks:
                group.create_task(self._keep_checking(check), name=f"check:{check.name}")

    async def _keep_checking(self, check: Check) -> None:
        if isinstance(check, PushCheck):
            await self._watch(check)
            return
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
        self._report(check, result, attempts)
        return result

    async def _watch(self, check: PushCheck) -> None:
        """Down once a whole `interval` plus `grace` passes without a push; said once per silence."""
        pushed = self._pushed[check.name]
        silence = (check.interval + check.grace).total_seconds()
        said = False
        while True:
            try:
                await clock.wait_for(pushed.wait(), silence)
            except TimeoutError:
                if not said:
                    self._report(check, Result(False, f"no push within {silence:g}s"), 1)
                    said = True
                continue
            pushed.clear()
            said = False

    async def push(self, data: Mapping[str, Any]) -> None:
        """A heartbeat: the push check whose token it names is up (or down, if it says so)."""
        token = str(data.get("token", ""))
        check = next(
            (
                c
                for c in self.config.checks
                if isinstance(c, PushCheck) and hmac.compare_digest(c.token.reveal(), token)
            ),
            None,
        )
        if check is None:
            raise ServiceValidationError("no push check has that token")
        status = str(data.get("status") or "up").lower()
        if status not in ("up", "down"):
            raise ServiceValidationError(f"status must be up or down, got {status[:20]!r}")
        message = str(data.get("msg") or "")[:200]
        up = status == "up"
        reason = message or ("pushed up" if up else "pushed down")
        self._report(check, Result(up, reason, _milliseconds(data.get("ping"))), 1)
        self._pushed[check.name].set()

    async def _certificate_of(self, check: HttpCheck) -> Certificate | None:
        """The certificate an `https` check's server presents, read by a TLS check of its host and port at most
        once per `CERTIFICATE_EVERY` (certificates change rarely; a second handshake per attempt would double the
        cost of every https check)."""
        now = clock.monotonic()
        cached = self._certificates.get(check.name)
        if cached is not None and now - cached[0] < CERTIFICATE_EVERY:
            return cached[1]
        url = urlsplit(check.url)
        host = url.hostname or ""
        tls = TlsCheck(
            kind="tls",
            name=check.name,
            host=host,
            port=url.port or 443,
            ca_file=check.ca_file,
            interval=check.interval,
            timeout=check.timeout,
        )
        certificate = (await probe_tls(tls, clock.utcnow())).certificate
        if certificate is not None and not check.verify_tls and not certificate.valid:
            certificate = replace(certificate, problem=f"{certificate.problem} (accepted: verify_tls is false)")
        self._certificates[check.name] = (now, certificate)
        return certificate

    def _report(self, check: Check, result: Result, attempts: int) -> None:
        state = CheckState(check.kind, _target(check), result, clock.utcnow(), attempts)
        self.ctx.report(ChecksSnapshot(self.ctx.node, {check.name: state}), partial=True)

    async def _attempt(self, check: Check) -> Result:
        if isinstance(check, HttpCheck):
            assert self._session is not None
            result = await probe_http(check, self._session)
            if check.url.startswith("https://"):
                result = replace(result, certificate=await self._certificate_of(check))
            return result
        if isinstance(check, TcpCheck):
            return await probe_tcp(check)
        if isinstance(check, DnsCheck):
            return await probe_dns(check)
        if isinstance(check, PingCheck):
            return await probe_ping(check)
        assert not isinstance(check, PushCheck)  # watched, never probed
        return await probe_tls(check, clock.utcnow())


def _milliseconds(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 1) if 0 <= number < 86_400_000 else None
