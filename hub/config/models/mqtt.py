"""`hub.mqtt`: the optional MQTT sink and Home Assistant discovery."""

from __future__ import annotations

from ..validation import Port, Secret, StrictModel

__all__ = ["MqttConfig"]


class MqttConfig(StrictModel):
    host: str = "127.0.0.1"
    port: Port = 1883
    username: str | None = None
    password: Secret | None = None
    discovery_prefix: str = "homeassistant"
    base_topic: str = "homelab"
