"""`EventType`, `Event` and `EventBus`: the hub's typed, synchronous-dispatch event bus."""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from . import clock
from .context import Context

__all__ = [
    "EVENT_CALL_SERVICE",
    "EVENT_INTEGRATION_HEALTH_CHANGED",
    "EVENT_SERVICE_REGISTERED",
    "EVENT_STATE_CHANGED",
    "MATCH_ALL",
    "Event",
    "EventBus",
    "EventOrigin",
    "EventType",
    "Unsubscribe",
]

_LOGGER = logging.getLogger(__name__)

_DataT = TypeVar("_DataT", bound=Mapping[str, Any])

Unsubscribe = Callable[[], None]
MATCH_ALL = "*"


class EventType(str, Generic[_DataT]):
    """An event name that also carries the type of its data, so listeners are checked statically."""

    __slots__ = ()


EVENT_STATE_CHANGED: EventType[Mapping[str, Any]] = EventType("state_changed")
EVENT_CALL_SERVICE: EventType[Mapping[str, Any]] = EventType("call_service")
EVENT_SERVICE_REGISTERED: EventType[Mapping[str, Any]] = EventType("service_registered")
EVENT_INTEGRATION_HEALTH_CHANGED: EventType[Mapping[str, Any]] = EventType("integration_health_changed")


class EventOrigin(enum.Enum):
    """Where an event came from: this process or a remote API caller."""

    local = "LOCAL"
    remote = "REMOTE"

    def __str__(self) -> str:
        return self.value


class Event(Generic[_DataT]):
    """One fired event; the data mapping is owned by the event and must not be mutated.

    `time_fired` may be given as a POSIX timestamp and `context` left out: the datetime and the context are
    then made on first read, since most events are delivered and dropped without either being looked at.
    """

    __slots__ = ("_context", "_time_fired", "_timestamp", "data", "event_type", "origin")

    def __init__(
        self,
        event_type: str,
        data: _DataT,
        origin: EventOrigin,
        time_fired: datetime | float,
        context: Context | None = None,
    ) -> None:
        self.event_type = event_type
        self.data = data
        self.origin = origin
        self._time_fired: datetime | None = None
        self._timestamp: float | None = None
        if isinstance(time_fired, datetime):
            self._time_fired = time_fired
        else:
            self._timestamp = time_fired
        self._context = context

    @property
    def time_fired(self) -> datetime:
        if self._time_fired is None:
            assert self._timestamp is not None
            self._time_fired = datetime.fromtimestamp(self._timestamp, UTC)
        return self._time_fired

    @property
    def time_fired_timestamp(self) -> float:
        if self._timestamp is None:
            assert self._time_fired is not None
            self._timestamp = self._time_fired.timestamp()
        return self._timestamp

    @property
    def context(self) -> Context:
        if self._context is None:
            self._context = Context.at(self.time_fired_timestamp)
        return self._context

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape Home Assistant's APIs use for an event."""
        return {
            "event_type": self.event_type,
            "data": self.data,
            "origin": self.origin.value,
            "time_fired": self.time_fired.isoformat(),
            "context": self.context.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type}[{self.origin.value[0]}]: {dict(self.data)}>"


Listener = Callable[[Event[_DataT]], Awaitable[None] | None]
EventFilter = Callable[[_DataT], bool]


class _Subscription:
    __slots__ = ("active", "callback", "event_filter", "is_async")

    def __init__(self, callback: Callable[[Event[Any]], Any], event_filter: EventFilter[Any] | None) -> None:
        self.callback = callback
        self.event_filter = event_filter
        self.is_async = inspect.iscoroutinefunction(callback)
        self.active = True


