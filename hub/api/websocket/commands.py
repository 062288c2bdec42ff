"""The WebSocket commands (HA `websocket_api/commands.py`): each a schema and a thin handler over the core."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from hub.control import HubControl
from hub.core import (
    EVENT_ENTITY_REGISTRY_UPDATED,
    EVENT_STATE_CHANGED,
    MATCH_ALL,
    Context,
    Core,
    Event,
    EventOrigin,
)
from hub.jsonenc import dumps

from ..checks import CheckEntities, check_entities, live_check
from ..info import config_dict
from . import messages as msgs
from .entities import ChangeFeed, EntityFilter, EntityStream
from .messages import EventEncoder
from .schema import Field, Schema

if TYPE_CHECKING:
    from .connection import ActiveConnection

__all__ = ["COMMANDS", "Handler", "Shared"]


@dataclass(frozen=True, slots=True)
class Shared:
    """What every command may use, handed to it by its connection (never the aiohttp app)."""

    core: Core
    control: HubControl
    hub_version: str
    event_encoder: EventEncoder
    change_feed: ChangeFeed


Handler = Callable[["ActiveConnection", dict[str, Any]], Awaitable[None] | None]

COMMANDS: dict[str, tuple[Handler, Schema]] = {}
"""Command type -> (handler, schema); the schema lists every key besides `id` and `type`."""

_FILTER = (dict,)
_NO_FIELDS: Final[Schema] = {}
_CHECKS_SETTLE: Final = 0.2
"""Seconds a burst of registry changes settles before a checks subscription gets the new list."""


def _command(name: str, schema: Schema = _NO_FIELDS) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (handler, schema)
        return handler

    return register


@_command("ping")
def _ping(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    conn.send(msgs.pong_message(msg["id"]))


@_command("supported_features", {"features": Field((dict,), required=True)})
def _supported_features(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    features: dict[str, Any] = msg["features"]
    conn.coalesce = bool(features.get("coalesce_messages"))
    conn.send(msgs.result_message(msg["id"]))


@_command("get_states")
def _get_states(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    states = conn.shared.core.states.all()
    conn.send(msgs.result_message(msg["id"], [state.as_dict() for state in states]))


@_command("get_config")
def _get_config(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    shared = conn.shared
    conn.send(msgs.result_message(msg["id"], config_dict(shared.core, shared.control, shared.hub_version)))


@_command("get_services")
def _get_services(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    services = {entry["domain"]: entry["services"] for entry in conn.shared.core.services.as_list()}
    conn.send(msgs.result_message(msg["id"], services))


@_command("subscribe_events", {"event_type": Field((str,))})
def _subscribe_events(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    msg_id: int = msg["id"]
    encoder = conn.shared.event_encoder

    def forward(event: Event[Any]) -> None:
        conn.send(msgs.event_message(msg_id, encoder.encode(event)))

    conn.subscriptions[msg_id] = conn.shared.core.bus.listen(msg.get("event_type", MATCH_ALL), forward)
    conn.send(msgs.result_message(msg_id))


@_command("unsubscribe_events", {"subscription": Field((int,), required=True)})
def _unsubscribe_events(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    """Ends any kind of subscription (home-assistant-js-websocket uses it for `subscribe_entities` too)."""
    unsubscribe = conn.subscriptions.pop(msg["subscription"], None)
    if unsubscribe is None:
        conn.send(msgs.error_message(msg["id"], msgs.ERR_NOT_FOUND, "Subscription not found."))
        return
    unsubscribe()
    conn.send(msgs.result_message(msg["id"]))


@_command(
    "subscribe_entities",
    {"entity_ids": Field((str, list), items=str), "include": Field(_FILTER), "exclude": Field(_FILTER)},
)
def _subscribe_entities(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    msg_id: int = msg["id"]
    core = conn.shared.core
    entity_ids = msg.get("entity_ids")
    if isinstance(entity_ids, str):
        entity_ids = [part.strip().lower() for part in entity_ids.split(",")]
    feed = conn.shared.change_feed
    stream = EntityStream(msg_id, EntityFilter(entity_ids, msg.get("include"), msg.get("exclude")), feed, conn.wake)
    # No await between the snapshot and the feed's cursor: no change can fall between them (HA does the same).
    feed.add(stream)
    conn.streams[msg_id] = stream

    def unsubscribe() -> None:
        feed.remove(stream)
        conn.streams.pop(msg_id, None)

    conn.subscriptions[msg_id] = unsubscribe
    conn.send(msgs.result_message(msg_id))
    conn.send(stream.initial(core.states.all()))


@_command("hub/checks/subscribe")
def _subscribe_checks(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every check's live state now (`{"checks": [...]}`), then each check again whenever one of its entities
    changes; the uptime figures stay with `GET /api/hub/checks`."""
    msg_id: int = msg["id"]
    core = conn.shared.core
    by_entity: dict[str, CheckEntities] = {}

    def index() -> list[CheckEntities]:
        found = check_entities(core, conn.shared.control.integrations())
        by_entity.clear()
        for check in found:
            for entity_id in (check.up, check.response_time, check.certificate):
                if entity_id is not None:
                    by_entity[entity_id] = check
        return found

    def send(checks: list[CheckEntities]) -> None:
        items = [live_check(core, check, public=False) for check in checks]
        conn.send(msgs.event_message(msg_id, dumps({"checks": items})))

    def changed(event: Event[Any]) -> None:
        check = by_entity.get(event.data["entity_id"])
        if check is not None:
            send([check])

    def structure_changed(_: Event[Any]) -> None:
        """Checks added or removed: the whole list again once the burst is over (a start adds thousands)."""
        if not pending:
            pending.append(asyncio.get_running_loop().call_later(_CHECKS_SETTLE, resend))

    def resend() -> None:
        pending.clear()
        send(index())

    pending: list[asyncio.TimerHandle] = []
    undo_states = core.bus.listen(EVENT_STATE_CHANGED, changed)
    undo_registry = core.bus.listen(EVENT_ENTITY_REGISTRY_UPDATED, structure_changed)

    def unsubscribe() -> None:
        undo_states()
        undo_registry()
        for handle in pending:
            handle.cancel()

    conn.subscriptions[msg_id] = unsubscribe
    conn.send(msgs.result_message(msg_id))
    send(index())


