"""The Redis sink: current states in a hash, recent events in a capped stream, state changes on pub/sub."""

from .errors import RedisSinkError, RedisTimeout, RedisUnavailable
from .keys import RedisKeys
from .sink import RedisSink

__all__ = ["RedisKeys", "RedisSink", "RedisSinkError", "RedisTimeout", "RedisUnavailable"]
