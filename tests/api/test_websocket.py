"""The WebSocket API against the running app: auth phase, envelope rules, every command and error code."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest

from hub.core import ServiceCall, ServiceDescription
from hub.core.clock import FakeClock
from tests.api.apitools import Api, WsClient, ws_login


async def _auth_phase(api: Api, message: Any) -> tuple[WsClient, dict[str, Any]]:
    client = WsClient(await api.session.ws_connect(api.ws_url))
    await client.receive()
    await client.send(message)
    return client, await client.receive()


async def test_auth_ok_and_wrong_token(api: Api) -> None:
    client = await ws_login(api)
    await client.ws.close()
    client, reply = await _auth_phase(api, {"type": "auth", "access_token": "wrong"})
    assert reply == {"type": "auth_invalid", "message": "Invalid access token or password"}
    closing = await client.ws.receive()
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == 1000


async def test_auth_message_malformed(api: Api) -> None:
    for message in ({"type": "auth", "access_token": 1}, {"type": "ping", "id": 1}, {"type": "auth", "x": 1}):
        _, reply = await _auth_phase(api, message)
        assert reply["type"] == "auth_invalid"
        assert reply["message"].startswith("Auth message incorrectly formatted: ")


async def test_auth_timeout_closes_after_ten_seconds(api: Api, fake_clock: FakeClock) -> None:
    ws = await api.session.ws_connect(api.ws_url)
    assert (await ws.receive()).json()["type"] == "auth_required"
    await fake_clock.advance(9.9)
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.2)  # still waiting for the auth message
    await fake_clock.advance(0.2)
    message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_envelope_rules(api: Api) -> None:
    client = await ws_login(api)
    bad = {
        "type": "result",
        "success": False,
        "error": {"code": "invalid_format", "message": "Message incorrectly formatted."},
    }
    assert await client.command({"type": "ping"}) == {"id": None, **bad}
    assert await client.command({"id": "1", "type": "ping"}) == {"id": "1", **bad}
    assert await client.command({"id": 0, "type": "ping"}) == {"id": 0, **bad}
    assert await client.command({"id": 1}) == {"id": 1, **bad}
    await client.send(["not an object"])
    assert await client.receive() == {"id": 0, **bad}
    assert await client.command({"id": 5, "type": "ping"}) == {"id": 5, "type": "pong"}
    reuse = await client.command({"id": 5, "type": "ping"})
    assert reuse["error"] == {"code": "id_reuse", "message": "Identifier values have to increase."}
    unknown = await client.command({"id": 6, "type": "no_such_thing"})
    assert unknown == {
        "id": 6,
        "type": "result",
        "success": False,
        "error": {"code": "unknown_command", "message": "Unknown command."},
    }
    extra = await client.command({"id": 7, "type": "ping", "extra_key": 1})
    assert extra["error"] == {"code": "invalid_format", "message": "extra keys not allowed @ data['extra_key']. Got 1"}
    # A schema error still uses up its id, as in HA.
    assert (await client.command({"id": 7, "type": "ping"}))["error"]["code"] == "id_reuse"


async def test_array_of_commands_and_coalescing(api: Api) -> None:
    client = await ws_login(api)
    await client.send([{"id": 10, "type": "ping"}, {"id": 11, "type": "ping"}])
    assert [await client.receive(), await client.receive()] == [{"id": 10, "type": "pong"}, {"id": 11, "type": "pong"}]
    assert all(isinstance(frame, dict) for frame in client.frames)  # not enabled yet: one message per frame
    reply = await client.command({"id": 12, "type": "supported_features", "features": {"coalesce_messages": 1}})
    assert reply == {"id": 12, "type": "result", "success": True, "result": None}
    await client.send([{"id": 13, "type": "ping"}, {"id": 14, "type": "ping"}])
    frame = await client.frame()
    assert frame == [{"id": 13, "type": "pong"}, {"id": 14, "type": "pong"}]


async def test_invalid_json_disconnects(api: Api) -> None:
    client = await ws_login(api)
    await client.ws.send_str("{not json")
    assert (await client.ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_get_states_config_services(api: Api) -> None:
    api.core.states.set("sensor.a", "1", {"unit_of_measurement": "%"})
    api.core.services.register("fan", ServiceDescription(name="start", handler=_noop))
    client = await ws_login(api)
    states = await client.command({"id": 1, "type": "get_states"})
    assert states["result"] == [api.core.states.get("sensor.a").as_dict()]  # type: ignore[union-attr]
    config = await client.command({"id": 2, "type": "get_config"})
    assert config["result"]["version"] == "2024.3.3"
    services = await client.command({"id": 3, "type": "get_services"})
    assert services["result"]["fan"]["start"]["name"] == "start"


async def _noop(_call: ServiceCall) -> Mapping[str, Any] | None:
    return None


async def test_subscribe_events_and_unsubscribe(api: Api) -> None:
    client = await ws_login(api)
    assert (await client.command({"id": 1, "type": "subscribe_events", "event_type": "state_changed"}))["success"]
    api.core.states.set("sensor.a", "1")
    event = await client.receive()
    assert event["id"] == 1
    assert event["type"] == "event"
    assert event["event"]["event_type"] == "state_changed"
    assert event["event"]["data"]["entity_id"] == "sensor.a"
    assert event["event"]["data"]["old_state"] is None
    assert event["event"]["data"]["new_state"]["state"] == "1"
    assert event["event"]["origin"] == "LOCAL"
    assert (await client.command({"id": 2, "type": "subscribe_events"}))["success"]  # all events
    api.core.bus.fire("custom", {"x": 1})
    custom = await client.receive()
    assert custom["id"] == 2
    assert custom["event"]["data"] == {"x": 1}
    assert (await client.command({"id": 3, "type": "unsubscribe_events", "subscription": 1}))["success"]
    assert (await client.command({"id": 4, "type": "unsubscribe_events", "subscription": 2}))["success"]
    missing = await client.command({"id": 5, "type": "unsubscribe_events", "subscription": 1})
    assert missing["error"] == {"code": "not_found", "message": "Subscription not found."}
    api.core.states.set("sensor.a", "2")
    assert await client.command({"id": 6, "type": "ping"}) == {"id": 6, "type": "pong"}


async def test_subscribe_entities_compressed_diffs(api: Api) -> None:
    """The a/c/r sequence of ha-protocols 1.8, for a write, a state change, an attribute add and remove."""
    states = api.core.states
    states.set("sensor.rest_test", "10", {"unit_of_measurement": "%"})
    states.set("sensor.ignored", "1")
    client = await ws_login(api)
    reply = await client.command(
        {"id": 1, "type": "subscribe_entities", "entity_ids": ["sensor.rest_test", "sensor.new"]}
    )
    assert reply == {"id": 1, "type": "result", "success": True, "result": None}
    first = await client.receive()
    state = states.get("sensor.rest_test")
    assert state is not None
    assert first == {
        "id": 1,
        "type": "event",
        "event": {
            "a": {
                "sensor.rest_test": {
                    "s": "10",
                    "a": {"unit_of_measurement": "%"},
                    "c": state.context.id,
                    "lc": state.last_changed.timestamp(),
                }
            }
        },
    }
    new = states.set("sensor.rest_test", "11", {"unit_of_measurement": "%"})
    assert new is not None
    change = (await client.receive())["event"]
    assert change == {
        "c": {"sensor.rest_test": {"+": {"s": "11", "lc": new.last_changed.timestamp(), "c": new.context.id}}}
    }
    added = states.set("sensor.rest_test", "11", {"unit_of_measurement": "%", "extra": 1})
    assert added is not None
    change = (await client.receive())["event"]
    assert change == {
        "c": {
            "sensor.rest_test": {"+": {"lu": added.last_updated.timestamp(), "c": added.context.id, "a": {"extra": 1}}}
        }
    }
    states.set("sensor.rest_test", "11", {"unit_of_measurement": "%"})
    change = (await client.receive())["event"]["c"]["sensor.rest_test"]
    assert change["-"] == {"a": ["extra"]}
    states.set("sensor.ignored", "2")
    states.set("sensor.new", "x")
    assert set((await client.receive())["event"]["a"]) == {"sensor.new"}
    states.remove("sensor.new")
    assert (await client.receive())["event"] == {"r": ["sensor.new"]}
    assert (await client.command({"id": 2, "type": "unsubscribe_events", "subscription": 1}))["success"]
    states.set("sensor.rest_test", "12")
    assert await client.command({"id": 3, "type": "ping"}) == {"id": 3, "type": "pong"}


async def test_subscribe_entities_with_user_context_sends_dict(api: Api) -> None:
    client = await ws_login(api)
    await client.command({"id": 1, "type": "subscribe_entities"})
    assert (await client.receive())["event"] == {"a": {}}
    await api.request("POST", "/api/states/sensor.x", json={"state": "1"})
    full = (await client.receive())["event"]["a"]["sensor.x"]
    assert full["c"]["user_id"] == api.tokens.records()[0].id
    api.core.states.set("sensor.x", "2")  # context without user: the diff names the changed fields
    diff = (await client.receive())["event"]["c"]["sensor.x"]["+"]
    assert diff["c"]["user_id"] is None
    assert "id" in diff["c"]


async def test_call_service(api: Api) -> None:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> Mapping[str, Any] | None:
        calls.append(call)
        return {"answer": 42}

    api.core.services.register("fan", ServiceDescription(name="start", handler=handler))
    client = await ws_login(api)
    reply = await client.command(
        {
            "id": 1,
            "type": "call_service",
            "domain": "fan",
            "service": "start",
            "service_data": {"speed": 2},
            "target": {"entity_id": "fan.x"},
        }
    )
    assert reply["success"]
    assert set(reply["result"]) == {"context"}
    assert calls[0].data == {"speed": 2, "entity_id": "fan.x"}
    assert calls[0].context.id == reply["result"]["context"]["id"]
    reply = await client.command(
        {"id": 2, "type": "call_service", "domain": "fan", "service": "start", "return_response": True}
    )
    assert reply["result"]["response"] == {"answer": 42}
    missing = await client.command({"id": 3, "type": "call_service", "domain": "nope", "service": "nope"})
    assert missing["error"] == {
        "code": "not_found",
        "message": "Service nope.nope not found.",
        "translation_key": "service_not_found",
        "translation_placeholders": {"domain": "nope", "service": "nope"},
        "translation_domain": "homeassistant",
    }
    no_service = await client.command({"id": 4, "type": "call_service", "domain": "fan"})
    assert no_service["error"]["code"] == "invalid_format"
    assert "service" in no_service["error"]["message"]


async def test_call_service_errors_map_to_ha_codes(api: Api) -> None:
    from hub.core import HubError, ServiceValidationError

    async def refuse(_call: ServiceCall) -> Mapping[str, Any] | None:
        raise ServiceValidationError("speed too high")

    async def fail(_call: ServiceCall) -> Mapping[str, Any] | None:
        raise HubError("broken")

    async def crash(_call: ServiceCall) -> Mapping[str, Any] | None:
        raise RuntimeError("bug")

    for name, handler in (("refuse", refuse), ("fail", fail), ("crash", crash)):
        api.core.services.register("t", ServiceDescription(name=name, handler=handler))
    client = await ws_login(api)
    codes = []
    for msg_id, name in enumerate(("refuse", "fail", "crash"), start=1):
        reply = await client.command({"id": msg_id, "type": "call_service", "domain": "t", "service": name})
        codes.append((reply["error"]["code"], reply["error"]["message"]))
    assert codes == [
        ("service_validation_error", "Validation error: speed too high"),
        ("home_assistant_error", "broken"),
        ("unknown_error", "Unknown error"),
    ]


async def test_fire_event(api: Api) -> None:
    seen: list[Any] = []
    api.core.bus.listen("custom", seen.append)
    client = await ws_login(api)
    reply = await client.command({"id": 1, "type": "fire_event", "event_type": "custom", "event_data": {"a": 1}})
    assert reply["result"]["context"]["id"] == seen[0].context.id
    assert seen[0].data == {"a": 1}


async def test_registry_lists(api: Api) -> None:
    from hub.core import DeviceInfo, RegistryEntry

    device = DeviceInfo(identifier="nas", name="nas", manufacturer="homelab-hub")
    api.core.entities.add(
        RegistryEntry(
            entity_id="sensor.nas_cpu",
            unique_id="nas_cpu",
            platform="sensor",
            name="CPU",
            node="nas",
            integration="system_info",
            device=device,
        )
    )
    client = await ws_login(api)
    entities = (await client.command({"id": 1, "type": "config/entity_registry/list"}))["result"]
    assert entities[0]["entity_id"] == "sensor.nas_cpu"
    assert entities[0]["device_id"] == "nas"
    devices = (await client.command({"id": 2, "type": "config/device_registry/list"}))["result"]
    assert devices[0]["id"] == "nas"
    assert devices[0]["manufacturer"] == "homelab-hub"
    for msg_id, kind in enumerate(("area", "floor", "label"), start=3):
        assert (await client.command({"id": msg_id, "type": f"config/{kind}_registry/list"}))["result"] == []
    user = (await client.command({"id": 6, "type": "auth/current_user"}))["result"]
    assert user["name"] == "test"
    assert user["is_admin"] is True


async def test_shutdown_closes_sockets_going_away(api: Api) -> None:
    client = await ws_login(api)
    await api.server.close()
    message = await client.ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert message.data == aiohttp.WSCloseCode.GOING_AWAY


async def test_revoked_token_closes_socket(fake_clock: FakeClock, api: Api) -> None:
    from hub.api.app import TOKEN_SYNC_INTERVAL
    from hub.api.tokens import TokenStore

    client = await ws_login(api)
    other = TokenStore.in_dir(api.tokens.path.parent)  # as the CLI would
    other.revoke("test")
    other.save()
    await fake_clock.advance(TOKEN_SYNC_INTERVAL)  # the hub reads the token file again
    message = await client.ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert message.data == aiohttp.WSCloseCode.POLICY_VIOLATION
    response = await api.request("GET", "/api/")
    assert response.status == 401
    await asyncio.sleep(0)


async def test_subscribe_entities_filters(api: Api) -> None:
    for entity_id in ("sensor.nas_cpu", "sensor.nas_load", "sensor.pi_cpu", "binary_sensor.nas_up", "switch.fan"):
        api.core.states.set(entity_id, "1")
    client = await ws_login(api)
    await client.command({"id": 1, "type": "subscribe_entities", "entity_ids": "sensor.pi_cpu,switch.fan"})
    assert set((await client.receive())["event"]["a"]) == {"sensor.pi_cpu", "switch.fan"}
    await client.command(
        {
            "id": 2,
            "type": "subscribe_entities",
            "include": {"entity_globs": ["sensor.nas_*"], "domains": ["binary_sensor"]},
            "exclude": {"entities": ["sensor.nas_load"]},
        }
    )
    assert set((await client.receive())["event"]["a"]) == {"sensor.nas_cpu", "binary_sensor.nas_up"}
    bad = await client.command({"id": 3, "type": "subscribe_entities", "entity_ids": [1]})
    assert bad["error"]["code"] == "invalid_format"
