"""`hub.redis`: the optional Redis sink (where it connects, its key prefix, stream cap and batching)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ..validation import Duration, Secret, StrictModel

__all__ = ["REDIS_SCHEMES", "RedisConfig"]

REDIS_SCHEMES = ("redis", "rediss", "unix")


class RedisConfig(StrictModel):
    url: Secret = Secret("redis://127.0.0.1:6379/0")
    """`redis://[user:password@]host[:port]/db`, `rediss://` for TLS, or `unix:///path/redis.sock?db=0`."""
    key_prefix: str | None = None
    """Every key starts with this; unset means `homelab:<node>:`, so several hubs can share one Redis."""
    stream_maxlen: Annotated[int, Field(ge=1)] = 10_000
    """The `events` stream is trimmed to about this many entries (`XADD MAXLEN ~`). It also caps the events
    held while Redis is away: older ones would be trimmed from the stream anyway."""
    max_batch: Annotated[int, Field(ge=1, le=100_000)] = 1000
    """Events written per pipelined round trip; under load, batches fill while the previous one is in flight."""
    timeout: Duration = timedelta(seconds=5)
    """A connect or a batch slower than this counts as a failure, and the connection is made anew."""
    shutdown_timeout: Duration = timedelta(seconds=5)
    """How long shutdown waits for what is still pending to be written."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: Secret) -> Secret:
        # The message names the scheme only: the URL may hold a password.
        scheme = urlsplit(value.reveal()).scheme
        if scheme not in REDIS_SCHEMES:
            raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got scheme {scheme!r}")
        return value

    def prefix_for(self, node: str) -> str:
        """The key prefix in force for hub `node`."""
        return f"homelab:{node}:" if self.key_prefix is None else self.key_prefix
