"""The integration contract: `Integration`, its narrow `IntegrationContext`, its errors and its discovery."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import entry_points
from typing import Any, ClassVar, Generic, ParamSpec, Protocol, TypeVar

from pydantic import BaseModel

from hub.core import DeviceInfo, EntityDescription, HubError, ServiceCall
from hub.core.services import ServiceSchema

__all__ = [
    "ENTRY_POINT_GROUP",
    "Integration",
    "IntegrationContext",
    "IntegrationService",
    "NotReady",
    "UpdateFailed",
    "discover_integrations",
]

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "homelab_hub.integrations"

_ConfigT = TypeVar("_ConfigT", bound=BaseModel)
_SnapT = TypeVar("_SnapT")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class UpdateFailed(HubError):
    """An expected failure of a poll (daemon unreachable, permission denied): entities go unavailable."""


class NotReady(HubError):
    """Raised from `lifespan()` when the integration cannot start yet; the hub retries with backoff."""


class IntegrationContext(Protocol):
    """The only hub object an integration sees."""

    @property
    def node(self) -> str: ...

    @property
    def logger(self) -> logging.Logger: ...

    async def run_blocking(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a blocking call in the integration's thread pool."""
        ...

    async def run_pinned(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a blocking call on the integration's one dedicated thread (per-thread library state)."""
        ...

    def report(self, snapshot: Any, *, partial: bool = False) -> None:
        """Publish a snapshot now (push integrations, or a poll result that arrives early).

        A `partial` snapshot holds only the entities that changed; the others keep their states.
        """
        ...

    def request_poll(self) -> None:
        """Ask the scheduler for a poll now instead of at the next tick (coalesced, never queued)."""
        ...

    def instance_of(self, entity_id: str) -> str | None:
        """The instance (disk, container) an entity of this integration stands for."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class IntegrationService(Generic[_ConfigT]):
    """A service an integration offers as `<domain>.<name>`; `handler(integration, call)` carries it out."""

    name: str
    handler: Callable[[Any, ServiceCall], Awaitable[Mapping[str, Any] | None]]
    description: str = ""
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    schema: ServiceSchema | None = None


class Integration(Generic[_ConfigT, _SnapT]):
    """Base of every integration. Subclasses declare class-level data and implement `poll` or `run`.

    `__init__` only stores; resources are opened and closed in `lifespan()`. The hub, not the
    integration, turns each snapshot into states through `entities`, and owns all timing.
    """

    domain: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    default_interval: ClassVar[timedelta] = timedelta(seconds=30)
    entities: ClassVar[tuple[EntityDescription[Any], ...]] = ()
    services: ClassVar[tuple[IntegrationService[Any], ...]] = ()

    def __init__(self, ctx: IntegrationContext, config: _ConfigT) -> None:
        self.ctx = ctx
        self.config = config

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Open resources before the `yield`, close them after; raise `NotReady` to be retried later."""
        yield

    async def poll(self) -> _SnapT:
        """Read a fresh snapshot (polling integrations)."""
        raise NotImplementedError

    async def run(self) -> None:
        """Report snapshots through `ctx.report` until cancelled (push integrations)."""
        raise NotImplementedError

    def device(self) -> DeviceInfo | None:
        """The device this integration's entities belong to by default; None means the node's host device."""
        return None

    @classmethod
    def polls(cls) -> bool:
        return cls.poll is not Integration.poll

    @classmethod
    def pushes(cls) -> bool:
        return cls.run is not Integration.run


def discover_integrations() -> dict[str, type[Integration[Any, Any]]]:
    """Integrations in the `integrations` package, then those registered under the entry point group."""
    found: dict[str, type[Integration[Any, Any]]] = {}
    try:
        package = importlib.import_module("integrations")
    except ImportError:
        package = None
    if package is not None:
        for module_info in pkgutil.iter_modules(package.__path__, "integrations."):
            if module_info.ispkg:
                _add(found, _integration_in(importlib.import_module(module_info.name)), module_info.name)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception:
            _LOGGER.exception("Cannot load integration %s from entry point %s", entry.name, entry.value)
            continue
        _add(found, loaded, entry.value)
    return found


def _integration_in(module: Any) -> Any:
    for name in getattr(module, "__all__", ()):
        candidate = getattr(module, name, None)
        if isinstance(candidate, type) and issubclass(candidate, Integration) and candidate is not Integration:
            return candidate
    return None


def _add(found: dict[str, type[Integration[Any, Any]]], candidate: Any, origin: str) -> None:
    if not (isinstance(candidate, type) and issubclass(candidate, Integration)):
        if candidate is not None:
            _LOGGER.warning("%s is not an Integration class; ignored", origin)
        return
    found.setdefault(candidate.domain, candidate)
