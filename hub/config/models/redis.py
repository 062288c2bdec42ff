"""`hub.redis`: the optional Redis sink."""

from __future__ import annotations

from ..validation import Secret, StrictModel

__all__ = ["RedisConfig"]


class RedisConfig(StrictModel):
    url: Secret = Secret("redis://127.0.0.1:6379/0")
