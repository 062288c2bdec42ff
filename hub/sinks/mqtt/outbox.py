"""`Outbox`: the `mqtt.publish` service — messages published on request, bounded, sent in order by the bridge."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import ServiceCall, ServiceDescription, ServiceValidationError
from hub.pacing import Pacer

from .client import Link

__all__ = ["MAX_PAYLOAD", "OUTBOX_LIMIT", "Outbox"]

_LOGGER = logging.getLogger(__name__)

OUTBOX_LIMIT = 1000
"""Messages that may wait for the broker; a call past it is refused rather than growing memory."""
MAX_PAYLOAD = 256 * 1024


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    payload: str
    qos: int
    retain: bool


def _validated(data: Mapping[str, Any]) -> _Message:
    """Home Assistant's `mqtt.publish` fields: topic (no wildcards, no empty level), payload, qos, retain."""
    topic, payload = data.get("topic"), data.get("payload", "")
    qos, retain = data.get("qos", 0), data.get("retain", False)
    if not isinstance(topic, str) or not topic or "+" in topic or "#" in topic or "" in topic.split("/"):
        raise ServiceValidationError("topic must be a topic name without wildcards or empty levels")
    if not isinstance(payload, str) or len(payload.encode()) > MAX_PAYLOAD:
        raise ServiceValidationError(f"payload must be text of at most {MAX_PAYLOAD} bytes")
    if qos not in (0, 1, 2) or isinstance(qos, bool):
        raise ServiceValidationError("qos must be 0, 1 or 2")
    if not isinstance(retain, bool):
        raise ServiceValidationError("retain must be true or false")
    unknown = set(data) - {"topic", "payload", "qos", "retain"}
    if unknown:
        raise ServiceValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    return _Message(topic, payload, qos, retain)


class Outbox:
    """Holds requested messages until the bridge's writer hands them to the broker (in call order)."""

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer
        self._messages: deque[_Message] = deque()

    def __bool__(self) -> bool:
        return bool(self._messages)

    def service(self) -> ServiceDescription:
        return ServiceDescription(
            name="publish",
            handler=self._handle,
            description="Publish a message through the hub's broker connection.",
            fields={
                "topic": {"description": "Topic to publish to.", "required": True},
                "payload": {"description": "Text to publish."},
                "qos": {"description": "0, 1 or 2 (default 0)."},
                "retain": {"description": "Retain the message (default false)."},
            },
        )

    async def _handle(self, call: ServiceCall) -> None:
        message = _validated(call.data)
        if len(self._messages) >= OUTBOX_LIMIT:
            raise ServiceValidationError(f"{OUTBOX_LIMIT} messages already wait for the broker; try again later")
        self._messages.append(message)
        self._pacer.wake()

    def flush(self, link: Link) -> int:
        """Hand every waiting message to the link, keeping them until `confirm`: a QoS 0 message is known sent
        only once the link drains, so a connection that drops first leaves them for the next (at least once)."""
        for message in self._messages:
            link.publish(message.topic, message.payload, message.qos, message.retain)
        return len(self._messages)

    def confirm(self, count: int) -> None:
        """The first `count` messages reached the broker."""
        for _ in range(count):
            self._messages.popleft()
