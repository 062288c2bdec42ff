"""Our own endpoints under `/api/hub/`: liveness, integrations and their health, alerts, poll now, reload, login."""

from __future__ import annotations

from aiohttp import web

from hub.config import ConfigErrors
from hub.control import UnknownAlert, UnknownIntegration

from .keys import AUTH, CONTROL, CORE
from .responses import BodyError, json_body, json_message, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/api/hub/health")
async def health(request: web.Request) -> web.Response:
    """Liveness for the container HEALTHCHECK (no token): the API answers, and the hub's run state."""
    return json_response({"status": "ok", "state": request.app[CORE].lifecycle.state})


@routes.get("/api/hub/integrations")
async def integrations(request: web.Request) -> web.Response:
    """Each integration, then each running sink (kind "sink": no settings, only its health)."""
    control = request.app[CONTROL]
    sinks = [
        {"id": part.name, "kind": "sink", "health": part.as_dict()} for part in control.health if part.kind == "sink"
    ]
    return json_response(control.integrations() + sinks)


@routes.get("/api/hub/alerts")
async def alerts(request: web.Request) -> web.Response:
    """Each alert rule's state: firing or not, which entities fire it, when it last fired and cleared."""
    return json_response(request.app[CONTROL].alert_states())


@routes.post("/api/hub/alerts/{name}/test")
async def test_alert(request: web.Request) -> web.Response:
    """Run a rule's on_fire actions once (status `test`), to see its notifications arrive."""
    name = request.match_info["name"]
    try:
        count = request.app[CONTROL].test_alert(name)
    except UnknownAlert:
        return json_message(f"No alert rule named {name!r}.", 404)
    return json_response({"message": f"Alert {name} test-fired: {count} action(s) started.", "actions": count})


@routes.get("/api/hub/parts")
async def parts(request: web.Request) -> web.Response:
    """The health of every integration and sink."""
    return json_response([health.as_dict() for health in request.app[CONTROL].health])


@routes.post("/api/hub/integrations/{integration_id}/poll")
async def poll_now(request: web.Request) -> web.Response:
    integration_id = request.match_info["integration_id"]
    try:
        await request.app[CONTROL].poll_now(integration_id)
    except UnknownIntegration:
        return json_message(f"No running polling integration {integration_id!r}.", 404)
    return json_message(f"Poll of {integration_id} requested.")


@routes.post("/api/hub/reload")
async def reload(request: web.Request) -> web.Response:
    """Re-read the config; a config with errors is refused and the running one kept."""
    try:
        changes = await request.app[CONTROL].reload()
    except ConfigErrors as errors:
        return json_response(
            {"message": "Invalid config; the running one is kept.", "errors": [str(e) for e in errors.errors]}, 400
        )
    return json_response({"changes": changes})


@routes.post("/api/hub/auth/redeem")
async def redeem(request: web.Request) -> web.Response:
    """Exchange the first start's one-time login code for a long-lived token (the dashboard's `#token=`)."""
    try:
        body = await json_body(request, invalid="Body should be valid JSON.", not_object="Body should be a JSON object")
    except BodyError as err:
        return json_message(str(err), 400)
    code = body.get("code") if body else None
    if not isinstance(code, str):
        return json_message('Give the login code as {"code": ...}.', 400)
    auth = request.app[AUTH]
    token = auth.redeem(request.remote or "unknown", code)
    if token is None:
        return json_message("Invalid or already used login code.", 401)
    await auth.persist()
    return json_response({"access_token": token, "token_type": "Bearer"})
