"""`Systemd`: each poll asks systemd over D-Bus for the watched units and the failed count; `systemd.start`,
`systemd.stop` and `systemd.restart` act on watched units when controls are allowed."""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, ClassVar

from hub.core import ServiceCall, ServiceValidationError
from hub.integration import Integration, IntegrationContext, IntegrationService, UpdateFailed

from .bus import Action, SystemdBus, SystemdError
from .config import SystemdConfig
from .entities import ENTITIES, SystemdSnapshot

__all__ = ["Systemd"]

_FIELDS: Mapping[str, Mapping[str, Any]] = {
    "entity_id": {"description": "An entity of the unit (its state, switch or button), or a list."},
    "unit": {"description": "A unit name (`nginx.service`), or a list."},
}


def _unit_key(name: str) -> str:
    """`nginx.service` -> `nginx` (services are the usual case), `backup.timer` -> `backup_timer`."""
    return name.removesuffix(".service")


async def _act(action: Action, integration: Systemd, call: ServiceCall) -> Mapping[str, Any] | None:
    await integration.act(action, call.data)
    return None


def _service(action: Action, description: str) -> IntegrationService[SystemdConfig]:
    return IntegrationService(
        name=action, handler=functools.partial(_act, action), description=description, fields=_FIELDS
    )


class Systemd(Integration[SystemdConfig, SystemdSnapshot]):
    domain = "systemd"
    config_model = SystemdConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=30)
    entities = ENTITIES
    services: ClassVar[tuple[IntegrationService[Any], ...]] = (
        _service("start", "Start watched units (needs controls: true)."),
        _service("stop", "Stop watched units (needs controls: true)."),
        _service("restart", "Restart watched units (needs controls: true)."),
    )

    def __init__(self, ctx: IntegrationContext, config: SystemdConfig) -> None:
        super().__init__(ctx, config)
        self._bus = SystemdBus(config.bus, config.bus_address, config.timeout.total_seconds())
        self._names: dict[str, str] = {}

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self._bus.close()

    async def poll(self) -> SystemdSnapshot:
        try:
            units = await self._bus.units(self.config.units) if self.config.units else []
            failed = await self._bus.failed_count()
        except SystemdError as err:
            raise UpdateFailed(str(err)) from err
        by_key = {_unit_key(unit.name): unit for unit in units}
        self._names = {key: unit.name for key, unit in by_key.items()}
        return SystemdSnapshot(self.ctx.node, by_key, failed, self.config.controls)

    async def act(self, action: Action, data: Mapping[str, Any]) -> None:
        if not self.config.controls:
            raise ServiceValidationError("controls are off for this systemd integration (controls: true allows them)")
        for unit in self._targets(data):
            try:
                await self._bus.act(action, unit)
            except SystemdError as err:
                raise ServiceValidationError(str(err)) from err
            self.ctx.logger.info("%s %s (asked through the hub)", action, unit)
        self.ctx.request_poll()

    def _targets(self, data: Mapping[str, Any]) -> list[str]:
        names: list[str] = []
        for unit in _listed(data.get("unit")):
            if not any(fnmatch.fnmatchcase(unit, pattern) for pattern in self.config.units):
                raise ServiceValidationError(f"{unit} is not a unit this integration watches")
            names.append(unit)
        for entity_id in _listed(data.get("entity_id")):
            key = self.ctx.instance_of(entity_id)
            if not key or key not in self._names:
                raise ServiceValidationError(f"{entity_id} is not an entity of a watched unit")
            names.append(self._names[key])
        if not names:
            raise ServiceValidationError("give entity_id or unit")
        return list(dict.fromkeys(names))


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise ServiceValidationError("entity_id and unit take a name or a list of names")
    return items
