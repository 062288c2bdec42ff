"""`CommandRouter`: a message on an entity's command topic runs the service the entity declares for it."""

from __future__ import annotations

import asyncio
import logging

from hub.core import Core, HubError, RegistryEntry
from hub.core.log_limit import LogLimit, shown
from hub.entity_commands import run_command

from .topics import Topics

__all__ = ["CommandRouter"]

_LOGGER = logging.getLogger(__name__)


class CommandRouter:
    """Only payloads an entity declares (`ON`, `OFF`, `PRESS`) are carried out; anything else is dropped and
    logged, at most once a minute per topic."""

    def __init__(self, core: Core, topics: Topics) -> None:
        self._core = core
        self._topics = topics
        self._targets: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refused = LogLimit(_LOGGER)

    def learn(self, entry: RegistryEntry) -> None:
        if entry.node == self._topics.node and entry.commands and entry.platform in ("switch", "button"):
            self._targets[entry.object_id] = entry.entity_id

    def forget(self, entry: RegistryEntry) -> None:
        if self._targets.get(entry.object_id) == entry.entity_id:
            del self._targets[entry.object_id]

    def handle(self, topic: str, payload: bytes | bytearray | str | int | float | None) -> None:
        object_id = self._topics.object_id_of_command(topic)
        entity_id = self._targets.get(object_id) if object_id is not None else None
        if entity_id is None:
            self._refused.warning(topic, "Ignored MQTT command on %s: no entity here accepts commands there", topic)
            return
        entry = self._core.entities.get(entity_id)
        text = _text(payload)
        if entry is None or text is None or text not in entry.commands:
            excerpt = shown(
                payload if text is None and isinstance(payload, bytes | bytearray) else text or repr(payload)
            )
            accepted = ", ".join(entry.commands) if entry is not None else "none"
            self._refused.warning(
                topic, "Ignored MQTT command on %s for %s: %s; accepts only %s", topic, entity_id, excerpt, accepted
            )
            return
        _LOGGER.info("MQTT command %s for %s", text, entity_id)
        task = asyncio.get_running_loop().create_task(self._run(entity_id, text), name=f"mqtt-command:{entity_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, entity_id: str, payload: str) -> None:
        try:
            await run_command(self._core, entity_id, payload)
        except HubError as err:
            _LOGGER.warning("MQTT command %s for %s failed: %s", payload, entity_id, err)
        except Exception:
            _LOGGER.exception("MQTT command %s for %s failed", payload, entity_id)

    def close(self) -> None:
        """Cancel commands still running (the sink is stopping)."""
        for task in list(self._tasks):
            task.cancel()


def _text(payload: bytes | bytearray | str | int | float | None) -> str | None:
    if isinstance(payload, bytes | bytearray):
        try:
            return payload.decode()
        except UnicodeDecodeError:
            return None
    return payload if isinstance(payload, str) else None
