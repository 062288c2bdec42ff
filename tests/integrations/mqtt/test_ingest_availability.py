"""Availability of discovered entities as Home Assistant reads it: one topic, or a list in `all`/`any`/`latest` mode."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from hub.core.log_limit import LogLimit
from integrations.mqtt.config import MqttIngestConfig
from integrations.mqtt.ingest import Ingest

CONFIG_TOPIC = "homeassistant/sensor/pi/pi_cpu/config"


def _ingest(mode: str | None) -> Ingest:
    ingest = Ingest(MqttIngestConfig(discovery=True), "central", LogLimit(logging.getLogger(__name__)))
    config: dict[str, Any] = {
        "name": "CPU",
        "unique_id": "pi_cpu",
        "object_id": "pi_cpu",
        "state_topic": "homelab/pi/pi_cpu/state",
        "avty": [{"t": "homelab/pi/availability"}, {"topic": "homelab/pi/pi_cpu/availability", "pl_avail": "up"}],
        "device": {"identifiers": ["pi"], "name": "PI"},
    }
    if mode is not None:
        config["availability_mode"] = mode
    ingest.handle(CONFIG_TOPIC, orjson.dumps(config))
    ingest.handle("homelab/pi/pi_cpu/state", b"42")
    return ingest


def _available(ingest: Ingest) -> bool:
    (reading,) = ingest.readings.values()
    return reading.available


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("all", [False, True, False, False]),  # available while every topic says so
        ("any", [True, True, True, True]),  # while one topic says so
        (None, [True, True, True, False]),  # as the latest usable message says (HA's default, `latest`)
    ],
)
def test_modes(mode: str | None, expected: list[bool]) -> None:
    ingest = _ingest(mode)
    assert not _available(ingest)  # nothing heard yet
    seen = []
    # The node's topic, then the entity's; a payload that is neither of a topic's two is ignored, as in HA
    # ('down' and 'nonsense': the entity topic's payloads are 'up' and 'offline').
    for node, entity in [("online", "down"), ("online", "up"), ("offline", "up"), ("offline", "nonsense")]:
        ingest.handle("homelab/pi/availability", node.encode())
        ingest.handle("homelab/pi/pi_cpu/availability", entity.encode())
        seen.append(_available(ingest))
    assert seen == expected


def test_none_payload_reads_unknown() -> None:
    ingest = _ingest("all")
    ingest.handle("homelab/pi/pi_cpu/state", b"None")
    (reading,) = ingest.readings.values()
    assert reading.value is None
