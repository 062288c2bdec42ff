"""The integration contract: `Integration`, its narrow `IntegrationContext`, its errors and its discovery."""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
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


def discover_integrations() -> Mapping[str, type[Integration[Any, Any]]]:
    """Integrations in the `integrations` package, then those registered under the entry point group.

    Each is keyed by its package or entry point name, which must be its `domain`, and imported only when first
    looked up: a platform the config does not name costs nothing (the docker SDK alone would add about 7 MB
    to an idle hub that does not use it; bench/idle.py).
    """
    loaders: dict[str, list[tuple[str, Callable[[], Any]]]] = {}
    try:
        package = importlib.import_module("integrations")
    except ImportError:
        package = None
    if package is not None:
        for module_info in pkgutil.iter_modules(package.__path__, "integrations."):
            if module_info.ispkg:
                load = functools.partial(_integration_in, module_info.name)
                loaders.setdefault(module_info.name.rpartition(".")[2], []).append((module_info.name, load))
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        loaders.setdefault(entry.name, []).append((entry.value, entry.load))
    return _Integrations(loaders)


class _Integrations(Mapping[str, type[Integration[Any, Any]]]):
    """Known integrations by domain, each loaded on first lookup from the first origin that yields it."""

    def __init__(self, loaders: dict[str, list[tuple[str, Callable[[], Any]]]]) -> None:
        self._loaders = loaders
        self._loaded: dict[str, type[Integration[Any, Any]]] = {}

    def __getitem__(self, domain: str) -> type[Integration[Any, Any]]:
        found = self._loaded.get(domain)
        if found is not None:
            return found
        for origin, load in self._loaders.get(domain, ()):
            try:
                candidate = load()
            except Exception:
                _LOGGER.exception("Cannot load integration %s from %s", domain, origin)
                continue
            if isinstance(candidate, type) and issubclass(candidate, Integration) and candidate.domain == domain:
                self._loaded[domain] = candidate
                return candidate
            _LOGGER.warning("%s holds no Integration class with domain %r; ignored", origin, domain)
        raise KeyError(domain)

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


def _integration_in(module_name: str) -> Any:
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", ()):
        candidate = getattr(module, name, None)
        if isinstance(candidate, type) and issubclass(candidate, Integration) and candidate is not Integration:
            return candidate
    return None
