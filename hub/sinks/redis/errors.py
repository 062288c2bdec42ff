"""The Redis sink's errors: one meaning per class, library exceptions wrapped at the boundary."""

from __future__ import annotations

from hub.core import HubError, Unavailable

__all__ = ["RedisSinkError", "RedisTimeout", "RedisUnavailable"]


class RedisSinkError(HubError):
    """Something the Redis sink could not do; the hub keeps running without it."""


class RedisUnavailable(RedisSinkError, Unavailable):
    """Redis refused, dropped or failed a connection or a write; the sink retries with backoff and resyncs."""


class RedisTimeout(RedisUnavailable):
    """Redis did not answer within `hub.redis.timeout` (overloaded, or paused by `DEBUG SLEEP`)."""
