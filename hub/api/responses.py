"""JSON answers in Home Assistant's shapes (`{"message": ...}` for messages) and request body parsing."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.core import HubError
from hub.jsonenc import dumps, loads

__all__ = ["BodyError", "json_body", "json_message", "json_response"]


class BodyError(HubError, ValueError):
    """A request body that is not the JSON asked for; the message is the client's answer."""


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type="application/json", headers=headers)


def json_message(message: str, status: int = 200) -> web.Response:
    return json_response({"message": message}, status)


async def json_body(request: web.Request, *, invalid: str, not_object: str) -> dict[str, Any] | None:
    """The body as a JSON object, None when empty; `BodyError(invalid | not_object)` otherwise.

    Reading a body larger than `hub.http.max_body_bytes` raises aiohttp's 413 before any parsing.
    """
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        # Bytes, not request.text(): a body that is not UTF-8 is invalid JSON (400), not a UnicodeDecodeError (500).
        data = loads(raw)
    except ValueError as err:
        raise BodyError(invalid) from err
    if not isinstance(data, dict):
        raise BodyError(not_object)
    return data
