"""Helpers of the Redis sink tests: a running sink over a real core, a reader client, and waiting for a condition."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from hub.backoff import Backoff
from hub.config.models import RedisConfig
from hub.config.validation import Secret
from hub.core import Core
from hub.health import Health, HealthRegistry
from hub.sinks.redis import RedisSink

__all__ = ["FAST_BACKOFF", "RunningSink", "hash_states", "running_sink", "states_of"]

FAST_BACKOFF = Backoff(initial=0.05, factor=2.0, cap=0.2, jitter=0.0)
"""Real but short delays: a 10 s outage then costs tens of reconnect attempts, not thousands."""


class RunningSink:
    """What a test holds: the core, the sink, its health and a client reading the same Redis."""

    def __init__(self, core: Core, sink: RedisSink, health: Health, reader: Redis) -> None:
        self.core = core
        self.sink = sink
        self.health = health
        self.reader = reader


@asynccontextmanager
async def running_sink(url: str, core: Core | None = None, **settings: Any) -> AsyncIterator[RunningSink]:
    core = core or Core("nas")
    config = RedisConfig(url=Secret(url), **settings)
    health = HealthRegistry().create("redis", "sink")
    sink = RedisSink(core, config, health, backoff=FAST_BACKOFF)
    reader = Redis.from_url(url, decode_responses=True)
    try:
        async with sink.lifespan():
            yield RunningSink(core, sink, health, reader)
    finally:
        await reader.aclose()


async def hash_states(reader: Redis, key: str) -> dict[str, dict[str, Any]]:
    """The states hash, decoded."""
    raw = await reader.hgetall(key)
    return {str(entity_id): json.loads(value) for entity_id, value in raw.items()}


def states_of(core: Core) -> dict[str, dict[str, Any]]:
    """The state machine in the hash's shape: entity_id -> State.as_dict() through JSON."""
    return {state.entity_id: json.loads(json.dumps(state.as_dict())) for state in core.states.all()}
