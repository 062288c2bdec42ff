"""The mqtt integration: entities from a broker's topics and Home Assistant discovery (the fleet's central view)."""

from .integration import MqttIngest

__all__ = ["MqttIngest"]
