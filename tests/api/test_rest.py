"""HA's REST API against the running app: shapes, status codes and every error path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.config import ConfigError, ConfigErrors
from hub.core import ServiceCall, ServiceDescription, ServiceValidationError
from tests.api.apitools import Api


async def test_api_running(api: Api) -> None:
    response = await api.request("GET", "/api/")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == {"message": "API running."}


async def test_missing_and_wrong_token_answer_ha_401(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {api.token}"}):
        response = await api.request("GET", "/api/states", headers=headers)
        assert response.status == 401
        assert response.content_type == "text/plain"
        assert await response.text() == "401: Unauthorized"


async def test_config_core_state_and_components(api: Api) -> None:
    config = await (await api.request("GET", "/api/config")).json()
    assert config["version"] == "2024.3.3"
    assert config["hub_version"] == "0.1.0"
    assert config["state"] == "RUNNING"
    assert config["location_name"] == "nas"
    assert "system_info" in config["components"]
    assert await (await api.request("GET", "/api/core/state")).json() == {"state": "RUNNING"}
    assert "websocket_api" in await (await api.request("GET", "/api/components")).json()


async def test_state_create_update_read_delete(api: Api) -> None:
    response = await api.request("POST", "/api/states/sensor.rest_test", json={"state": "10", "attributes": {"a": 1}})
    assert response.status == 201
    assert response.headers["Location"] == "/api/states/sensor.rest_test"
    created = await response.json()
    assert created["state"] == "10"
    assert created["attributes"] == {"a": 1}
    assert created["last_changed"].endswith("+00:00")
    assert len(created["context"]["id"]) == 26
    assert created["context"]["user_id"] == api.tokens.records()[0].id

    response = await api.request("POST", "/api/states/sensor.rest_test", json={"state": 11})
    assert response.status == 200
    assert response.headers["Location"] == "/api/states/sensor.rest_test"
    assert (await response.json())["state"] == "11"

    read = await (await api.request("GET", "/api/states/sensor.rest_test")).json()
    assert read["state"] == "11"
    assert read == api.core.states.get("sensor.rest_test").as_dict()  # type: ignore[union-attr]

    assert await (await api.request("DELETE", "/api/states/sensor.rest_test")).json() == {"message": "Entity removed."}
    response = await api.request("DELETE", "/api/states/sensor.rest_test")
    assert response.status == 404
    assert await response.json() == {"message": "Entity not found."}


async def test_state_list_and_filter(api: Api) -> None:
    for name in ("a", "b", "c"):
        api.core.states.set(f"sensor.{name}", name)
    everything = await (await api.request("GET", "/api/states")).json()
    assert [s["entity_id"] for s in everything] == ["sensor.a", "sensor.b", "sensor.c"]
    some = await (await api.request("GET", "/api/states?filter_entity_id=sensor.c,sensor.a,sensor.zz")).json()
    assert [s["entity_id"] for s in some] == ["sensor.c", "sensor.a"]


async def test_state_errors(api: Api) -> None:
    cases: list[tuple[str, Any, str]] = [
        ("sensor.x", b"{not json", "Invalid JSON specified."),
        ("sensor.x", b"[1, 2]", "State data should be a JSON object"),
        ("sensor.x", b'"text"', "State data should be a JSON object"),
        ("sensor.x", b"{}", "No state specified."),
        ("sensor.x", b'{"attributes": {}}', "No state specified."),
        ("not_an_entity", b'{"state": "1"}', "Invalid entity ID specified."),
        ("sensor.UPPER", b'{"state": "1"}', "Invalid entity ID specified."),
        ("sensor.x", b'{"state": "' + b"x" * 256 + b'"}', "Invalid state specified."),
        ("sensor.x", b'{"state": "1", "attributes": [1]}', "Invalid state specified."),
    ]
    for entity_id, body, message in cases:
        response = await api.request("POST", f"/api/states/{entity_id}", data=body, headers=api.headers)
        assert response.status == 400, (entity_id, body)
        assert await response.json() == {"message": message}
    response = await api.request("GET", "/api/states/sensor.missing")
    assert response.status == 404
    assert await response.json() == {"message": "Entity not found."}
    assert len(api.core.states) == 0


async def test_body_over_the_limit_is_413(api: Api) -> None:
    big = b'{"state": "1", "attributes": {"x": "' + b"x" * (1024 * 1024) + b'"}}'
    response = await api.request("POST", "/api/states/sensor.big", data=big, headers=api.headers)
    assert response.status == 413
    assert api.core.states.get("sensor.big") is None


async def test_events_list_and_fire(api: Api) -> None:
    seen: list[Any] = []
    api.core.bus.listen("custom_event", seen.append)
    listing = await (await api.request("GET", "/api/events")).json()
    assert {"event": "custom_event", "listener_count": 1} in listing
    response = await api.request("POST", "/api/events/custom_event", json={"x": 1})
    assert await response.json() == {"message": "Event custom_event fired."}
    response = await api.request("POST", "/api/events/custom_event")
    assert response.status == 200
    assert [event.data for event in seen] == [{"x": 1}, {}]
    assert str(seen[0].origin) == "REMOTE"
    assert seen[0].context.user_id == api.tokens.records()[0].id


async def test_event_errors(api: Api) -> None:
    for body, message in (
        (b"{bad", "Event data should be valid JSON."),
        (b"[1]", "Event data should be a JSON object"),
    ):
        response = await api.request("POST", "/api/events/custom", data=body, headers=api.headers)
        assert response.status == 400
        assert await response.json() == {"message": message}
    response = await api.request("POST", "/api/events/state_changed", json={"entity_id": "sensor.x"})
    assert response.status == 400


def _register_setter(api: Api) -> list[ServiceCall]:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> Mapping[str, Any] | None:
        calls.append(call)
        if call.data.get("fail"):
            raise ServiceValidationError("fail was set")
        api.core.states.set("switch.nas_fan", "on", context=call.context)
        api.core.states.set("sensor.other", "1")  # not this call's context: not in the answer
        return {"done": True}

    api.core.services.register("fan", ServiceDescription(name="start", handler=handler, description="Start it"))
    return calls


async def test_services_list_and_call(api: Api) -> None:
    calls = _register_setter(api)
    listing = await (await api.request("GET", "/api/services")).json()
    assert {
        "domain": "fan",
        "services": {"start": {"name": "start", "description": "Start it", "fields": {}}},
    } in listing
    response = await api.request("POST", "/api/services/fan/start", json={"speed": 3})
    assert response.status == 200
    changed = await response.json()
    assert [s["entity_id"] for s in changed] == ["switch.nas_fan"]
    assert calls[0].data == {"speed": 3}
    response = await api.request("POST", "/api/services/fan/start?return_response")
    body = await response.json()
    assert body["service_response"] == {"done": True}
    assert body["changed_states"] == []  # the fan was already on: no change


async def test_service_errors(api: Api) -> None:
    _register_setter(api)
    response = await api.request("POST", "/api/services/nope/nope", json={})
    assert response.status == 400
    assert await response.json() == {"message": "Service nope.nope not found."}
    response = await api.request("POST", "/api/services/fan/start", data=b"{bad", headers=api.headers)
    assert await response.json() == {"message": "Data should be valid JSON."}
    response = await api.request("POST", "/api/services/fan/start", data=b"[]", headers=api.headers)
    assert await response.json() == {"message": "Data should be a JSON object"}
    response = await api.request("POST", "/api/services/fan/start", json={"fail": True})
    assert response.status == 400
    assert await response.json() == {"message": "fail was set"}


async def test_error_log_is_text_and_keeps_secrets_out(api: Api) -> None:
    import logging

    logging.getLogger("hub.test").warning("something broke")
    logging.getLogger("hub.test").warning("secret %s", "s3cr3t", extra={"hub_secret": True})
    response = await api.request("GET", "/api/error_log")
    assert response.content_type == "text/plain"
    text = await response.text()
    assert "something broke" in text
    assert "s3cr3t" not in text


async def test_hub_endpoints(api: Api) -> None:
    response = await api.session.get(api.url + "/api/hub/health")  # no token: liveness is public
    assert await response.json() == {"status": "ok", "state": "RUNNING"}
    integrations = await (await api.request("GET", "/api/hub/integrations")).json()
    assert integrations[0]["id"] == "system_info"
    assert integrations[0]["health"]["status"] == "ok"
    parts = await (await api.request("GET", "/api/hub/parts")).json()
    assert parts[0]["name"] == "system_info"
    response = await api.request("POST", "/api/hub/integrations/system_info/poll")
    assert response.status == 200
    assert api.control.polled == ["system_info"]
    response = await api.request("POST", "/api/hub/integrations/nope/poll")
    assert response.status == 404
    assert await (await api.request("POST", "/api/hub/reload")).json() == {"changes": ["started x"]}
    api.control.reload_result = ConfigErrors([ConfigError("hub.yaml", 3, ("hub", "name"), "bad name")])
    response = await api.request("POST", "/api/hub/reload")
    assert response.status == 400
    body = await response.json()
    assert body["message"] == "Invalid config; the running one is kept."
    assert "hub.yaml:3" in body["errors"][0]


async def test_openapi_describes_every_rest_route(api: Api) -> None:
    document = await (await api.request("GET", "/api/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    described = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    for resource in api.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if path in ("/{path}", "/api/websocket") or path is None:
            continue
        for route in resource:
            if route.method == "HEAD":
                continue
            assert (route.method, path) in described, (route.method, path)
