"""`make_app`: the API's aiohttp application, and `serve_api`, its lifetime as one part of the hub."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from importlib.resources import files
from typing import Final

from aiohttp import WSCloseCode, web

from hub.config.models import HttpConfig, HubSection
from hub.control import HubControl
from hub.core import Core, clock

from . import checks, control_routes, history, metrics, push, rest
from .auth import Authenticator
from .counters import ApiCounters
from .error_log import SECRET_RECORD, LogBuffer
from .keys import (
    AUTH,
    CHANGE_FEED,
    CONNECTIONS,
    CONTROL,
    CORE,
    COUNTERS,
    EVENT_ENCODER,
    HUB_VERSION,
    LOG_BUFFER,
    SETTINGS,
)
from .middleware import auth_middleware
from .static import DEFAULT_WWW_DIR, add_static_routes
from .tokens import TokenError, TokenStore
from .websocket.connection import ConnectionSet, handle_websocket
from .websocket.entities import ChangeFeed
from .websocket.messages import EventEncoder

__all__ = ["TOKEN_SYNC_INTERVAL", "make_app", "serve_api"]

_LOGGER = logging.getLogger(__name__)

TOKEN_SYNC_INTERVAL: Final = 2.0
"""Seconds between token file syncs: tokens made or revoked with the CLI take effect within this."""


def make_app(
    core: Core, control: HubControl, settings: HttpConfig, tokens: TokenStore, *, hub_version: str
) -> web.Application:
    """The whole API: REST, WebSocket, /metrics and the dashboard, over the given core and hub control."""
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[auth_middleware])
    app[CORE] = core
    app[CONTROL] = control
    app[SETTINGS] = settings
    app[AUTH] = Authenticator(tokens, settings)
    app[CONNECTIONS] = ConnectionSet()
    app[COUNTERS] = ApiCounters()
    app[LOG_BUFFER] = LogBuffer()
    app[HUB_VERSION] = hub_version
    app[CHANGE_FEED] = ChangeFeed(core.bus)
    app[EVENT_ENCODER] = EventEncoder()
    app.cleanup_ctx.append(_listeners)
    app.cleanup_ctx.append(_token_sync)
    app.on_shutdown.append(_close_websockets)
    for table in (rest.routes, history.routes, control_routes.routes, metrics.routes, push.routes, checks.routes):
        app.router.add_routes(table)
    app.router.add_get("/api/websocket", handle_websocket)
    app.router.add_get("/api/openapi.json", _openapi)
    add_static_routes(app, settings.www_dir or DEFAULT_WWW_DIR)
    return app


async def _listeners(app: web.Application) -> AsyncIterator[None]:
    undo = app[COUNTERS].listen(app[CORE].bus)
    root = logging.getLogger()
    root.addHandler(app[LOG_BUFFER])
    yield
    root.removeHandler(app[LOG_BUFFER])
    undo()


async def _token_sync(app: web.Application) -> AsyncIterator[None]:
    """Write last-use times and pick up tokens the CLI changed; close the sockets of revoked tokens."""

    async def loop() -> None:
        failing = False
        while True:
            await clock.sleep(TOKEN_SYNC_INTERVAL)
            try:
                if await app[AUTH].persist():
                    await app[CONNECTIONS].close_revoked(app[AUTH].tokens)
            except TokenError as err:
                if not failing:
                    _LOGGER.error("%s", err)
                failing = True
            else:
                if failing:
                    _LOGGER.info("Token file readable and writable again")
                failing = False

    task = asyncio.get_running_loop().create_task(loop(), name="api token sync")
    yield
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    with suppress(TokenError):
        await app[AUTH].persist()


async def _close_websockets(app: web.Application) -> None:
    await app[CONNECTIONS].close_all(WSCloseCode.GOING_AWAY, "Hub shutting down")


async def _openapi(_request: web.Request) -> web.Response:
    text = await asyncio.to_thread(files(__package__).joinpath("openapi.json").read_text, "utf-8")
    return web.Response(text=text, content_type="application/json")


@asynccontextmanager
async def serve_api(
    core: Core, control: HubControl, hub: HubSection, *, hub_version: str
) -> AsyncIterator[web.Application]:
    """Listen on `hub.http` until the block ends; on a first start with no token, log the one-time login link."""
    tokens = await asyncio.to_thread(TokenStore.in_dir, hub.data_dir.absolute())
    settings = hub.http
    app = make_app(core, control, settings, tokens, hub_version=hub_version)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        _LOGGER.info("API listening on http://%s:%d", settings.host, settings.port)
        if not len(tokens):
            _log_login_link(app, settings)
        yield app
    finally:
        await runner.cleanup()


def _log_login_link(app: web.Application, settings: HttpConfig) -> None:
    """The link's code is single-use and kept only hashed: this log line is the one place it appears."""
    code = app[AUTH].new_login_code()
    host = socket.gethostname() if settings.host in ("0.0.0.0", "::", "") else settings.host
    _LOGGER.warning(
        "No API token exists yet. Open http://%s:%d/#token=%s once to log in the dashboard (the link works once), "
        "or create a token with: homelab-hub token create NAME",
        host,
        settings.port,
        code,
        extra={SECRET_RECORD: True},
    )
