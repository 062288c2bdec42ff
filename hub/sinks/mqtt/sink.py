"""`mqtt_sink`: the MQTT sink's lifetime: bus listeners, the connector task, and `offline` on the way out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.config.models import MqttConfig
from hub.core import Core
from hub.health import Health

from .bridge import Bridge
from .client import Connector
from .topics import Topics

__all__ = ["mqtt_sink"]

_LOGGER = logging.getLogger(__name__)


@asynccontextmanager
async def mqtt_sink(core: Core, config: MqttConfig, health: Health, *, version: str) -> AsyncIterator[Bridge]:
    """Mirror `core` to the broker while the context is open; the bus never waits on the broker."""
    topics = Topics.of(config, core.node)
    bridge = Bridge(core, config, topics, health, version)
    undo = bridge.listen()
    undo.append(core.services.register("mqtt", bridge.outbox.service()))
    connector = Connector(config, topics, health, bridge.session)
    task = asyncio.create_task(connector.run(), name="mqtt-sink")
    _LOGGER.info("MQTT sink for node %s on %s:%d", topics.node, config.host, config.port)
    try:
        yield bridge
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for unsubscribe in undo:
            unsubscribe()
