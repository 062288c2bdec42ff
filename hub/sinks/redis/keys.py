"""`RedisKeys`: the key layout under the prefix, in one place (docs/redis.md describes it for readers)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RedisKeys"]


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Names derived from the prefix: the states hash, the events stream and the state_changed channel."""

    prefix: str

    @property
    def states(self) -> str:
        """Hash: entity_id -> the entity's current State as Home Assistant's JSON."""
        return f"{self.prefix}states"

    @property
    def events(self) -> str:
        """Stream, capped: one entry per event, fields `event_type` and `event` (the event's JSON)."""
        return f"{self.prefix}events"

    @property
    def state_changed(self) -> str:
        """Pub/sub channel: each state_changed event's JSON."""
        return f"{self.prefix}state_changed"
