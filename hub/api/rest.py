"""Home Assistant's REST API (`components/api`): states, events, services, config and the error log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.core import (
    EVENT_STATE_CHANGED,
    Context,
    Event,
    EventOrigin,
    InvalidEntityId,
    InvalidState,
    ServiceValidationError,
    State,
    valid_entity_id,
)

from .info import components, config_dict
from .keys import CONTROL, CORE, HUB_VERSION, LOG_BUFFER, TOKEN
from .responses import BodyError, json_body, json_message, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


def _context(request: web.Request) -> Context:
    """Changes made through the API carry the token's id as their user, as HA's carry the user's."""
    return Context(user_id=request[TOKEN].id)


@routes.get("/api/")
async def api_status(_request: web.Request) -> web.Response:
    return json_message("API running.")


@routes.get("/api/config")
async def get_config(request: web.Request) -> web.Response:
    app = request.app
    return json_response(config_dict(app[CORE], app[CONTROL], app[HUB_VERSION]))


@routes.get("/api/core/state")
async def core_state(request: web.Request) -> web.Response:
    return json_response({"state": request.app[CORE].lifecycle.state})


@routes.get("/api/components")
async def get_components(request: web.Request) -> web.Response:
    return json_response(components(request.app[CONTROL]))


@routes.get("/api/states")
async def get_states(request: web.Request) -> web.Response:
    """Every state; `filter_entity_id=a,b` narrows it to those entities (core#99101)."""
    states = request.app[CORE].states
    wanted = request.query.get("filter_entity_id")
    if wanted is None:
        found = states.all()
    else:
        found = [s for s in (states.get(e.strip()) for e in wanted.split(",") if e.strip()) if s is not None]
    return json_response([state.as_dict() for state in found])


@routes.get("/api/states/{entity_id}")
async def get_state(request: web.Request) -> web.Response:
    state = request.app[CORE].states.get(request.match_info["entity_id"])
    if state is None:
        return json_message("Entity not found.", 404)
    return json_response(state.as_dict())


@routes.post("/api/states/{entity_id}")
async def post_state(request: web.Request) -> web.Response:
    """Write a state: 201 when the entity is new, 200 when it existed; `Location` names it either way."""
    entity_id = request.match_info["entity_id"]
    try:
        data = await json_body(
            request, invalid="Invalid JSON specified.", not_object="State data should be a JSON object"
        )
    except BodyError as err:
        return json_message(str(err), 400)
    if data is None or data.get("state") is None:
        return json_message("No state specified.", 400)
    if not valid_entity_id(entity_id):
        return json_message("Invalid entity ID specified.", 400)
    new_state, attributes, force = data["state"], data.get("attributes"), data.get("force_update", False)
    if isinstance(new_state, dict | list) or not isinstance(attributes, dict | None) or not isinstance(force, bool):
        return json_message("Invalid state specified.", 400)
    states = request.app[CORE].states
    is_new = states.get(entity_id) is None
    try:
        states.set(entity_id, _state_text(new_state), attributes, force_update=force, context=_context(request))
    except InvalidEntityId:
        return json_message("Invalid entity ID specified.", 400)
    except InvalidState:
        return json_message("Invalid state specified.", 400)
    current = states.get(entity_id)
    assert current is not None
    return json_response(current.as_dict(), 201 if is_new else 200, {"Location": f"/api/states/{entity_id}"})


def _state_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@routes.delete("/api/states/{entity_id}")
async def delete_state(request: web.Request) -> web.Response:
    if request.app[CORE].states.remove(request.match_info["entity_id"], context=_context(request)):
        return json_message("Entity removed.")
    return json_message("Entity not found.", 404)


@routes.get("/api/events")
async def get_events(request: web.Request) -> web.Response:
    counts = request.app[CORE].bus.listener_counts()
    return json_response([{"event": event, "listener_count": count} for event, count in counts.items()])


@routes.post("/api/events/{event_type}")
async def post_event(request: web.Request) -> web.Response:
    event_type = request.match_info["event_type"]
    try:
        data = await json_body(
            request, invalid="Event data should be valid JSON.", not_object="Event data should be a JSON object"
        )
    except BodyError as err:
        return json_message(str(err), 400)
    if event_type == EVENT_STATE_CHANGED:
        # Listeners (recorder, MQTT, subscribe_entities) take state_changed to carry real states.
        return json_message("state_changed comes from state writes: POST /api/states/<entity_id> instead.", 400)
    request.app[CORE].bus.fire(event_type, data or {}, origin=EventOrigin.remote, context=_context(request))
    return json_message(f"Event {event_type} fired.")


@routes.get("/api/services")
async def get_services(request: web.Request) -> web.Response:
    return json_response(request.app[CORE].services.as_list())


@routes.post("/api/services/{domain}/{service}")
async def call_service(request: web.Request) -> web.Response:
    """Run a service to its end; answer the states it changed (`?return_response` adds its response)."""
    domain, service = request.match_info["domain"], request.match_info["service"]
    try:
        data = await json_body(request, invalid="Data should be valid JSON.", not_object="Data should be a JSON object")
    except BodyError as err:
        return json_message(str(err), 400)
    core = request.app[CORE]
    if not core.services.has(domain.lower(), service.lower()):
        return json_message(f"Service {domain}.{service} not found.", 400)
    context = _context(request)
    changed: list[State] = []

    def collect(event: Event[Any]) -> None:
        new_state = event.data.get("new_state")
        if event.context.id == context.id and new_state is not None:
            changed.append(new_state)

    undo = core.bus.listen(EVENT_STATE_CHANGED, collect)
    try:
        response = await core.services.call(domain, service, data, context=context)
    except ServiceValidationError as err:
        return json_message(str(err), 400)
    finally:
        undo()
    states = [state.as_dict() for state in changed]
    if "return_response" in request.query:
        return json_response({"changed_states": states, "service_response": response})
    return json_response(states)


@routes.get("/api/error_log")
async def error_log(request: web.Request) -> web.Response:
    return web.Response(text=request.app[LOG_BUFFER].text(), content_type="text/plain")