@_command(
    "call_service",
    {
        "domain": Field((str,), required=True),
        "service": Field((str,), required=True),
        "service_data": Field((dict,)),
        "target": Field((dict,)),
        "return_response": Field((bool,)),
    },
)
async def _call_service(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    data = {**msg.get("service_data", {}), **msg.get("target", {})}
    context = Context(user_id=conn.token.id)
    response = await conn.shared.core.services.call(msg["domain"], msg["service"], data, context=context)
    result: dict[str, Any] = {"context": context.as_dict()}
    if msg.get("return_response"):
        result["response"] = response
    conn.send(msgs.result_message(msg["id"], result))


@_command("fire_event", {"event_type": Field((str,), required=True), "event_data": Field((dict,))})
def _fire_event(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    if msg["event_type"] == EVENT_STATE_CHANGED:
        # As on REST: every state_changed listener (recorder, sinks, subscribe_entities) takes its data to hold
        # real states, and a client's junk one raised in each of them (tests/chaos/test_fuzz_websocket.py).
        message = "state_changed comes from state writes: POST /api/states/<entity_id> instead."
        conn.send(msgs.error_message(msg["id"], msgs.ERR_HOME_ASSISTANT_ERROR, message))
        return
    context = Context(user_id=conn.token.id)
    conn.shared.core.bus.fire(
        msg["event_type"], msg.get("event_data") or {}, origin=EventOrigin.remote, context=context
    )
    conn.send(msgs.result_message(msg["id"], {"context": context.as_dict()}))


@_command("config/entity_registry/list")
def _entity_registry(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    entries = [entry.as_dict() for entry in conn.shared.core.entities]
    conn.send(msgs.result_message(msg["id"], entries))


@_command("config/device_registry/list")
def _device_registry(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    devices = conn.shared.core.entities.devices().values()
    conn.send(msgs.result_message(msg["id"], [_device_dict(device) for device in devices]))


def _empty_list(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    """Registries we do not have: an empty answer keeps clients such as Node-RED's HA nodes working."""
    conn.send(msgs.result_message(msg["id"], []))


for _name in ("config/area_registry/list", "config/floor_registry/list", "config/label_registry/list"):
    _command(_name)(_empty_list)


@_command("auth/current_user")
def _current_user(conn: ActiveConnection, msg: dict[str, Any]) -> None:
    token = conn.token
    user = {
        "id": token.id,
        "name": token.name,
        "is_owner": True,
        "is_admin": True,
        "credentials": [],
        "mfa_modules": [],
    }
    conn.send(msgs.result_message(msg["id"], user))


def _device_dict(device: Any) -> dict[str, Any]:
    """HA's `config/device_registry/list` shape for one of our devices."""
    return {
        "area_id": None,
        "config_entries": [],
        "configuration_url": device.configuration_url,
        "connections": [],
        "disabled_by": None,
        "entry_type": None,
        "hw_version": None,
        "id": device.identifier,
        "identifiers": [["homelab_hub", device.identifier]],
        "labels": [],
        "manufacturer": device.manufacturer,
        "model": device.model,
        "name_by_user": None,
        "name": device.name,
        "serial_number": None,
        "sw_version": device.sw_version,
        "via_device_id": device.via_device,
    }
