"""Tokens, bans and the one-time login link, against the running app and the token file."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from hub.api.keys import AUTH
from hub.api.tokens import TokenError, TokenStore
from hub.core.clock import FakeClock
from tests.api.apitools import Api, WsClient


async def test_five_wrong_tokens_in_a_minute_ban_the_address(
    api: Api, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "hub.api")
    for _ in range(4):
        assert (await api.request("GET", "/api/", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await api.request("GET", "/api/")).status == 200  # a right token does not reset the count
    assert (await api.request("GET", "/api/", headers={"Authorization": "Bearer wrong"})).status == 401
    response = await api.request("GET", "/api/")
    assert response.status == 403
    assert (await api.session.get(api.url + "/api/hub/health")).status == 403
    bans = [r for r in caplog.records if r.getMessage().startswith("Banned 127.0.0.1")]
    assert len(bans) == 1
    assert "wrong" not in caplog.text
    assert api.token not in caplog.text
    await fake_clock.advance(30 * 60 + 1)
    assert (await api.request("GET", "/api/")).status == 200


async def test_failures_spread_over_more_than_a_minute_do_not_ban(api: Api, fake_clock: FakeClock) -> None:
    for _ in range(8):
        assert (await api.request("GET", "/api/", headers={"Authorization": "Bearer wrong"})).status == 401
        await fake_clock.advance(16)
    assert (await api.request("GET", "/api/")).status == 200


async def test_missing_header_is_not_a_failed_login(api: Api) -> None:
    for _ in range(10):
        assert (await api.request("GET", "/api/", headers={})).status == 401
    assert (await api.request("GET", "/api/")).status == 200


async def test_websocket_wrong_tokens_ban_too(fake_clock: FakeClock, api: Api) -> None:
    for _ in range(5):
        client = WsClient(await api.session.ws_connect(api.ws_url))
        await client.receive()
        await client.send({"type": "auth", "access_token": "wrong"})
        assert (await client.receive())["type"] == "auth_invalid"
        await client.ws.close()
    response = await api.session.get(api.ws_url.replace("ws://", "http://"))
    assert response.status == 403


def test_token_store_keeps_only_hashes(tmp_path: Path) -> None:
    store = TokenStore.in_dir(tmp_path / "data")
    token = store.create("laptop")
    store.save()
    path = tmp_path / "data" / "auth_tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in path.read_text()
    saved = json.loads(path.read_text())["tokens"][0]
    assert saved["name"] == "laptop"
    assert set(saved) == {"id", "name", "hash", "created", "last_used"}
    again = TokenStore.in_dir(tmp_path / "data")
    record = again.verify(token)
    assert record is not None
    assert record.name == "laptop"
    assert record.last_used is not None
    assert again.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    with pytest.raises(TokenError, match="exists"):
        again.create("laptop")
    again.revoke("laptop")
    with pytest.raises(TokenError, match="No token"):
        again.revoke("laptop")
    assert again.verify(token) is None


def test_unreadable_token_file_is_a_token_error(tmp_path: Path) -> None:
    (tmp_path / "auth_tokens.json").write_text("{not json")
    with pytest.raises(TokenError, match="Cannot read"):
        TokenStore.in_dir(tmp_path)


async def test_login_code_is_single_use(api: Api) -> None:
    auth = api.app[AUTH]
    code = auth.new_login_code()
    url = api.url + "/api/hub/auth/redeem"
    response = await api.session.post(url, json={"code": code})
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "Bearer"
    token = body["access_token"]
    assert (await api.session.get(api.url + "/api/", headers={"Authorization": f"Bearer {token}"})).status == 200
    assert "dashboard" in [record.name for record in TokenStore.in_dir(api.tokens.path.parent).records()]
    again = await api.session.post(url, json={"code": code})
    assert again.status == 401
    assert (await api.session.post(url, json={})).status == 400
