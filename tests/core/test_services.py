"""ServiceRegistry: register with a schema, call, refusal by the schema, not found, listing, removal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from hub.core import (
    EVENT_CALL_SERVICE,
    EVENT_SERVICE_REGISTERED,
    Context,
    Event,
    EventBus,
    ServiceCall,
    ServiceDescription,
    ServiceNotFound,
    ServiceRegistry,
    ServiceValidationError,
)


def _positive_seconds(data: Mapping[str, Any]) -> Mapping[str, Any]:
    seconds = data.get("seconds", 10)
    if not isinstance(seconds, int) or seconds <= 0:
        raise ValueError(f"seconds must be a positive integer, got {seconds!r}")
    return {**data, "seconds": seconds}


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def calls() -> list[ServiceCall]:
    return []


@pytest.fixture
def services(bus: EventBus, calls: list[ServiceCall]) -> ServiceRegistry:
    registry = ServiceRegistry(bus)

    async def restart(call: ServiceCall) -> Mapping[str, Any]:
        calls.append(call)
        return {"restarted": call.data.get("container"), "after": call.data["seconds"]}

    registry.register(
        "docker",
        ServiceDescription(
            name="restart",
            handler=restart,
            description="Restart a container",
            fields={"container": {"description": "name", "required": True}},
            schema=_positive_seconds,
        ),
    )
    return registry


async def test_call_runs_the_handler_with_normalised_data_and_fires_call_service(
    bus: EventBus, services: ServiceRegistry, calls: list[ServiceCall]
) -> None:
    fired: list[Event[Mapping[str, Any]]] = []
    bus.listen(EVENT_CALL_SERVICE, fired.append)
    context = Context(user_id="admin")
    result = await services.call("docker", "restart", {"container": "web"}, context=context)
    assert result == {"restarted": "web", "after": 10}
    assert calls[0].data == {"container": "web", "seconds": 10}
    assert calls[0].context is context
    assert fired[0].data == {
        "domain": "docker",
        "service": "restart",
        "service_data": {"container": "web", "seconds": 10},
    }
    assert fired[0].context is context


async def test_names_are_case_insensitive_on_call(services: ServiceRegistry, calls: list[ServiceCall]) -> None:
    await services.call("Docker", "RESTART", {"container": "db"})
    assert calls[0].data["container"] == "db"


async def test_schema_refusal_is_a_validation_error_and_the_handler_never_runs(
    services: ServiceRegistry, calls: list[ServiceCall]
) -> None:
    with pytest.raises(ServiceValidationError, match=r"Invalid data for docker.restart: seconds must be"):
        await services.call("docker", "restart", {"container": "web", "seconds": -1})
    assert calls == []


async def test_unknown_service_or_domain_is_not_found(services: ServiceRegistry) -> None:
    with pytest.raises(ServiceNotFound, match=r"Service docker.explode not found"):
        await services.call("docker", "explode")
    with pytest.raises(ServiceNotFound) as caught:
        await services.call("nothing", "restart")
    assert (caught.value.domain, caught.value.service) == ("nothing", "restart")


async def test_register_fires_and_unregister_removes(bus: EventBus) -> None:
    fired: list[Event[Mapping[str, Any]]] = []
    bus.listen(EVENT_SERVICE_REGISTERED, fired.append)
    registry = ServiceRegistry(bus)

    async def press(call: ServiceCall) -> None:
        return None

    undo = registry.register("button", ServiceDescription(name="press", handler=press))
    assert fired[0].data == {"domain": "button", "service": "press"}
    assert registry.has("button", "press")
    assert await registry.call("button", "press") is None
    undo()
    undo()
    assert not registry.has("button", "press")
    assert registry.all() == {}
    with pytest.raises(ServiceNotFound):
        await registry.call("button", "press")


def test_as_list_is_home_assistants_services_shape(services: ServiceRegistry) -> None:
    assert services.as_list() == [
        {
            "domain": "docker",
            "services": {
                "restart": {
                    "name": "restart",
                    "description": "Restart a container",
                    "fields": {"container": {"description": "name", "required": True}},
                }
            },
        }
    ]
