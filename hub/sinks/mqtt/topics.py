"""`Topics`: every MQTT topic the sink uses, derived from the config, the node and entity ids."""

from __future__ import annotations

from dataclasses import dataclass

from hub.config.models import MqttConfig
from hub.core import RegistryEntry, slugify

__all__ = ["COMMAND_SUFFIX", "Topics"]

COMMAND_SUFFIX = "set"


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names for one node. Object ids and the node are slugs and the prefixes are validated levels,
    so no topic holds `+`, `#` or an empty level."""

    base: str
    node: str
    discovery_prefix: str

    @classmethod
    def of(cls, config: MqttConfig, node: str) -> Topics:
        return cls(config.base_topic, slugify(node), config.discovery_prefix)

    @property
    def availability(self) -> str:
        return f"{self.base}/{self.node}/availability"

    @property
    def birth(self) -> str:
        """Home Assistant's status topic: `online` when it (re)starts."""
        return f"{self.discovery_prefix}/status"

    @property
    def command_filter(self) -> str:
        """Subscription matching every command topic of this node."""
        return f"{self.base}/{self.node}/+/{COMMAND_SUFFIX}"

    def entity_availability(self, object_id: str) -> str:
        """`online` or `offline` for one entity: `offline` while the hub holds it `unavailable`."""
        return f"{self.base}/{self.node}/{object_id}/availability"

    def state(self, object_id: str) -> str:
        return f"{self.base}/{self.node}/{object_id}/state"

    def attributes(self, object_id: str) -> str:
        return f"{self.base}/{self.node}/{object_id}/attributes"

    def command(self, object_id: str) -> str:
        return f"{self.base}/{self.node}/{object_id}/{COMMAND_SUFFIX}"

    def object_id_of_command(self, topic: str) -> str | None:
        """The object id a command topic addresses, or None for any other topic."""
        prefix = f"{self.base}/{self.node}/"
        suffix = f"/{COMMAND_SUFFIX}"
        if not topic.startswith(prefix) or not topic.endswith(suffix):
            return None
        object_id = topic[len(prefix) : -len(suffix)]
        return object_id if object_id and "/" not in object_id else None

    def component_config(self, entry: RegistryEntry) -> str:
        """Per-component discovery: `<prefix>/<platform>/<node>/<object_id>/config`."""
        return f"{self.discovery_prefix}/{entry.platform}/{self.node}/{entry.object_id}/config"

    def device_config(self, device_identifier: str) -> str:
        """Device discovery (Home Assistant 2024.12+): `<prefix>/device/<node>/<device>/config`."""
        return f"{self.discovery_prefix}/device/{self.node}/{slugify(device_identifier)}/config"
