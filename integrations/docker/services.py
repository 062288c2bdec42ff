"""`docker.start`, `docker.stop` and `docker.restart`: targets by entity or container name, refused without controls."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Protocol

from hub.core import ServiceCall, ServiceValidationError
from hub.integration import IntegrationContext, IntegrationService

from .reader import Action

__all__ = ["SERVICES", "Controllable", "targets"]

_TARGET_FIELDS: Mapping[str, Mapping[str, Any]] = {
    "entity_id": {"description": "An entity of the container (its switch, button or any sensor), or a list."},
    "container": {"description": "A container name, or a list of them."},
}


class Controllable(Protocol):
    """What a service handler needs of the integration."""

    @property
    def ctx(self) -> IntegrationContext: ...

    async def act(self, name: str, action: Action) -> None: ...


def _names(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ValueError(f"{key} must be a name or a list of names")
    return list(items)


def _schema(data: Mapping[str, Any]) -> Mapping[str, Any]:
    unknown = set(data) - set(_TARGET_FIELDS)
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}; expected entity_id or container")
    normal = {key: _names(data.get(key), key) for key in _TARGET_FIELDS}
    if not any(normal.values()):
        raise ValueError("give entity_id or container")
    return normal


def targets(ctx: IntegrationContext, data: Mapping[str, Any]) -> list[str]:
    """Container names from `container` and from the entities in `entity_id` (via their instance)."""
    names = list(data.get("container", []))
    for entity_id in data.get("entity_id", []):
        instance = ctx.instance_of(entity_id)
        if not instance:
            raise ServiceValidationError(f"{entity_id} is not an entity of a container of this docker integration")
        names.append(instance)
    return list(dict.fromkeys(names))


async def _handle(action: Action, integration: Controllable, call: ServiceCall) -> Mapping[str, Any] | None:
    for name in targets(integration.ctx, call.data):
        await integration.act(name, action)
    return None


def _service(action: Action, description: str) -> IntegrationService[Any]:
    return IntegrationService(
        name=action,
        handler=functools.partial(_handle, action),
        description=description,
        fields=_TARGET_FIELDS,
        schema=_schema,
    )


SERVICES: tuple[IntegrationService[Any], ...] = (
    _service("start", "Start containers (needs controls allowed)."),
    _service("stop", "Stop containers (needs controls allowed)."),
    _service("restart", "Restart containers (needs controls allowed)."),
)
