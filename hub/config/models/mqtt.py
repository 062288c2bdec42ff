"""`hub.mqtt`: the optional MQTT sink (state topics, Home Assistant discovery, commands) and its broker."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator

from ..validation import Duration, Port, Secret, StrictModel

__all__ = ["MqttConfig", "MqttQos", "MqttTls", "topic_prefix"]

_TOPIC_LEVEL = re.compile(r"^[A-Za-z0-9_-]+$")

Qos = Literal[0, 1, 2]


def _check_prefix(value: str) -> str:
    """A publish prefix: levels of letters, digits, `_` and `-`; never `+`, `#` or an empty level."""
    if not all(_TOPIC_LEVEL.match(level) for level in value.split("/")):
        raise ValueError(f"expected topic levels of letters, digits, _ and - separated by /, got {value!r}")
    return value


def topic_prefix() -> AfterValidator:
    """The validator of a topic prefix (also used by the MQTT ingest's own options)."""
    return AfterValidator(_check_prefix)


class MqttTls(StrictModel):
    """TLS to the broker; with no files the system's CA store verifies it."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False
    """Skip checking the broker's host name against its certificate (self-signed lab brokers)."""


class MqttQos(StrictModel):
    """QoS per kind of message: configs and availability must arrive; states are superseded by the next."""

    discovery: Qos = 1
    availability: Qos = 1
    states: Qos = 0
    commands: Qos = 1


class MqttConfig(StrictModel):
    host: str = "127.0.0.1"
    port: Port = 1883
    username: str | None = None
    password: Secret | None = None
    tls: MqttTls | None = None
    client_id: str | None = None
    """Defaults to `homelab-hub-<node>`; two hubs with one client id would knock each other off the broker."""
    keepalive: Duration = timedelta(seconds=60)
    base_topic: Annotated[str, topic_prefix()] = "homelab"
    """States go to `<base_topic>/<node>/<object_id>/state`, availability to `<base_topic>/<node>/availability`."""
    discovery: bool = True
    discovery_prefix: Annotated[str, topic_prefix()] = "homeassistant"
    discovery_mode: Literal["component", "device"] = "component"
    """`device` sends one message per device (Home Assistant 2024.12+ only); `component` works on every version."""
    qos: MqttQos = MqttQos()
    birth_delay: Duration = timedelta(seconds=1)
    """Longest random wait before re-publishing on Home Assistant's `online`, so many hubs do not burst at once."""
