"""`ActiveConnection`: one WebSocket client through auth, command dispatch and a conflating writer.

Outgoing messages are encoded strings in a bounded queue; `subscribe_entities` updates wait in their
stream, one per entity, so a slow reader costs memory in proportion to entities, not to changes. The writer
sends whatever is ready as one frame when the client enabled `coalesce_messages`, else one frame each.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections import deque
from collections.abc import Awaitable, Iterator
from typing import Any, Final

from aiohttp import WSCloseCode, WSMsgType, web

from hub.core import HubError, ServiceNotFound, ServiceValidationError, Unsubscribe, clock
from hub.jsonenc import dumps, loads
from hub.pacing import Pacer

from ..info import HA_VERSION
from ..keys import AUTH, CHANGE_FEED, CONNECTIONS, CONTROL, CORE, EVENT_ENCODER, HUB_VERSION, SETTINGS
from ..tokens import TokenRecord, TokenStore
from . import messages as msgs
from .commands import COMMANDS, Shared
from .entities import EntityStream
from .schema import Field, SchemaError, check

__all__ = ["AUTH_TIMEOUT", "ActiveConnection", "ConnectionSet", "handle_websocket"]

_LOGGER = logging.getLogger(__name__)

AUTH_TIMEOUT: Final = 10.0
"""Seconds a client has to send its `auth` message, as in Home Assistant."""
_CLOSE_TIMEOUT: Final = 5.0
_MAX_FRAME_MESSAGES: Final = 256
"""Messages per coalesced frame; HA's writer forces a flush at the same count."""
_AUTH_SCHEMA: Final = {
    "type": Field((str,), required=True),
    "access_token": Field((str,)),
    "api_password": Field((str,)),
}


class ConnectionSet:
    """The open connections, for shutdown, token revocation and `/metrics`."""

    def __init__(self) -> None:
        self._open: set[ActiveConnection] = set()
        self.disconnected_slow = 0

    def add(self, connection: ActiveConnection) -> None:
        self._open.add(connection)

    def discard(self, connection: ActiveConnection) -> None:
        self._open.discard(connection)

    def __iter__(self) -> Iterator[ActiveConnection]:
        return iter(list(self._open))

    def __len__(self) -> int:
        return len(self._open)

    async def close_all(self, code: WSCloseCode, reason: str) -> None:
        await asyncio.gather(*(connection.close(code, reason) for connection in self))

    async def close_revoked(self, tokens: TokenStore) -> None:
        await asyncio.gather(
            *(c.close(WSCloseCode.POLICY_VIOLATION, "Token revoked") for c in self if not tokens.is_valid(c.token))
        )


async def handle_websocket(request: web.Request) -> web.WebSocketResponse:
    """`GET /api/websocket`: the upgrade needs no token; the first message must carry one."""
    # No per-message compression: each frame would be compressed once per client, and the API serves a LAN.
    ws = web.WebSocketResponse(
        heartbeat=55, compress=False, timeout=_CLOSE_TIMEOUT, max_msg_size=request.app[SETTINGS].max_body_bytes
    )
    await ws.prepare(request)
    token = await _authenticate(request, ws)
    if token is None:
        await ws.close()
        return ws
    connection = ActiveConnection(request, ws, token)
    await connection.serve()
    return ws


