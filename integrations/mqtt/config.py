"""`MqttIngestConfig`: the broker to read, the topics that become entities, and whether to follow HA discovery."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, model_validator

from hub.config.validation import Port, Secret, Slug, StrictModel

__all__ = ["MqttIngestConfig", "TopicEntity"]

_LEVEL = re.compile(r"^[^+#]+$")


def _check_topic(value: str) -> str:
    if not value or any(not _LEVEL.match(level) for level in value.split("/")):
        raise ValueError(f"expected a topic with no +, # or empty level, got {value!r}")
    return value


Topic = Annotated[str, AfterValidator(_check_topic)]


class TopicEntity(StrictModel):
    """One entity read from one topic: the payload itself, or a value inside its JSON."""

    topic: Topic
    name: str
    key: Slug
    """The entity id becomes `<platform>.<node>_<key>`."""
    platform: Literal["sensor", "binary_sensor"] = "sensor"
    json_path: str | None = None
    """Dotted path into a JSON payload (`sensors.0.temp`); without it the whole payload is the value."""
    unit: str | None = None
    device_class: str | None = None
    state_class: Literal["measurement", "total", "total_increasing"] | None = None
    payload_on: str = "ON"
    payload_off: str = "OFF"


class MqttIngestConfig(StrictModel):
    host: str = "127.0.0.1"
    port: Port = 1883
    username: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None
    """Connect with TLS, verifying the broker against this CA file."""
    client_id: str | None = None
    """Defaults to `homelab-hub-<node>-ingest`."""
    topics: tuple[TopicEntity, ...] = ()
    discovery: bool = False
    """Create the entities that Home Assistant discovery messages on the broker describe (other hubs, ESPHome...)."""
    discovery_prefix: Annotated[str, AfterValidator(_check_topic)] = "homeassistant"

    @model_validator(mode="after")
    def _something_to_read(self) -> MqttIngestConfig:
        if not self.topics and not self.discovery:
            raise ValueError("give topics, or discovery: true, or both")
        keys = [entity.key for entity in self.topics]
        if len(keys) != len(set(keys)):
            raise ValueError("each entry under topics needs its own key")
        return self
