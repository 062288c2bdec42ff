"""The MQTT sink: state topics, Home Assistant discovery and command topics for this node's entities."""

from .bridge import Bridge
from .sink import mqtt_sink

__all__ = ["Bridge", "mqtt_sink"]