class EventBus:
    """Fires events to listeners of one type or of all types.

    `fire()` never awaits: plain listeners run inline, coroutine listeners are scheduled as tasks, and a
    listener's exception is logged and isolated from the others. Filters run at fire time, so a filtered
    listener costs nothing for events it rejects. Listeners that must not slow the bus (sinks) own a queue.
    Once `unsubscribe()` returns, the listener is never called again, even by an event being dispatched.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[str, tuple[_Subscription, ...]] = {}
        # What `fire()` walks, kept ready on every (un)subscribe so a fire costs one lookup: per event type
        # with listeners of its own, those then the catch-all ones; any other type gets `_catch_all`.
        self._dispatch: dict[str, tuple[_Subscription, ...]] = {}
        self._catch_all: tuple[_Subscription, ...] = ()
        self._tasks: set[asyncio.Task[None]] = set()
        self.fired = 0

    def listen(
        self,
        event_type: EventType[_DataT] | str,
        listener: Listener[_DataT],
        *,
        event_filter: EventFilter[_DataT] | None = None,
    ) -> Unsubscribe:
        """Call `listener` for each event of `event_type` (or every event for `MATCH_ALL`)."""
        subscription = _Subscription(listener, event_filter)
        self._subscriptions[event_type] = (*self._subscriptions.get(event_type, ()), subscription)
        self._rebuild(event_type)

        def unsubscribe() -> None:
            subscription.active = False
            current = self._subscriptions.get(event_type, ())
            remaining = tuple(s for s in current if s is not subscription)
            if len(remaining) == len(current):
                return
            if remaining:
                self._subscriptions[event_type] = remaining
            else:
                self._subscriptions.pop(event_type, None)
            self._rebuild(event_type)

        return unsubscribe

    def _rebuild(self, event_type: str) -> None:
        if event_type == MATCH_ALL:
            self._catch_all = self._subscriptions.get(MATCH_ALL, ())
            changed = [t for t in self._subscriptions if t != MATCH_ALL]
        else:
            changed = [event_type]
        for name in changed:
            own = self._subscriptions.get(name)
            if own:
                self._dispatch[name] = own + self._catch_all
            else:
                self._dispatch.pop(name, None)

    def listen_once(self, event_type: EventType[_DataT] | str, listener: Listener[_DataT]) -> Unsubscribe:
        """Call `listener` for the next event of `event_type` only."""
        undo: list[Unsubscribe] = []

        def once(event: Event[_DataT]) -> Awaitable[None] | None:
            undo[0]()
            return listener(event)

        undo.append(self.listen(event_type, once))
        return undo[0]

    def listener_counts(self) -> dict[str, int]:
        """How many listeners each event type has (the `/api/events` answer)."""
        return {event_type: len(subs) for event_type, subs in self._subscriptions.items()}

    def fire(
        self,
        event_type: EventType[_DataT] | str,
        data: _DataT | None = None,
        *,
        origin: EventOrigin = EventOrigin.local,
        context: Context | None = None,
        time_fired: datetime | None = None,
    ) -> None:
        """Deliver an event to its listeners now; never blocks and never raises a listener's error.

        The hot path of the hub (bench/bus.py): one lookup, the `Event` made only once a listener takes it,
        plain listeners called inline.
        """
        self.fired += 1
        subscriptions = self._dispatch.get(event_type, self._catch_all)
        if not subscriptions:
            return
        payload: Any = data if data is not None else {}
        event: Event[Any] | None = None
        for subscription in subscriptions:
            if not subscription.active:
                continue
            if subscription.event_filter is not None:
                try:
                    if not subscription.event_filter(payload):
                        continue
                except Exception:
                    _LOGGER.exception("Event filter %r for %s failed", subscription.event_filter, event_type)
                    continue
            if event is None:
                event = Event(event_type, payload, origin, time_fired or clock.timestamp(), context)
            if subscription.is_async:
                self._schedule(subscription.callback(event), event)
                continue
            try:
                result = subscription.callback(event)
            except Exception:
                _LOGGER.exception("Error in listener %r for %s", subscription.callback, event_type)
                continue
            if result is not None and inspect.isawaitable(result):
                self._schedule(result, event)

    def _schedule(self, awaitable: Awaitable[None], event: Event[Any]) -> None:
        task = asyncio.get_running_loop().create_task(_guarded(awaitable, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every coroutine listener started so far has finished (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def _guarded(awaitable: Awaitable[None] | Coroutine[Any, Any, None], event: Event[Any]) -> None:
    try:
        await awaitable
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOGGER.exception("Error in async listener for %s", event.event_type)
