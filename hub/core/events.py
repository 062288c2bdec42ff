"""`EventType`, `Event` and `EventBus`: the hub's typed, synchronous-dispatch event bus."""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from . import clock
from .context import Context

__all__ = [
    "EVENT_CALL_SERVICE",
    "EVENT_HUB_STARTED",
    "EVENT_HUB_STOP",
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
EVENT_HUB_STARTED: EventType[Mapping[str, Any]] = EventType("hub_started")
EVENT_HUB_STOP: EventType[Mapping[str, Any]] = EventType("hub_stop")
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
    """One fired event; the data mapping is owned by the event and must not be mutated."""

    __slots__ = ("context", "data", "event_type", "origin", "time_fired")

    def __init__(
        self,
        event_type: str,
        data: _DataT,
        origin: EventOrigin,
        time_fired: datetime,
        context: Context,
    ) -> None:
        self.event_type = event_type
        self.data = data
        self.origin = origin
        self.time_fired = time_fired
        self.context = context

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
    __slots__ = ("callback", "event_filter", "is_async")

    def __init__(self, callback: Callable[[Event[Any]], Any], event_filter: EventFilter[Any] | None) -> None:
        self.callback = callback
        self.event_filter = event_filter
        self.is_async = inspect.iscoroutinefunction(callback)


class EventBus:
    """Fires events to listeners of one type or of all types.

    `fire()` never awaits: plain listeners run inline, coroutine listeners are scheduled as tasks, and a
    listener's exception is logged and isolated from the others. Filters run at fire time, so a filtered
    listener costs nothing for events it rejects. Listeners that must not slow the bus (sinks) own a queue.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[str, tuple[_Subscription, ...]] = {}
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

        def unsubscribe() -> None:
            current = self._subscriptions.get(event_type, ())
            remaining = tuple(s for s in current if s is not subscription)
            if remaining:
                self._subscriptions[event_type] = remaining
            else:
                self._subscriptions.pop(event_type, None)

        return unsubscribe

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
        """Deliver an event to its listeners now; never blocks and never raises a listener's error."""
        self.fired += 1
        typed = self._subscriptions.get(event_type, ())
        catch_all = self._subscriptions.get(MATCH_ALL, ()) if event_type != MATCH_ALL else ()
        if not typed and not catch_all:
            return
        payload: Any = data if data is not None else {}
        event: Event[Any] | None = None
        for subscription in typed + catch_all if catch_all else typed:
            if subscription.event_filter is not None:
                try:
                    if not subscription.event_filter(payload):
                        continue
                except Exception:
                    _LOGGER.exception("Event filter %r for %s failed", subscription.event_filter, event_type)
                    continue
            if event is None:
                event = Event(
                    event_type,
                    payload,
                    origin,
                    time_fired or clock.utcnow(),
                    context or Context(),
                )
            self._dispatch(subscription, event)

    def _dispatch(self, subscription: _Subscription, event: Event[Any]) -> None:
        if subscription.is_async:
            task = asyncio.get_running_loop().create_task(_guarded(subscription.callback(event), event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        try:
            result = subscription.callback(event)
        except Exception:
            _LOGGER.exception("Error in listener %r for %s", subscription.callback, event.event_type)
            return
        if inspect.isawaitable(result):
            task = asyncio.get_running_loop().create_task(_guarded(result, event))
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
