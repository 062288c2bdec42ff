"""`ServiceRegistry`: named actions (`docker.restart`) with a schema, called from the API, MQTT or rules."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .context import Context
from .errors import ServiceNotFound, ServiceValidationError
from .events import EVENT_CALL_SERVICE, EVENT_SERVICE_REGISTERED, EventBus, Unsubscribe

__all__ = ["ServiceCall", "ServiceDescription", "ServiceHandler", "ServiceRegistry", "ServiceSchema"]

_LOGGER = logging.getLogger(__name__)

ServiceSchema = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""Validates and normalises call data; raises `ValueError` (or `ServiceValidationError`) to refuse it."""


@dataclass(frozen=True, slots=True)
class ServiceCall:
    domain: str
    service: str
    data: Mapping[str, Any]
    context: Context


ServiceHandler = Callable[[ServiceCall], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceDescription:
    """A service as declared: its name, what it does, its fields (for `/api/services`) and handler."""

    name: str
    handler: ServiceHandler
    description: str = ""
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    schema: ServiceSchema | None = None


class ServiceRegistry:
    """Services by domain and name."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._services: dict[str, dict[str, ServiceDescription]] = {}

    def register(self, domain: str, service: ServiceDescription) -> Unsubscribe:
        """Register a service; returns its removal."""
        self._services.setdefault(domain, {})[service.name] = service
        self._bus.fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service.name})

        def unregister() -> None:
            services = self._services.get(domain, {})
            if services.get(service.name) is service:
                del services[service.name]
                if not services:
                    del self._services[domain]

        return unregister

    def has(self, domain: str, service: str) -> bool:
        return service in self._services.get(domain, {})

    def all(self) -> dict[str, dict[str, ServiceDescription]]:
        return {domain: dict(services) for domain, services in self._services.items()}

    def as_list(self) -> list[dict[str, Any]]:
        """Home Assistant's `/api/services` shape."""
        return [
            {
                "domain": domain,
                "services": {
                    name: {"name": name, "description": svc.description, "fields": dict(svc.fields)}
                    for name, svc in services.items()
                },
            }
            for domain, services in self._services.items()
        ]

    async def call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        context: Context | None = None,
    ) -> Mapping[str, Any] | None:
        """Validate and run a service; raises `ServiceNotFound` or `ServiceValidationError`."""
        description = self._services.get(domain.lower(), {}).get(service.lower())
        if description is None:
            raise ServiceNotFound(domain, service)
        payload: Mapping[str, Any] = data or {}
        if description.schema is not None:
            try:
                payload = description.schema(payload)
            except ServiceValidationError:
                raise
            except ValueError as err:
                raise ServiceValidationError(f"Invalid data for {domain}.{service}: {err}") from err
        call = ServiceCall(domain, service, payload, context or Context())
        self._bus.fire(
            EVENT_CALL_SERVICE,
            {"domain": domain, "service": service, "service_data": dict(payload)},
            context=call.context,
        )
        return await description.handler(call)
