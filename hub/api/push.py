"""`/api/push/<token>`: Uptime Kuma's push URL, so scripts and cron jobs written for it work unchanged.

`GET` or `POST /api/push/<token>?status=up|down&msg=...&ping=...` hands the heartbeat to the `checks.push`
service; the token in the path is its only credential (no bearer: middleware.py makes the path public), so a
wrong one counts as a failed login and repeated ones ban the address, as wrong bearer tokens do. Answers are Uptime
Kuma's: `{"ok": true}`, or 404 `{"ok": false, "msg": "Monitor not found or not active."}`.
"""

from __future__ import annotations

from aiohttp import web

from hub.core import ServiceNotFound, ServiceValidationError

from .keys import AUTH, CORE
from .responses import json_response

__all__ = ["routes"]

routes = web.RouteTableDef()

_NOT_FOUND = {"ok": False, "msg": "Monitor not found or not active."}


@routes.get("/api/push/{token}")
@routes.post("/api/push/{token}")
async def push(request: web.Request) -> web.Response:
    query = request.query
    status = query.get("status", "up")
    if status not in ("up", "down"):
        return json_response({"ok": False, "msg": "status must be up or down"}, 400)
    data = {"token": request.match_info["token"], "status": status}
    for key in ("msg", "ping"):
        if key in query:
            data[key] = query[key]
    try:
        await request.app[CORE].services.call("checks", "push", data)
    except ServiceNotFound:
        return json_response(_NOT_FOUND, 404)
    except ServiceValidationError:  # with a valid status, the one thing the service refuses is the token
        request.app[AUTH].guard.failure(request.remote or "unknown", "invalid push token")
        return json_response(_NOT_FOUND, 404)
    return json_response({"ok": True})
