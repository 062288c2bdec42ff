"""`RedisSink`: mirrors states and events into Redis from its own task; Redis down or slow never holds up the hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT, FieldT

from hub.backoff import Backoff
from hub.config.models import RedisConfig
from hub.core import MATCH_ALL, Core, Event, clock
from hub.health import Health
from hub.jsonenc import event_json
from hub.sinks.base import reconnect_forever

from .errors import RedisTimeout, RedisUnavailable
from .keys import RedisKeys
from .pending import Batch, PendingWrites
from .state_cache import StateJsonCache

__all__ = ["RedisSink"]

_LOGGER = logging.getLogger(__name__)

_BACKOFF = Backoff(initial=0.5, factor=2.0, cap=30.0)
_RESYNC_CHUNK = 1000
"""States encoded between yields to the loop during a resync, so thousands of entities never stall the bus."""

# One script call streams (and publishes) a whole batch, its events packed into one argument: pipelining an
# XADD and a PUBLISH per event spent most of the time packing commands and parsing replies in redis-py, and
# even one argument per event left packing at a quarter of the CPU (bench/redis.py, docs/benchmarks.md).
# KEYS: stream, channel. ARGV: maxlen, the events (type then JSON, back to back), "type size,event size,..." in bytes.
_STREAM_BATCH = """
local stream, channel, maxlen, packed = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local at, count = 1, 0
for type_size, event_size in string.gmatch(ARGV[3], '(%d+),(%d+)') do
  local event_type = string.sub(packed, at, at + type_size - 1)
  at = at + type_size
  local event = string.sub(packed, at, at + event_size - 1)
  at = at + event_size
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'event_type', event_type, 'event', event)
  if event_type == 'state_changed' then  -- EVENT_STATE_CHANGED
    redis.call('PUBLISH', channel, event)
  end
  count = count + 1
