"""`HubControl`: what the API may ask of the running hub beyond the core (poll now, reload, health)."""

from __future__ import annotations

from typing import Any, Protocol

from .health import HealthRegistry

__all__ = ["HubControl", "UnknownIntegration"]


class UnknownIntegration(LookupError):
    """No running integration has that id."""


class HubControl(Protocol):
    @property
    def health(self) -> HealthRegistry: ...

    def integrations(self) -> list[dict[str, Any]]:
        """Each configured integration: id, platform, interval, enabled and its health."""
        ...

    async def poll_now(self, integration_id: str) -> None:
        """Ask an integration for a poll now; raises `UnknownIntegration`."""
        ...

    async def reload(self) -> list[str]:
        """Re-read the config and apply it; returns what changed. Raises `ConfigErrors`, keeping the old one."""
        ...
