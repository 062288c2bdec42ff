"""Helpers of the API tests: a hub control double, a recording history reader and the running `Api`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.api.tokens import TokenStore
from hub.config.models import HttpConfig
from hub.control import HistoryReader, UnknownIntegration
from hub.core import Core
from hub.health import HealthRegistry


@dataclass
class RecordingHistory:
    """A recorder reader that answers from what it was given and records each question."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[dict[str, Any]]] = field(default_factory=list)

    async def history_period(
        self,
        start: datetime,
        end: datetime,
        filters: Sequence[str],
        *,
        minimal_response: bool,
        no_attributes: bool,
        skip_initial_state: bool,
        significant_changes_only: bool,
    ) -> list[list[dict[str, Any]]]:
        self.calls.append(
            {
                "start": start,
                "end": end,
                "filters": list(filters),
                "minimal_response": minimal_response,
                "no_attributes": no_attributes,
                "skip_initial_state": skip_initial_state,
                "significant_changes_only": significant_changes_only,
            }
        )
        return self.rows

    async def statistics(
        self, statistic_ids: Sequence[str], period: str, start: datetime, end: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        self.calls.append({"statistic_ids": list(statistic_ids), "period": period, "start": start, "end": end})
        return {sid: [{"start": start.isoformat(), "mean": 1.0}] for sid in statistic_ids}


class Control:
    """The HubControl side of the hub runtime: integrations, poll requests and reloads, as data."""

    def __init__(self) -> None:
        self.health = HealthRegistry()
        self.history: HistoryReader | None = None
        self.polled: list[str] = []
        self.reload_result: list[str] | Exception = ["started x"]
        self.alerts: list[dict[str, Any]] = []
        self.health.create("system_info", "integration")

    def integrations(self) -> list[dict[str, Any]]:
        return [{"id": "system_info", "platform": "system_info", "health": self.health.get("system_info").as_dict()}]  # type: ignore[union-attr]

    def alert_states(self) -> list[dict[str, Any]]:
        return self.alerts

    async def poll_now(self, integration_id: str) -> None:
        if integration_id != "system_info":
            raise UnknownIntegration(integration_id)
        self.polled.append(integration_id)

    async def reload(self) -> list[str]:
        if isinstance(self.reload_result, Exception):
            raise self.reload_result
        return self.reload_result


@dataclass
class Api:
    """One running API: its core, control, token, base URL and a session that sends the token."""

    core: Core
    control: Control
    tokens: TokenStore
    token: str
    server: TestServer
    session: aiohttp.ClientSession
    app: web.Application

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/websocket"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        kwargs.setdefault("headers", self.headers)
        return await self.session.request(method, self.url + path, **kwargs)


def settings_for(tmp_path: Path, **overrides: Any) -> HttpConfig:
    www = tmp_path / "www"
    www.mkdir(exist_ok=True)
    return HttpConfig(host="127.0.0.1", port=8130, www_dir=www, **overrides)


class WsClient:
    """A raw WebSocket client of the API that flattens coalesced frames into single messages."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._pending: list[Any] = []
        self.frames: list[Any] = []

    async def send(self, message: Any) -> None:
        await self.ws.send_json(message)

    async def frame(self, timeout: float = 5.0) -> Any:
        raw = await self.ws.receive(timeout=timeout)
        assert raw.type is aiohttp.WSMsgType.TEXT, raw
        data = json.loads(raw.data)
        self.frames.append(data)
        return data

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        if not self._pending:
            data = await self.frame(timeout)
            self._pending = data if isinstance(data, list) else [data]
        return self._pending.pop(0)  # type: ignore[no-any-return]

    async def command(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.send(message)
        return await self.receive()


async def ws_login(api: Api) -> WsClient:
    ws = await api.session.ws_connect(api.ws_url)
    client = WsClient(ws)
    assert await client.receive() == {"type": "auth_required", "ha_version": "2024.3.3"}
    await client.send({"type": "auth", "access_token": api.token})
    assert await client.receive() == {"type": "auth_ok", "ha_version": "2024.3.3"}
    return client


def apply_entity_event(entities: dict[str, dict[str, Any]], event: dict[str, Any]) -> None:
    """Apply a `subscribe_entities` event as home-assistant-js-websocket's `processEvent` does."""
    for entity_id, full in event.get("a", {}).items():
        entities[entity_id] = {"s": full["s"], "a": dict(full["a"])}
    for entity_id in event.get("r", []):
        entities.pop(entity_id, None)
    for entity_id, diff in event.get("c", {}).items():
        entity = entities[entity_id]
        plus = diff.get("+", {})
        if "s" in plus:
            entity["s"] = plus["s"]
        entity["a"].update(plus.get("a", {}))
        for key in diff.get("-", {}).get("a", []):
            entity["a"].pop(key, None)