async def _authenticate(request: web.Request, ws: web.WebSocketResponse) -> TokenRecord | None:
    await ws.send_str(dumps({"type": "auth_required", "ha_version": HA_VERSION}))
    address = request.remote or "unknown"
    try:
        message = await clock.wait_for(ws.receive(), AUTH_TIMEOUT)
    except TimeoutError:
        _LOGGER.info("Disconnected %s: Did not receive auth message within %.0f seconds", address, AUTH_TIMEOUT)
        return None
    if message.type is not WSMsgType.TEXT:
        return None
    try:
        data = loads(message.data)
        if not isinstance(data, dict):
            raise SchemaError(f"expected a dictionary. Got {_short(data)}")
        check(_AUTH_SCHEMA, data)
        if data["type"] != "auth":
            raise SchemaError(
                f"value must be one of ['auth'] for dictionary value @ data['type']. Got {data['type']!r}"
            )
        if "access_token" in data and "api_password" in data:
            raise SchemaError("two or more values in the same group of exclusion 'auth' @ data[<auth>]")
    except ValueError as err:
        if isinstance(err, json.JSONDecodeError):
            _LOGGER.info("Disconnected %s: Received invalid JSON during auth", address)
            return None
        await ws.send_str(dumps({"type": "auth_invalid", "message": f"Auth message incorrectly formatted: {err}"}))
        return None
    record = await request.app[AUTH].check(address, data.get("access_token") or "")
    if record is None:
        await ws.send_str(dumps({"type": "auth_invalid", "message": "Invalid access token or password"}))
        return None
    await ws.send_str(dumps({"type": "auth_ok", "ha_version": HA_VERSION}))
    return record


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ActiveConnection:
    """An authenticated client: its subscriptions, outgoing queue and writer task."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, token: TokenRecord) -> None:
        self.request = request
        self.ws = ws
        self.token = token
        app = request.app
        self.shared = Shared(app[CORE], app[CONTROL], app[HUB_VERSION], app[EVENT_ENCODER], app[CHANGE_FEED])
        """What the commands use: they are given it here, never the app."""
        settings = request.app[SETTINGS]
        self._max_pending = settings.ws_max_pending
        self._send_timeout = settings.ws_send_timeout.total_seconds()
        self.name = f"{request.remote} ({token.name}, {request.headers.get('User-Agent', 'no user agent')})"
        self.last_id = 0
        self.coalesce = False
        self.subscriptions: dict[int, Unsubscribe] = {}
        self.streams: dict[int, EntityStream] = {}
        self._queue: deque[str] = deque()
        self._pacer = Pacer()
        self._tasks: set[asyncio.Task[None]] = set()
        self._close_task: asyncio.Task[None] | None = None
        self._closing = False

    # lifetime

    async def serve(self) -> None:
        connections = self.request.app[CONNECTIONS]
        connections.add(self)
        writer = asyncio.get_running_loop().create_task(self._write_loop(), name=f"ws-writer {self.name}")
        try:
            await self._read_loop()
        finally:
            connections.discard(self)
            for unsubscribe in self.subscriptions.values():
                unsubscribe()
            self.subscriptions.clear()
            self.streams.clear()
            for task in (writer, *self._tasks):
                task.cancel()
            await asyncio.gather(writer, *self._tasks, return_exceptions=True)
            if self._close_task is not None:
                await self._close_task
            if not self.ws.closed:
                await self.close(WSCloseCode.OK, "")

    async def close(self, code: WSCloseCode, reason: str) -> None:
        """Send what is queued (`homeassistant_stop` on the way out), then close with `code`; a client that does
        not take them in time is cut off."""
        if self._closing:
            return
        self._closing = True
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                if code != WSCloseCode.POLICY_VIOLATION:  # a client cut off for falling behind gets no more
                    for frame in self._frames(self._take()):
                        await self.ws.send_str(frame)
                await self.ws.close(code=code, message=reason.encode(), drain=False)
        except (TimeoutError, ConnectionError):
            transport = self.request.transport
            if transport is not None:
                transport.abort()

    def _disconnect(self, code: WSCloseCode, reason: str) -> None:
        """Close from inside the connection (writer, send); `serve()` waits for it, never cancels it."""
        if self._close_task is None:
            loop = asyncio.get_running_loop()
            self._close_task = loop.create_task(self.close(code, reason), name=f"ws-close {self.name}")

    async def _read_loop(self) -> None:
        async for message in self.ws:
            if message.type is WSMsgType.TEXT:
                try:
                    payload = loads(message.data)
                except ValueError:
                    _LOGGER.info("Disconnected %s: Received invalid JSON", self.name)
                    return
                for item in payload if isinstance(payload, list) else (payload,):
                    self.handle(item)
            elif message.type is WSMsgType.BINARY:
                _LOGGER.info("Disconnected %s: Received non-Text message", self.name)
                return

    # sending

    def send(self, message: str) -> None:
        """Queue an encoded message; past the hard bound the client is disconnected, and that is logged."""
        if self._closing:
            return
        self._queue.append(message)
        if len(self._queue) > self._max_pending:
            self.request.app[CONNECTIONS].disconnected_slow += 1
            _LOGGER.warning(
                "Client %s unable to keep up with pending messages: reached %d; disconnecting",
                self.name,
                self._max_pending,
            )
            self._queue.clear()
            self._disconnect(WSCloseCode.POLICY_VIOLATION, "Too many pending messages")
            return
        self._pacer.wake()

    def wake(self) -> None:
        """An entity stream has updates."""
        self._pacer.wake()

    def backlog(self) -> int:
        return len(self._queue) + sum(len(stream) for stream in self.streams.values())

    def _take(self) -> list[str]:
        taken = list(self._queue)
        self._queue.clear()
        for stream in list(self.streams.values()):
            taken.extend(stream.flush())
        return taken

    def _frames(self, ready: list[str]) -> list[str]:
        if not self.coalesce:
            return ready
        return [
            ready[i] if len(ready) - i == 1 else "[" + ",".join(ready[i : i + _MAX_FRAME_MESSAGES]) + "]"
            for i in range(0, len(ready), _MAX_FRAME_MESSAGES)
        ]

    async def _write_loop(self) -> None:
        while True:
            # The rest of this loop turn's messages join the same frame, and at high rates those of the next turns
            # up to the pacing interval after the last frame: with 20 dashboards at 5,000 changes/s a frame per
            # burst was a fifth of the hub's CPU in sends, and as much again in the clients (bench/e2e/).
            await self._pacer.next()
            for frame in self._frames(self._take()):
                try:
                    async with asyncio.timeout(self._send_timeout):
                        await self.ws.send_str(frame)
                except TimeoutError:
                    self.request.app[CONNECTIONS].disconnected_slow += 1
                    _LOGGER.warning("Client %s read nothing for %g s; disconnecting", self.name, self._send_timeout)
                    self._disconnect(WSCloseCode.POLICY_VIOLATION, "Client too slow")
                    return
                except ConnectionError:
                    return

    # commands

    def handle(self, msg: Any) -> None:
        """Dispatch one command with HA's checks, in HA's order (ha-protocols 1.3)."""
        msg_id = msg.get("id") if isinstance(msg, dict) else 0
        msg_type = msg.get("type") if isinstance(msg, dict) else None
        if type(msg_id) is not int or msg_id <= 0 or not msg_type or type(msg_type) is not str:
            _LOGGER.debug("Received invalid command from %s: %s", self.name, _short(msg))
            self.send(msgs.error_message(msg_id, msgs.ERR_INVALID_FORMAT, "Message incorrectly formatted."))
            return
        if msg_id <= self.last_id:
            self.send(msgs.error_message(msg_id, msgs.ERR_ID_REUSE, "Identifier values have to increase."))
            return
        entry = COMMANDS.get(msg_type)
        if entry is None:
            _LOGGER.debug("Received unknown command %r from %s", msg_type, self.name)
            self.send(msgs.error_message(msg_id, msgs.ERR_UNKNOWN_COMMAND, "Unknown command."))
            return
        handler, schema = entry
        try:
            check(schema, msg)
            result = handler(self, msg)
        except Exception as err:
            self.send_exception(msg_id, err)
        else:
            if inspect.isawaitable(result):
                task = asyncio.get_running_loop().create_task(self._run(msg_id, result), name=f"ws {msg_type}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        self.last_id = msg_id

    async def _run(self, msg_id: int, awaitable: Awaitable[None]) -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self.send_exception(msg_id, err)

    def send_exception(self, msg_id: int, err: Exception) -> None:
        """Map a handler's error to HA's error codes; anything unexpected is logged and answered generically."""
        if isinstance(err, ServiceNotFound):
            self.send(
                msgs.error_message(
                    msg_id,
                    msgs.ERR_NOT_FOUND,
                    f"Service {err.domain}.{err.service} not found.",
                    translation_key="service_not_found",
                    translation_placeholders={"domain": err.domain, "service": err.service},
                    translation_domain="homeassistant",
                )
            )
        elif isinstance(err, SchemaError):
            self.send(msgs.error_message(msg_id, msgs.ERR_INVALID_FORMAT, str(err)))
        elif isinstance(err, ServiceValidationError):
            self.send(msgs.error_message(msg_id, msgs.ERR_SERVICE_VALIDATION_ERROR, f"Validation error: {err}"))
        elif isinstance(err, TimeoutError):
            self.send(msgs.error_message(msg_id, msgs.ERR_TIMEOUT, "Timeout"))
        elif isinstance(err, HubError):
            self.send(msgs.error_message(msg_id, msgs.ERR_HOME_ASSISTANT_ERROR, str(err)))
        else:
            _LOGGER.exception("Error handling message %d from %s", msg_id, self.name, exc_info=err)
            self.send(msgs.error_message(msg_id, msgs.ERR_UNKNOWN_ERROR, "Unknown error"))
