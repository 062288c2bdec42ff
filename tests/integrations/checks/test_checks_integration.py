"""The checks integration in a running hub: one device per check, its entities and attributes, retries, spread
first attempts, and config errors with file, line and key."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from hub.api.tokens import TokenStore
from hub.config import ConfigErrors, load_config
from hub.runtime import Hub
from integrations.checks import Checks
from integrations.checks.config import ChecksConfig
from integrations.checks.integration import first_delay
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

AVAILABLE = {"checks": Checks}


async def _jellyfin(_request: web.Request) -> web.Response:
    return web.Response(text="Jellyfin is up")


@pytest.fixture
async def site() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/", _jellyfin)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


def _config(tmp_path: Path, checks: str) -> Path:
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: t\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: checks\n    checks:\n{checks}"
    )
    return tmp_path


async def test_checks_become_entities_of_their_own_devices(tmp_path: Path, site: int) -> None:
    closed = free_port()
    config = _config(
        tmp_path,
        f"      - {{kind: http, name: jellyfin, url: 'http://127.0.0.1:{site}/', keyword: Jellyfin,"
        " interval: 1s, timeout: 500ms}\n"
        f"      - {{kind: tcp, name: db, host: 127.0.0.1, port: {closed}, interval: 1s, timeout: 500ms, retries: 2}}\n"
        "      - {kind: ping, name: loopback, host: 127.0.0.1, count: 1, interval: 1s, timeout: 500ms}\n",
    )
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("test")
    tokens.save()
    loaded = load_config(config, AVAILABLE)
    http_port = loaded.hub.http.port
    hub = Hub(loaded, AVAILABLE)
    async with hub.lifespan():
        states = hub.core.states
        up = await eventually(lambda: states.get("binary_sensor.t_check_jellyfin"), 5, "the jellyfin check")
        assert up.state == "on"
        assert up.attributes["device_class"] == "connectivity"
        assert up.attributes["reason"] == "HTTP 200"
        assert up.attributes["last_error"] is None
        assert up.attributes["target"] == f"http://127.0.0.1:{site}/"
        response = states.get("sensor.t_check_jellyfin_response_time")
        assert response is not None
        assert 0 < float(response.state) < 500
        assert response.attributes["unit_of_measurement"] == "ms"
        down = await eventually(lambda: states.get("binary_sensor.t_check_db"), 5, "the db check")
        assert down.state == "off"
        assert down.attributes["attempts"] == 3  # the first try and two retries
        assert down.attributes["last_error"] == down.attributes["reason"]
        assert states.get("sensor.t_check_db_response_time").state == "unknown"  # type: ignore[union-attr]
        entry = hub.core.entities.get("binary_sensor.t_check_jellyfin")
        assert entry is not None
        assert (entry.device.identifier, entry.device.name, entry.device.model) == (
            "t_check_jellyfin",
            "jellyfin",
            "http check",
        )
        assert hub.core.entities.get("sensor.t_check_jellyfin_certificate_days") is None  # TLS checks only
        ping = await eventually(lambda: states.get("binary_sensor.t_check_loopback"), 5, "the ping check")
        assert (ping.state, ping.attributes["reason"]) == ("on", "1 of 1 answered (0 % loss)")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{http_port}/metrics", headers={"Authorization": f"Bearer {token}"}) as got,
        ):
            metrics = await got.text()
        labels = (
            f'{{monitor_name="jellyfin",monitor_type="http",monitor_url="http://127.0.0.1:{site}/",'
            'monitor_hostname="null",monitor_port="null"}'
        )
        assert f"monitor_status{labels} 1" in metrics
        # A number of ms (checks go on meanwhile, so not necessarily the value read above).
        timing = re.search(rf"^monitor_response_time{re.escape(labels)} ([0-9.]+)$", metrics, re.M)
        assert timing is not None
        assert 0 < float(timing.group(1)) < 500
        db = 'monitor_name="db",monitor_type="port",monitor_url="null",monitor_hostname="127.0.0.1"'
        assert f'monitor_status{{{db},monitor_port="{closed}"}} 0' in metrics
    promtool = shutil.which("promtool")  # scripts/test installs it (Debian prometheus)
    assert promtool is not None
    checked = await asyncio.to_thread(
        subprocess.run, [promtool, "check", "metrics"], input=metrics, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_first_attempts_are_spread_over_the_interval() -> None:
    config = ChecksConfig.model_validate(
        {"checks": [{"kind": "tcp", "name": f"c{n}", "host": "h", "port": 1} for n in range(200)]}
    )
    delays = sorted(first_delay(check) for check in config.checks)
    assert all(0 <= delay < 60 for delay in delays)
    per_ten_seconds = [sum(1 for d in delays if start <= d < start + 10) for start in range(0, 60, 10)]
    assert max(per_ten_seconds) < 2 * 200 / 6, per_ten_seconds  # no stretch gets twice its share
    assert first_delay(config.checks[0]) == first_delay(config.checks[0])  # stable across restarts


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "      - {kind: http, name: web, url: 'ftp://x'}\n"
        "      - {kind: tcp, name: db, host: h, port: 1, timeout: 2m}\n"
        "      - {kind: gopher, name: old, host: h}\n",
    )
    with pytest.raises(ConfigErrors) as caught:
        load_config(config, AVAILABLE)
    assert [str(error).removeprefix(f"{tmp_path}/") for error in caught.value.errors] == [
        "hub.yaml:8 integrations[0].checks[0].url: expected a URL starting with http:// or https://",
        "hub.yaml:9 integrations[0].checks[1].timeout: must be shorter than interval (60s), got 120s",
        "hub.yaml:10 integrations[0].checks[2]: unknown kind 'gopher': "
        "expected one of 'http', 'tcp', 'tls', 'dns', 'ping', 'push'",
    ]
    config = _config(
        tmp_path, "      - {kind: tcp, name: db, host: h, port: 1}\n      - {kind: tcp, name: db, host: i, port: 2}\n"
    )
    with pytest.raises(ConfigErrors, match="two checks are named 'db'"):
        load_config(config, AVAILABLE)
    config = _config(tmp_path, "      - {kind: push, name: cron, token: short}\n")
    with pytest.raises(ConfigErrors, match=r"checks\[0\]\.token: expected at least 12 letters"):
        load_config(config, AVAILABLE)


async def test_https_checks_show_their_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", common_name="nas.lab").configure_cert(context)
    app = web.Application()
    app.router.add_get("/", _jellyfin)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    config = _config(
        tmp_path,
        f"      - {{kind: http, name: trusted, url: 'https://127.0.0.1:{port}/', ca_file: '{ca_file}',"
        " interval: 1s, timeout: 500ms}\n"
        f"      - {{kind: http, name: lax, url: 'https://127.0.0.1:{port}/', verify_tls: false,"
        " interval: 1s, timeout: 500ms}\n",
    )
    hub = Hub(load_config(config, AVAILABLE), AVAILABLE)
    try:
        async with hub.lifespan():
            states = hub.core.states
            trusted = await eventually(lambda: states.get("sensor.t_check_trusted_certificate_days"), 5, "trusted")
            lax = await eventually(lambda: states.get("sensor.t_check_lax_certificate_days"), 5, "lax")
            assert states.get("binary_sensor.t_check_trusted").state == "on"  # type: ignore[union-attr]
            assert states.get("binary_sensor.t_check_lax").state == "on"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()
    assert int(trusted.state) > 300  # trustme's leaf certificates last years
    assert trusted.attributes["valid"] is True
    assert "nas.lab" in trusted.attributes["subject"]
    assert lax.attributes["valid"] is False
    assert lax.attributes["problem"].endswith("(accepted: verify_tls is false)")
