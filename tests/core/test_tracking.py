"""track_state_changes: per-entity callbacks from one filtered bus listener; untracked writes cost nothing."""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Mapping
from typing import Any

import pytest

from hub.core import Event, EventBus, StateMachine, track_state_changes

Seen = list[tuple[str, str]]


def _recorder(seen: Seen, name: str) -> Any:
    def callback(event: Event[Mapping[str, Any]]) -> None:
        new = event.data["new_state"]
        seen.append((name, new.state if new is not None else "removed"))

    return callback


def test_each_callback_gets_only_its_entities() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    seen: Seen = []
    track_state_changes(bus, ["sensor.a"], _recorder(seen, "a"))
    track_state_changes(bus, ["sensor.b", "Sensor.C"], _recorder(seen, "bc"))
    states.set("sensor.a", "1")
    states.set("sensor.b", "2")
    states.set("sensor.c", "3")
    states.set("sensor.untracked", "4")
    states.remove("sensor.a")
    assert seen == [("a", "1"), ("bc", "2"), ("bc", "3"), ("a", "removed")]
    assert bus.listener_counts() == {"state_changed": 1}


def test_untracked_writes_never_build_an_event() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    filtered: list[str] = []
    track_state_changes(bus, ["sensor.a"], lambda e: filtered.append(e.data["entity_id"]))
    for n in range(100):
        states.set("sensor.other", str(n))
    assert filtered == []


def test_removal_and_last_removal_drop_the_bus_listener() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    seen: Seen = []
    undo_a = track_state_changes(bus, ["sensor.x"], _recorder(seen, "a"))
    undo_b = track_state_changes(bus, ["sensor.x"], _recorder(seen, "b"))
    states.set("sensor.x", "1")
    undo_a()
    undo_a()
    states.set("sensor.x", "2")
    undo_b()
    states.set("sensor.x", "3")
    assert seen == [("a", "1"), ("b", "1"), ("b", "2")]
    assert bus.listener_counts() == {}


def test_a_callback_removed_during_dispatch_misses_the_current_event() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    seen: Seen = []
    undo: list[Any] = []

    def first(event: Event[Mapping[str, Any]]) -> None:
        seen.append(("first", event.data["new_state"].state))
        undo[0]()

    track_state_changes(bus, ["sensor.x"], first)
    undo.append(track_state_changes(bus, ["sensor.x"], _recorder(seen, "second")))
    states.set("sensor.x", "1")
    assert seen == [("first", "1")]


def test_a_raising_callback_is_logged_and_isolated(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    states = StateMachine(bus)
    seen: Seen = []

    def boom(event: Event[Mapping[str, Any]]) -> None:
        raise RuntimeError("callback boom")

    track_state_changes(bus, ["sensor.x"], boom)
    track_state_changes(bus, ["sensor.x"], _recorder(seen, "ok"))
    with caplog.at_level(logging.ERROR):
        states.set("sensor.x", "1")
    assert seen == [("ok", "1")]
    assert "callback boom" in caplog.text


def test_buses_are_tracked_separately() -> None:
    one, two = EventBus(), EventBus()
    seen: Seen = []
    track_state_changes(one, ["sensor.x"], _recorder(seen, "one"))
    StateMachine(two).set("sensor.x", "1")
    StateMachine(one).set("sensor.x", "2")
    assert seen == [("one", "2")]


def test_a_dropped_bus_is_collected_with_its_tracker() -> None:
    bus = EventBus()
    track_state_changes(bus, ["sensor.x"], lambda e: None)
    gone = weakref.ref(bus)
    del bus
    gc.collect()
    assert gone() is None


def test_tracking_resumes_after_every_callback_was_removed() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    seen: Seen = []
    track_state_changes(bus, ["sensor.x"], _recorder(seen, "first"))()
    track_state_changes(bus, ["sensor.x"], _recorder(seen, "again"))
    states.set("sensor.x", "1")
    assert seen == [("again", "1")]