end
return count
"""


class RedisSink:
    """A bus listener that only enqueues, and a writer task that pipelines batches to Redis.

    On every (re)connect the states hash is rewritten in full from the state machine, in one transaction,
    so entities removed while Redis was away disappear and a Redis that restarted empty is whole again.
    """

    def __init__(self, core: Core, config: RedisConfig, health: Health, *, backoff: Backoff = _BACKOFF) -> None:
        self._core = core
        self._config = config
        self._health = health
        self._backoff = backoff
        self.keys = RedisKeys(config.prefix_for(core.node))
        self._pending = PendingWrites(config.stream_maxlen)
        self._json = StateJsonCache(core.states)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._connected = False
        self._dropping = False
        self._target = _describe(config.url.reveal())
        self.written = 0
        """Events written to the stream since the start."""

    @property
    def dropped(self) -> int:
        """Events dropped because they waited longer than the buffer holds (Redis away or too slow)."""
        return self._pending.dropped

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[RedisSink]:
        self._health.queue_depth = 0
        unsubscribe = self._core.bus.listen(MATCH_ALL, self._on_event)
        writer = asyncio.create_task(self._run(), name="redis-sink-writer")
        try:
            yield self
        finally:
            unsubscribe()
            await self._finish(writer)

    def _on_event(self, event: Event[Any]) -> None:
        """The bus listener: constant time, never awaits, never touches the network."""
        if self._pending.add(event) and not self._dropping:
            self._dropping = True
            _LOGGER.warning(
                "Redis sink holds %d events, its cap (hub.redis.stream_maxlen): dropping the oldest until Redis "
                "at %s catches up",
                self._config.stream_maxlen,
                self._target,
            )
        self._health.queue_depth = len(self._pending)
        self._idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        await reconnect_forever(
            self._connection,
            self._write_forever,
            what=f"Redis at {self._target}",
            health=self._health,
            backoff=self._backoff,
            lost=(RedisUnavailable,),
            report=self._report,
        )

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Redis]:
        """A fresh client per connection, proven by rewriting the states hash; every library error inside the block
        becomes `RedisUnavailable`."""
        timeout = self._config.timeout.total_seconds()
        # The library's own retries are off: this sink retries with its backoff and resyncs after each failure.
        client = Redis.from_url(
            self._config.url.reveal(),
            retry=Retry(NoBackoff(), 0),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            client_name="homelab-hub",
        )
        try:
            await self._resync(client)
            yield client
        except RedisTimeoutError as err:
            raise RedisTimeout(f"Redis at {self._target} did not answer within {timeout:g}s") from err
        except (RedisError, OSError) as err:
            raise RedisUnavailable(f"Redis at {self._target}: {err}") from err
        finally:
            self._connected = False
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def _resync(self, client: Redis) -> None:
        """Rewrite the states hash from the state machine; later changes stay marked and follow it."""
        states = self._core.states.all()
        # Snapshot and forget together, with no await between: every change after this point is marked again.
        self._pending.forget_entities()
        self._health.queue_depth = len(self._pending)
        self._json.clear()
        fields: dict[FieldT, EncodableT] = {}
        for index, state in enumerate(states, 1):
            fields[state.entity_id] = self._json.for_hash(state)
            if index % _RESYNC_CHUNK == 0:
                await asyncio.sleep(0)
        started = clock.monotonic()
        async with client.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.states)
            if fields:
                pipe.hset(self.keys.states, mapping=fields)
            await pipe.execute()
        self._connected = True
        self._health.success(clock.monotonic() - started)
        _LOGGER.info("Redis sink connected to %s: %d states written to %s", self._target, len(fields), self.keys.states)

    async def _write_forever(self, client: Redis) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                self._idle.set()
                await self._wake.wait()
            await self._write_batch(client)

    async def _write_batch(self, client: Redis) -> None:
        batch = self._pending.take(self._config.max_batch)
        pipe = client.pipeline(transaction=False)
        # Events before states: a removed entity's last event still finds its old state's JSON to reuse.
        events = self._encode_events(batch)
        self._queue_states(pipe, batch)
        streamed = self._queue_events(pipe, events)
        try:
            await pipe.execute()
        except BaseException:
            # Cancellation at shutdown too: what was not confirmed stays pending (a retry may repeat a few events).
            self._pending.requeue(batch)
            self._health.queue_depth = len(self._pending)
            raise
        self.written += streamed
        self._health.queue_depth = len(self._pending)
        if not self._pending and self._dropping:
            self._dropping = False
            _LOGGER.info("Redis sink caught up; %d events dropped so far", self._pending.dropped)
        # No duration: the hub's health entity would change with every batch, and each change is another write.
        self._health.success()

    def _queue_states(self, pipe: Pipeline, batch: Batch) -> None:
        fields: dict[FieldT, EncodableT] = {}
        gone: list[FieldT] = []
        for entity_id in batch.entity_ids:
            state = self._core.states.get(entity_id)
            if state is None:
                gone.append(entity_id)
                self._json.forget(entity_id)
            else:
                fields[entity_id] = self._json.for_hash(state)
        if fields:
            pipe.hset(self.keys.states, mapping=fields)
        if gone:
            pipe.hdel(self.keys.states, *gone)

    def _encode_events(self, batch: Batch) -> list[tuple[bytes, bytes]]:
        """Each event's type and JSON, in order; an event that cannot be written as JSON is left out."""
        encoded: list[tuple[bytes, bytes]] = []
        for event in batch.events:
            try:
                payload = event_json(event, self._json.for_stream)
            except (TypeError, ValueError, RecursionError) as err:
                # Skipped, not retried: requeued, one bad event would block every later one.
                _LOGGER.warning("Redis sink skipped a %s event it cannot write as JSON: %s", event.event_type, err)
                continue
            encoded.append((event.event_type.encode(), payload))
        return encoded

    def _queue_events(self, pipe: Pipeline, events: list[tuple[bytes, bytes]]) -> int:
        """Queue the events in one script call; returns how many it holds."""
        if not events:
            return 0
        packed: list[bytes] = []
        sizes: list[int] = []
        for event_type, payload in events:
            packed += (event_type, payload)
            sizes += (len(event_type), len(payload))
        pipe.eval(
            _STREAM_BATCH,
            2,
            self.keys.events,
            self.keys.state_changed,
            self._config.stream_maxlen,
            b"".join(packed),
            ",".join(map(str, sizes)),
        )
        return len(events)

    def _report(self, err: RedisUnavailable) -> None:
        if isinstance(err.__cause__, RedisConnectionError):
            # Refused or dropped: certain at once, no need to wait for repeats before saying failing.
            self._health.fail_now(str(err))
        else:
            self._health.failure(str(err), timeout=isinstance(err, RedisTimeout))

    async def _finish(self, writer: asyncio.Task[None]) -> None:
        """Give the writer `shutdown_timeout` to write what is pending, then stop it."""
        if self._connected and not self._idle.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self._config.shutdown_timeout.total_seconds())
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        if self._pending:
            _LOGGER.warning("Redis sink stopped with %d writes pending for %s", len(self._pending), self._target)


def _describe(url: str) -> str:
    """Where the URL points, without user or password, for log lines and health errors."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"
