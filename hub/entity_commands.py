"""Home Assistant's entity services (`switch.turn_on`, `button.press`, ...) routed to integration services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.core import Core, ServiceCall, ServiceDescription, ServiceValidationError, Unsubscribe

__all__ = ["COMMAND_SERVICES", "register_entity_commands", "run_command"]

COMMAND_SERVICES: Mapping[str, Mapping[str, str]] = {
    "switch": {"turn_on": "ON", "turn_off": "OFF"},
    "button": {"press": "PRESS"},
}
"""Per platform: HA service name -> the payload an entity declares in its `commands`."""

_ENTITY_FIELD = {"entity_id": {"description": "The entity (or a list of them) to act on.", "required": True}}


async def run_command(core: Core, entity_id: str, payload: str) -> Mapping[str, Any] | None:
    """Carry out `payload` (ON, OFF, PRESS) on an entity through the service it declares for it."""
    entry = core.entities.get(entity_id)
    if entry is None:
        raise ServiceValidationError(f"Entity {entity_id} not found")
    target = entry.commands.get(payload)
    if target is None:
        accepted = ", ".join(entry.commands) or "none"
        raise ServiceValidationError(f"{entity_id} does not accept {payload!r} (accepts: {accepted})")
    domain, _, service = target.partition(".")
    return await core.services.call(domain, service, {"entity_id": entity_id})


def register_entity_commands(core: Core) -> list[Unsubscribe]:
    """Register `switch.turn_on/turn_off/toggle` and `button.press` for the entities that declare them."""

    def handler_for(payload: str | None) -> Any:
        async def handle(call: ServiceCall) -> Mapping[str, Any] | None:
            entity_ids = call.data.get("entity_id")
            if isinstance(entity_ids, str):
                entity_ids = [entity_ids]
            if not isinstance(entity_ids, list) or not all(isinstance(e, str) for e in entity_ids):
                raise ServiceValidationError("entity_id must be an entity id or a list of them")
            for entity_id in entity_ids:
                command = payload
                if command is None:  # toggle
                    current = core.states.get(entity_id)
                    command = "OFF" if current is not None and current.state == "on" else "ON"
                await run_command(core, entity_id, command)
            return None

        return handle

    undo: list[Unsubscribe] = []
    for platform, services in COMMAND_SERVICES.items():
        for service, payload in services.items():
            undo.append(
                core.services.register(
                    platform,
                    ServiceDescription(name=service, handler=handler_for(payload), fields=_ENTITY_FIELD),
                )
            )
    undo.append(
        core.services.register(
            "switch", ServiceDescription(name="toggle", handler=handler_for(None), fields=_ENTITY_FIELD)
        )
    )
    return undo
