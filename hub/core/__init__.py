"""The hub's core vocabulary: events, states, context, entities, services and the clock seam."""

from .context import Context, ulid
from .core import Core
from .entity import (
    NO_INSTANCE,
    DeviceInfo,
    EntityDescription,
    EntityDetails,
    Platform,
    StateValue,
    entity_id_for,
    slugify,
)
from .errors import HubError, InvalidEntityId, InvalidState, ServiceNotFound, ServiceValidationError, Unavailable
from .events import (
    EVENT_CALL_SERVICE,
    EVENT_INTEGRATION_HEALTH_CHANGED,
    EVENT_SERVICE_REGISTERED,
    EVENT_STATE_CHANGED,
    MATCH_ALL,
    Event,
    EventBus,
    EventOrigin,
    EventType,
    Unsubscribe,
)
from .lifecycle import (
    EVENT_HOMEASSISTANT_CLOSE,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    EVENT_HOMEASSISTANT_START,
    EVENT_HOMEASSISTANT_STARTED,
    EVENT_HOMEASSISTANT_STOP,
    CoreState,
    Lifecycle,
)
from .registry import EVENT_ENTITY_REGISTRY_UPDATED, EntityRegistry, RegistryEntry
from .services import ServiceCall, ServiceDescription, ServiceRegistry
from .states import STATE_UNAVAILABLE, STATE_UNKNOWN, State, StateMachine, split_entity_id, valid_entity_id

__all__ = [
    "EVENT_CALL_SERVICE",
    "EVENT_ENTITY_REGISTRY_UPDATED",
    "EVENT_HOMEASSISTANT_CLOSE",
    "EVENT_HOMEASSISTANT_FINAL_WRITE",
    "EVENT_HOMEASSISTANT_START",
    "EVENT_HOMEASSISTANT_STARTED",
    "EVENT_HOMEASSISTANT_STOP",
    "EVENT_INTEGRATION_HEALTH_CHANGED",
    "EVENT_SERVICE_REGISTERED",
    "EVENT_STATE_CHANGED",
    "MATCH_ALL",
    "NO_INSTANCE",
    "STATE_UNAVAILABLE",
    "STATE_UNKNOWN",
    "Context",
    "Core",
    "CoreState",
    "DeviceInfo",
    "EntityDescription",
    "EntityDetails",
    "EntityRegistry",
    "Event",
    "EventBus",
    "EventOrigin",
    "EventType",
    "HubError",
    "InvalidEntityId",
    "InvalidState",
    "Lifecycle",
    "Platform",
    "RegistryEntry",
    "ServiceCall",
    "ServiceDescription",
    "ServiceNotFound",
    "ServiceRegistry",
    "ServiceValidationError",
    "State",
    "StateMachine",
    "StateValue",
    "Unavailable",
    "Unsubscribe",
    "entity_id_for",
    "slugify",
    "split_entity_id",
    "ulid",
    "valid_entity_id",
]
