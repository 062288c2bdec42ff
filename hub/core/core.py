"""`Core`: the shared vocabulary objects one hub owns (bus, states, services, entity registry, lifecycle, node)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import EventBus
from .lifecycle import Lifecycle
from .registry import EntityRegistry
from .services import ServiceRegistry
from .states import StateMachine

__all__ = ["Core"]


@dataclass(slots=True)
class Core:
    """What sinks and the API are given: never the integrations, never each other."""

    node: str
    bus: EventBus = field(default_factory=EventBus)
    states: StateMachine = field(init=False)
    services: ServiceRegistry = field(init=False)
    entities: EntityRegistry = field(init=False)
    lifecycle: Lifecycle = field(init=False)

    def __post_init__(self) -> None:
        self.lifecycle = Lifecycle(self.bus)
        self.states = StateMachine(self.bus)
        self.services = ServiceRegistry(self.bus)
        self.entities = EntityRegistry(self.bus)
