"""One attempt of each kind of check, bounded in time and memory: its `Result` says up or down, and why.

HTTP goes through aiohttp's client (one session for every check of the integration); TCP and TLS through asyncio's
own connections and the standard `ssl` module; the certificate is read with `cryptography`, which also reads one
that failed verification (expired, self-signed, for another host), so its days and issuer are known either way.
DNS through dnspython's asyncio resolver, asking the check's server only; ping through icmplib's asyncio pings.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.resolver
import icmplib
from cryptography import x509

from .config import DnsCheck, HttpCheck, PingCheck, TcpCheck, TlsCheck

__all__ = [
    "Certificate",
    "Result",
    "ping_privileged",
    "probe_dns",
    "probe_http",
    "probe_ping",
    "probe_tcp",
    "probe_tls",
]

_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Certificate:
    """What a TLS server presented: when it ends, for whom, by whom, and whether it verified."""

    not_after: datetime
    subject: str
    issuer: str
    valid: bool
    problem: str | None = None

    def days_left(self, now: datetime) -> int:
        """Whole days until it ends (negative: since it ended), counted toward zero."""
        return int((self.not_after - now).total_seconds() / 86400)


@dataclass(frozen=True, slots=True)
class Result:
    """One attempt: up or down, why (the error, or what answered), how fast, and what it learned."""

    up: bool
    reason: str
    response_ms: float | None = None
    status_code: int | None = None
    certificate: Certificate | None = None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _describe(err: BaseException) -> str:
    """What went wrong in words a person reads: `connection refused`, not `[Errno 111] Connect call failed (...)`."""
    cause = err.os_error if isinstance(err, aiohttp.ClientConnectorError) else err
    if isinstance(cause, OSError) and not isinstance(cause, ssl.SSLError) and cause.errno:
        text = (os.strerror(cause.errno) if cause.errno > 0 else cause.strerror or str(cause)).lower()
    else:
        text = str(err) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


async def probe_http(check: HttpCheck, session: aiohttp.ClientSession) -> Result:
    headers = {name: value.reveal() for name, value in check.headers.items()}
    if check.bearer is not None:
        headers["Authorization"] = f"Bearer {check.bearer.reveal()}"
    auth = None
    if check.basic_auth is not None:
        auth = aiohttp.BasicAuth(check.basic_auth.username, check.basic_auth.password.reveal())
    started = time.perf_counter()
    try:
        async with (
            asyncio.timeout(check.timeout.total_seconds()),
            session.request(
                check.method,
                check.url,
                headers=headers,
                auth=auth,
                allow_redirects=check.follow_redirects,
                ssl=_verifying(check.ca_file) if check.ca_file is not None and check.verify_tls else check.verify_tls,
            ) as response,
        ):
            reads_body = check.keyword is not None or check.json_path is not None
            body = await _read_at_most(response, check.max_body) if reads_body else b""
            elapsed = _ms(started)
    except TimeoutError:
        return Result(False, f"no answer within {check.timeout.total_seconds():g}s")
    except aiohttp.ClientConnectorCertificateError as err:
        return Result(False, f"TLS certificate not valid: {_describe(err.certificate_error)}")
    except (aiohttp.ClientError, OSError, ValueError) as err:
        return Result(False, _describe(err))
    status = response.status
    wanted = status in check.expect_status if check.expect_status else 200 <= status < 400
    if not wanted:
        return Result(False, f"HTTP {status} {response.reason or ''}".strip(), elapsed, status)
    if check.keyword is not None and check.keyword.encode() not in body:
        return Result(False, f"HTTP {status}, but {check.keyword!r} is not in the body", elapsed, status)
    if check.json_path is not None:
        problem = json_problem(body, check.json_path, check.json_expect)
        if problem is not None:
            return Result(False, f"HTTP {status}, but {problem}", elapsed, status)
    return Result(True, f"HTTP {status}", elapsed, status)


_MISSING = object()


def json_problem(body: bytes, path: str, expect: str | float | bool | None) -> str | None:
    """Why the JSON `body` does not hold what `path` (and `expect`) ask, or None when it does."""
    try:
        value: Any = json.loads(body)
    except (ValueError, RecursionError):
        return "the body is not JSON" if len(body) else "the body is empty"
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if key and isinstance(value, dict):
            value = value.get(key, _MISSING)
        elif index and isinstance(value, list):
            value = value[int(index)] if int(index) < len(value) else _MISSING
        else:
            value = _MISSING
        if value is _MISSING:
            return f"the JSON has no {path}"
    if expect is None:
        return None if value not in (None, False, 0, "", [], {}) else f"{path} is {_json_text(value)}"
    same = value == expect if isinstance(expect, bool) or isinstance(value, bool) else str(value) == str(expect)
    return None if same else f"{path} is {_json_text(value)}, expected {_json_text(expect)}"


def _json_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


@functools.lru_cache(maxsize=64)
def _verifying(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying context trusting `ca_file`, or the system's authorities, made once: loading them took more CPU
    than the handshake itself (about 1 ms an attempt, bench/checks.py)."""
    return ssl.create_default_context(cafile=ca_file)


