"""The WebSocket API's server messages and the `subscribe_entities` compressed state diffs (HA `messages.py`)."""

from __future__ import annotations

from typing import Any, Final

from hub.core import Event, State
from hub.jsonenc import dumps

__all__ = [
    "ERR_HOME_ASSISTANT_ERROR",
    "ERR_ID_REUSE",
    "ERR_INVALID_FORMAT",
    "ERR_NOT_FOUND",
    "ERR_SERVICE_VALIDATION_ERROR",
    "ERR_TIMEOUT",
    "ERR_UNKNOWN_COMMAND",
    "ERR_UNKNOWN_ERROR",
    "EventEncoder",
    "compressed_diff",
    "error_message",
    "event_message",
    "pong_message",
    "result_message",
]

ERR_ID_REUSE: Final = "id_reuse"
ERR_INVALID_FORMAT: Final = "invalid_format"
ERR_NOT_FOUND: Final = "not_found"
ERR_HOME_ASSISTANT_ERROR: Final = "home_assistant_error"
ERR_SERVICE_VALIDATION_ERROR: Final = "service_validation_error"
ERR_UNKNOWN_COMMAND: Final = "unknown_command"
ERR_UNKNOWN_ERROR: Final = "unknown_error"
ERR_TIMEOUT: Final = "timeout"


def result_message(msg_id: int, result: Any = None) -> str:
    return dumps({"id": msg_id, "type": "result", "success": True, "result": result})


def error_message(msg_id: int | None, code: str, message: str, **translation: Any) -> str:
    """A failed result; `translation` adds HA's translation_key/_domain/_placeholders when given."""
    error: dict[str, Any] = {"code": code, "message": message, **translation}
    return dumps({"id": msg_id, "type": "result", "success": False, "error": error})


def event_message(msg_id: int, event_json: str) -> str:
    """An event for subscription `msg_id`, around an event body that was encoded once for all clients."""
    return f'{{"id":{msg_id},"type":"event","event":{event_json}}}'


def pong_message(msg_id: int) -> str:
    return f'{{"id":{msg_id},"type":"pong"}}'


def compressed_diff(old: State, new: State) -> dict[str, Any]:
    """What changed from `old` to `new`, as `{"+": {...}, "-": {"a": [...]}}` exactly as HA sends it."""
    additions: dict[str, Any] = {}
    if old.state != new.state:
        additions["s"] = new.state
    if old.last_changed != new.last_changed:
        additions["lc"] = new.last_changed.timestamp()
    elif old.last_updated != new.last_updated:
        additions["lu"] = new.last_updated.timestamp()
    old_ctx, new_ctx = old.context, new.context
    if old_ctx != new_ctx:
        if old_ctx.parent_id == new_ctx.parent_id and old_ctx.user_id == new_ctx.user_id:
            additions["c"] = new_ctx.id
        else:
            additions["c"] = {key: value for key, value in new_ctx.as_dict().items() if old_ctx.as_dict()[key] != value}
    old_attrs, new_attrs = old.attributes, new.attributes
    if old_attrs != new_attrs:
        changed = {key: value for key, value in new_attrs.items() if old_attrs.get(key) != value}
        if changed:
            additions["a"] = changed
        removed = [key for key in old_attrs if key not in new_attrs]
        diff: dict[str, Any] = {"+": additions}
        if removed:
            diff["-"] = {"a": removed}
        return diff
    return {"+": additions}


class EventEncoder:
    """Encodes each event's body once, however many subscriptions receive it.

    The bus hands one event object to every listener in turn, so remembering the last one is enough.
    """

    def __init__(self) -> None:
        self._event: Event[Any] | None = None
        self._json = ""

    def encode(self, event: Event[Any]) -> str:
        if event is not self._event:
            self._event = event
            self._json = dumps(event.as_dict())
        return self._json
