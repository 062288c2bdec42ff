"""Each kind of check against real servers on loopback: good, slow, redirecting, wrong status, wrong keyword, and
hostile ones (an endless body, headers sent a byte a second, a 10 MB answer) that must be cut short in time and
memory; TLS with certificates made here (valid, expiring in 5 days, expired, self-signed, for another host)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from integrations.checks.config import HttpCheck, TcpCheck, TlsCheck
from integrations.checks.probes import probe_http, probe_tcp, probe_tls
from tests.fixtures.ports import free_port

TEN_MB = 10 * 1024 * 1024


async def _good(_request: web.Request) -> web.Response:
    return web.Response(text="<h1>Nextcloud</h1> all is well")


async def _slow(_request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(text="late")


async def _redirect(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/good")


async def _broken(_request: web.Request) -> web.Response:
    return web.Response(status=500, text="oops")


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"a" * 65536
    while True:
        await response.write(chunk)


async def _huge(_request: web.Request) -> web.Response:
    return web.Response(body=b"a" * TEN_MB + b"Nextcloud")


async def _needs_auth(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != "Bearer s3cret":
        return web.Response(status=401)
    return web.Response(text="Nextcloud")


async def _health(_request: web.Request) -> web.Response:
    """A health endpoint as many homelab services have one (Gatus and Uptime Kuma users check these)."""
    body = {"status": "UP", "checks": {"database": {"status": "DOWN", "latency": 0}}, "nodes": [{"up": True}]}
    return web.json_response(body)


@pytest.fixture
async def site() -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in (
        ("/good", _good),
        ("/slow", _slow),
        ("/redirect", _redirect),
        ("/broken", _broken),
        ("/endless", _endless),
        ("/huge", _huge),
        ("/auth", _needs_auth),
        ("/health", _health),
    ):
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _http(url: str, **options: Any) -> HttpCheck:
    return HttpCheck.model_validate({"kind": "http", "name": "web", "url": url, "timeout": "2s", **options})


async def test_http_up_down_and_why(site: str, session: aiohttp.ClientSession) -> None:
    good = await probe_http(_http(f"{site}/good", keyword="Nextcloud"), session)
    assert (good.up, good.status_code, good.reason) == (True, 200, "HTTP 200")
    assert good.response_ms is not None
    assert 0 < good.response_ms < 2000
    redirected = await probe_http(_http(f"{site}/redirect", keyword="Nextcloud"), session)
    assert (redirected.up, redirected.status_code) == (True, 200)
    not_followed = await probe_http(_http(f"{site}/redirect", follow_redirects=False, expect_status=[200]), session)
    assert (not_followed.up, not_followed.reason) == (False, "HTTP 302 Found")
    broken = await probe_http(_http(f"{site}/broken"), session)
    assert (broken.up, broken.reason) == (False, "HTTP 500 Internal Server Error")
    assert (await probe_http(_http(f"{site}/broken", expect_status=[500]), session)).up
    wrong = await probe_http(_http(f"{site}/good", keyword="Jellyfin"), session)
    assert (wrong.up, wrong.reason) == (False, "HTTP 200, but 'Jellyfin' is not in the body")
    slow = await probe_http(_http(f"{site}/slow", timeout="500ms"), session)
    assert (slow.up, slow.reason) == (False, "no answer within 0.5s")
    refused = await probe_http(_http(f"http://127.0.0.1:{free_port()}/"), session)
    assert not refused.up
    assert refused.reason == "connection refused"


async def test_http_bearer_comes_from_the_config(site: str, session: aiohttp.ClientSession) -> None:
    assert not (await probe_http(_http(f"{site}/auth"), session)).up
    assert (await probe_http(_http(f"{site}/auth", bearer="s3cret", keyword="Nextcloud"), session)).up


async def _bounded(probe: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = await probe()
    return result, time.monotonic() - started


async def test_hostile_bodies_are_read_only_as_far_as_max_body(site: str, session: aiohttp.ClientSession) -> None:
    endless, took = await _bounded(lambda: probe_http(_http(f"{site}/endless", keyword="Nextcloud"), session))
    assert (endless.up, endless.reason) == (False, "HTTP 200, but 'Nextcloud' is not in the body")
    assert took < 2
    huge, took = await _bounded(lambda: probe_http(_http(f"{site}/huge", keyword="Nextcloud"), session))
    assert not huge.up  # the keyword lies past the first MiB read
    assert took < 2


@pytest.fixture
async def slowloris() -> AsyncIterator[int]:
    """A server that accepts, then sends its status line and headers one byte a second."""

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n":
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(1)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    port = free_port()
    server = await asyncio.start_server(drip, "127.0.0.1", port)
    yield port
    server.close()


async def test_slow_headers_count_as_down_at_the_timeout(slowloris: int, session: aiohttp.ClientSession) -> None:
    result, took = await _bounded(lambda: probe_http(_http(f"http://127.0.0.1:{slowloris}/", timeout="1s"), session))
    assert (result.up, result.reason) == (False, "no answer within 1s")
    assert took < 1.5


async def test_tcp(site: str) -> None:
    port = int(site.rsplit(":", 1)[1])
    up = await probe_tcp(TcpCheck(kind="tcp", name="web", host="127.0.0.1", port=port))
    assert (up.up, up.reason) == (True, f"port {port} open")
    down = await probe_tcp(TcpCheck(kind="tcp", name="db", host="127.0.0.1", port=free_port()))
    assert not down.up


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def _tls_server(cert: trustme.LeafCert) -> tuple[asyncio.Server, int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)

    async def greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    port = free_port()
    return await asyncio.start_server(greet, "127.0.0.1", port, ssl=context), port


async def _probe(ca: trustme.CA, cert: trustme.LeafCert, tmp_path: Path, **options: Any) -> Any:
    server, port = await _tls_server(cert)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    check = TlsCheck.model_validate(
        {"kind": "tls", "name": "nas", "host": "127.0.0.1", "port": port, "ca_file": str(ca_file), **options}
    )
    try:
        return await probe_tls(check, datetime.now(UTC))
    finally:
        server.close()


async def test_tls_certificates(ca: trustme.CA, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    leaf = ca.issue_cert("nas.lab", common_name="nas.lab", not_after=now + timedelta(days=5, hours=1))
    soon = await _probe(ca, leaf, tmp_path, server_name="nas.lab")
    assert soon.up
    assert soon.certificate.days_left(now) == 5
    assert soon.certificate.valid
    assert "nas.lab" in soon.certificate.subject
    expired = await _probe(ca, ca.issue_cert("nas.lab", not_after=now - timedelta(days=2)), tmp_path,
                           server_name="nas.lab")  # fmt: skip
    assert not expired.up
    assert "expired" in expired.reason
    assert expired.certificate.days_left(now) == -2
    other_host = await _probe(ca, ca.issue_cert("other.lab"), tmp_path, server_name="nas.lab")
    assert not other_host.up
    assert "match" in other_host.reason.lower()
    assert other_host.certificate is not None
    stranger = trustme.CA()  # not the CA the check trusts: as a self-signed certificate
    unknown = await _probe(ca, stranger.issue_cert("nas.lab"), tmp_path, server_name="nas.lab")
    assert not unknown.up
    assert "certificate" in unknown.reason
    refused = await probe_tls(TlsCheck(kind="tls", name="x", host="127.0.0.1", port=free_port(), timeout="1s"))
    assert not refused.up
    assert refused.reason == "connection refused"
    assert refused.certificate is None


@pytest.mark.parametrize(
    ("path", "expect", "reason"),
    [
        ("status", "UP", None),
        ("nodes[0].up", True, None),
        ("nodes[0].up", None, None),
        ("checks.database.status", "UP", 'checks.database.status is "DOWN", expected "UP"'),
        ("checks.database.latency", None, "checks.database.latency is 0"),
        ("checks.cache.status", None, "the JSON has no checks.cache.status"),
        ("nodes[3].up", None, "the JSON has no nodes[3].up"),
    ],
)
async def test_http_json_path(
    site: str, session: aiohttp.ClientSession, path: str, expect: object, reason: str | None
) -> None:
    result = await probe_http(_http(f"{site}/health", json_path=path, json_expect=expect), session)
    assert (result.up, result.reason) == (reason is None, "HTTP 200" if reason is None else f"HTTP 200, but {reason}")


async def test_http_json_path_on_a_body_that_is_not_json(site: str, session: aiohttp.ClientSession) -> None:
    result = await probe_http(_http(f"{site}/good", json_path="status"), session)
    assert (result.up, result.reason) == (False, "HTTP 200, but the body is not JSON")
    with pytest.raises(ValueError, match="json_expect needs a json_path"):
        _http(f"{site}/good", json_expect="UP")
    with pytest.raises(ValueError, match="json_path"):
        _http(f"{site}/good", json_path="a..b")