def _certificate(der: bytes, problem: str | None) -> Certificate:
    parsed = x509.load_der_x509_certificate(der)
    return Certificate(
        not_after=parsed.not_valid_after_utc,
        subject=parsed.subject.rfc4514_string(),
        issuer=parsed.issuer.rfc4514_string(),
        valid=problem is None,
        problem=problem,
    )


async def _read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body's first `limit` bytes (a keyword is looked for there); the rest is never read."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(min(_READ_CHUNK, limit - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


async def probe_tcp(check: TcpCheck) -> Result:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(check.timeout.total_seconds()):
            _, writer = await asyncio.open_connection(check.host, check.port)
    except TimeoutError:
        return Result(False, f"no connection within {check.timeout.total_seconds():g}s")
    except OSError as err:
        return Result(False, _describe(err))
    elapsed = _ms(started)
    writer.close()
    return Result(True, f"port {check.port} open", elapsed)


async def probe_tls(check: TlsCheck, now: datetime | None = None) -> Result:
    """Connect, verify the chain and the name; on a failed verification connect again without it to read the
    certificate anyway. Up means the certificate is valid now."""
    name = check.server_name or check.host
    started = time.perf_counter()
    problem: str | None = None
    try:
        async with asyncio.timeout(check.timeout.total_seconds()):
            try:
                der = await _peer_certificate(check, name, _verifying(check.ca_file))
            except ssl.SSLCertVerificationError as err:
                problem = err.verify_message or _describe(err)
                der = await _peer_certificate(check, name, _unverified())
    except TimeoutError:
        return Result(False, f"no TLS handshake within {check.timeout.total_seconds():g}s")
    except (OSError, ssl.SSLError) as err:
        return Result(False, _describe(err))
    elapsed = _ms(started)
    certificate = _certificate(der, problem)
    if problem is not None:
        return Result(False, f"TLS certificate not valid: {problem}", elapsed, certificate=certificate)
    days = certificate.days_left(now or datetime.now(UTC))
    return Result(True, f"certificate valid for {days} more days", elapsed, certificate=certificate)


@functools.lru_cache(maxsize=1)
def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _peer_certificate(check: TlsCheck, name: str, context: ssl.SSLContext) -> bytes:
    _, writer = await asyncio.open_connection(check.host, check.port, ssl=context, server_hostname=name)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            raise ssl.SSLError("the server presented no certificate")
        return bytes(der)
    finally:
        writer.close()


async def probe_dns(check: DnsCheck) -> Result:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [check.server]
    resolver.port = check.port
    resolver.lifetime = check.timeout.total_seconds()
    resolver.timeout = check.timeout.total_seconds()
    started = time.perf_counter()
    try:
        answer = await resolver.resolve(check.query, check.record_type, search=False)
    except dns.resolver.NXDOMAIN:
        return Result(False, f"{check.query} does not exist (NXDOMAIN)", _ms(started))
    except dns.resolver.NoAnswer:
        return Result(False, f"no {check.record_type} record for {check.query}", _ms(started))
    except dns.exception.Timeout:
        return Result(False, f"no answer from {check.server} within {check.timeout.total_seconds():g}s")
    except (dns.exception.DNSException, OSError, ValueError) as err:
        return Result(False, _describe(err))
    elapsed = _ms(started)
    answers = [record.to_text() for record in answer][:20]
    if check.expect is not None and check.expect not in answers:
        return Result(False, f"answered {', '.join(answers)[:120]}, not {check.expect}", elapsed)
    return Result(True, ", ".join(answers)[:200], elapsed)


def ping_privileged() -> bool:
    """ICMP needs a raw socket (root) or the kernel's unprivileged datagram sockets (net.ipv4.ping_group_range)."""
    return os.geteuid() == 0


async def probe_ping(check: PingCheck) -> Result:
    """`count` echoes, 0.2 s apart, each waiting at most the timeout's share; up when any answered."""
    per_ping = max(0.1, check.timeout.total_seconds() / check.count - 0.2)
    try:
        host = await icmplib.async_ping(
            check.host, count=check.count, interval=0.2, timeout=per_ping, privileged=ping_privileged()
        )
    except icmplib.NameLookupError:
        return Result(False, f"{check.host}: no such host")
    except (icmplib.ICMPLibError, OSError) as err:
        return Result(False, _describe(err))
    loss = round(host.packet_loss * 100)
    if not host.is_alive:
        return Result(False, f"no answer to {check.count} pings (100 % loss)")
    return Result(True, f"{host.packets_received} of {host.packets_sent} answered ({loss} % loss)", host.avg_rtt)
