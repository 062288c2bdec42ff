"""EventBus semantics: typed and catch-all listeners, filters at fire time, unsubscribe, once, async, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from hub.core import MATCH_ALL, Context, Event, EventBus, EventOrigin, EventType
from hub.core.clock import FakeClock

PING: EventType[Mapping[str, Any]] = EventType("ping")
PONG: EventType[Mapping[str, Any]] = EventType("pong")


def test_fire_delivers_type_data_origin_and_context_to_a_listener() -> None:
    bus = EventBus()
    got: list[Event[Mapping[str, Any]]] = []
    bus.listen(PING, got.append)
    context = Context(user_id="u1")
    bus.fire(PING, {"n": 1}, origin=EventOrigin.remote, context=context)
    assert len(got) == 1
    event = got[0]
    assert event.event_type == "ping"
    assert event.data == {"n": 1}
    assert event.origin is EventOrigin.remote
    assert event.context is context
    assert event.as_dict()["origin"] == "REMOTE"
    assert bus.fired == 1


def test_time_fired_and_context_follow_the_clock_when_not_given(fake_clock: FakeClock) -> None:
    bus = EventBus()
    got: list[Event[Mapping[str, Any]]] = []
    bus.listen(PING, got.append)
    bus.fire(PING)
    event = got[0]
    assert event.time_fired == fake_clock.utcnow()
    assert event.time_fired_timestamp == fake_clock.utcnow().timestamp()
    assert event.data == {}
    # A context made lazily for the event still carries the time it was fired in its ULID.
    assert event.context.id[:10] == Context.at(fake_clock.utcnow().timestamp()).id[:10]
    assert event.context is event.context


def test_listeners_of_one_type_do_not_see_others_and_match_all_sees_every_event() -> None:
    bus = EventBus()
    pings: list[str] = []
    every: list[str] = []
    bus.listen(PING, lambda e: pings.append(e.event_type))
    bus.listen(MATCH_ALL, lambda e: every.append(e.event_type))
    bus.fire(PING)
    bus.fire(PONG)
    bus.fire("custom_event")
    assert pings == ["ping"]
    assert every == ["ping", "pong", "custom_event"]
    assert bus.listener_counts() == {"ping": 1, MATCH_ALL: 1}


def test_listeners_run_in_subscription_order_typed_before_catch_all() -> None:
    bus = EventBus()
    order: list[str] = []
    bus.listen(MATCH_ALL, lambda e: order.append("all"))
    bus.listen(PING, lambda e: order.append("first"))
    bus.listen(PING, lambda e: order.append("second"))
    bus.fire(PING)
    assert order == ["first", "second", "all"]


def test_filter_runs_at_fire_time_and_a_rejected_event_is_never_built() -> None:
    bus = EventBus()
    seen_by_filter: list[Mapping[str, Any]] = []
    got: list[int] = []

    def only_even(data: Mapping[str, Any]) -> bool:
        seen_by_filter.append(data)
        return bool(data["n"] % 2 == 0)

    bus.listen(PING, lambda e: got.append(e.data["n"]), event_filter=only_even)
    for n in range(5):
        bus.fire(PING, {"n": n})
    assert got == [0, 2, 4]
    assert [d["n"] for d in seen_by_filter] == [0, 1, 2, 3, 4]


def test_a_raising_filter_is_logged_and_skips_only_its_listener(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    got: list[str] = []

    def broken(data: Mapping[str, Any]) -> bool:
        raise KeyError("nope")

    bus.listen(PING, lambda e: got.append("filtered"), event_filter=broken)
    bus.listen(PING, lambda e: got.append("plain"))
    with caplog.at_level(logging.ERROR):
        bus.fire(PING)
    assert got == ["plain"]
    assert "Event filter" in caplog.text


def test_unsubscribe_stops_delivery_and_is_idempotent() -> None:
    bus = EventBus()
    got: list[int] = []
    undo = bus.listen(PING, lambda e: got.append(1))
    bus.fire(PING)
    undo()
    undo()
    bus.fire(PING)
    assert got == [1]
    assert bus.listener_counts() == {}


def test_unsubscribing_a_later_listener_during_dispatch_keeps_it_from_this_event() -> None:
    bus = EventBus()
    got: list[str] = []
    undo_second: list[Any] = []

    def first(event: Event[Mapping[str, Any]]) -> None:
        got.append("first")
        undo_second[0]()

    bus.listen(PING, first)
    undo_second.append(bus.listen(PING, lambda e: got.append("second")))
    bus.listen(PING, lambda e: got.append("third"))
    bus.fire(PING)
    bus.fire(PING)
    assert got == ["first", "third", "first", "third"]


def test_a_listener_may_unsubscribe_itself_and_subscribe_others_during_dispatch() -> None:
    bus = EventBus()
    got: list[str] = []
    undo: list[Any] = []

    def self_removing(event: Event[Mapping[str, Any]]) -> None:
        got.append("self")
        undo[0]()
        bus.listen(PING, lambda e: got.append("added"))

    undo.append(bus.listen(PING, self_removing))
    bus.fire(PING)
    assert got == ["self"]  # a listener added during a dispatch starts with the next event
    bus.fire(PING)
    assert got == ["self", "added"]


def test_catch_all_unsubscribe_updates_every_type() -> None:
    bus = EventBus()
    got: list[str] = []
    bus.listen(PING, lambda e: got.append("ping"))
    undo = bus.listen(MATCH_ALL, lambda e: got.append("all"))
    bus.fire(PING)
    undo()
    bus.fire(PING)
    bus.fire(PONG)
    assert got == ["ping", "all", "ping"]


def test_listen_once_fires_once_even_when_refired_from_inside() -> None:
    bus = EventBus()
    got: list[int] = []

    def once(event: Event[Mapping[str, Any]]) -> None:
        got.append(event.data["n"])
        bus.fire(PING, {"n": event.data["n"] + 1})

    bus.listen_once(PING, once)
    bus.fire(PING, {"n": 1})
    bus.fire(PING, {"n": 10})
    assert got == [1]
    assert bus.listener_counts() == {}


def test_listen_once_can_be_cancelled_before_it_fires() -> None:
    bus = EventBus()
    got: list[int] = []
    undo = bus.listen_once(PING, lambda e: got.append(1))
    undo()
    bus.fire(PING)
    assert got == []


async def test_coroutine_listeners_run_as_tasks_and_drain_waits_for_them() -> None:
    bus = EventBus()
    got: list[str] = []

    async def slow(event: Event[Mapping[str, Any]]) -> None:
        await asyncio.sleep(0.01)
        got.append("async")

    bus.listen(PING, slow)
    bus.listen(PING, lambda e: got.append("sync"))
    bus.fire(PING)
    assert got == ["sync"]  # fire() never waits for a coroutine listener
    await bus.drain()
    assert got == ["sync", "async"]


async def test_a_sync_listener_returning_an_awaitable_is_scheduled() -> None:
    bus = EventBus()
    got: list[str] = []

    async def later() -> None:
        got.append("awaited")

    bus.listen(PING, lambda e: later())
    bus.fire(PING)
    await bus.drain()
    assert got == ["awaited"]


async def test_raising_listeners_are_logged_and_isolated(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    got: list[str] = []

    def boom(event: Event[Mapping[str, Any]]) -> None:
        raise RuntimeError("sync boom")

    async def async_boom(event: Event[Mapping[str, Any]]) -> None:
        raise RuntimeError("async boom")

    bus.listen(PING, boom)
    bus.listen(PING, async_boom)
    bus.listen(PING, lambda e: got.append("after"))
    with caplog.at_level(logging.ERROR):
        bus.fire(PING)
        await bus.drain()
    assert got == ["after"]
    assert "sync boom" in caplog.text
    assert "async boom" in caplog.text


def test_firing_with_no_listener_counts_and_builds_nothing() -> None:
    bus = EventBus()
    bus.fire(PING, {"n": 1})
    assert bus.fired == 1


def test_firing_match_all_itself_reaches_catch_all_listeners_once() -> None:
    bus = EventBus()
    got: list[str] = []
    bus.listen(MATCH_ALL, lambda e: got.append(e.event_type))
    bus.fire(MATCH_ALL)
    assert got == ["*"]


def test_event_given_a_datetime_keeps_it() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    event = Event("x", {"a": 1}, EventOrigin.local, when)
    assert event.time_fired is when
    assert event.time_fired_timestamp == when.timestamp()
    assert event.as_dict()["time_fired"] == "2026-05-01T12:00:00+00:00"
    assert repr(event) == "<Event x[L]: {'a': 1}>"
