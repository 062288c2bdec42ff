"""The API's middleware: banned addresses refused, bearer tokens required, a part that is down answered with 503,
answers counted."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from hub.core import Unavailable

from .auth import bearer_token
from .keys import AUTH, COUNTERS, SETTINGS, TOKEN
from .responses import json_message

__all__ = ["auth_middleware"]

_PUBLIC_PATHS = frozenset({"/api/websocket", "/api/hub/health", "/api/hub/auth/redeem"})
"""Paths under /api/ that take no bearer token: the WebSocket (it authenticates in its first message), liveness,
and the exchange of the one-time login code."""
_PUBLIC_PREFIXES = ("/api/push/", "/api/status/")
"""Push URLs (push.py): the token in the path is their credential; status pages (checks.py): public by config."""


def _needs_token(request: web.Request) -> bool:
    """The one place that says which requests need a bearer token."""
    path = request.path
    if path == "/metrics":
        return not request.app[SETTINGS].metrics_public
    return path.startswith("/api") and path not in _PUBLIC_PATHS and not path.startswith(_PUBLIC_PREFIXES)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HA's answers: 403 for a banned address, 401 `401: Unauthorized` (text/plain) without a valid token.

    Only a token that was presented and is wrong counts as a failed login: a missing header is a client that
    has not logged in yet, not someone guessing.
    """
    auth = request.app[AUTH]
    address = request.remote or "unknown"
    counters = request.app[COUNTERS]
    if auth.guard.is_banned(address):
        counters.answered(403)
        raise web.HTTPForbidden()
    if _needs_token(request):
        token = bearer_token(request.headers.get("Authorization"))
        record = await auth.check(address, token) if token else None
        if record is None:
            counters.answered(401)
            raise web.HTTPUnauthorized()
        request[TOKEN] = record
    try:
        response = await handler(request)
    except web.HTTPException as err:
        counters.answered(err.status)
        raise
    except Unavailable as err:  # HA answers a request it cannot serve now the same way: 503 and a message
        response = json_message(str(err), 503)
    counters.answered(response.status)
    return response
