"""The shared log behind `subscribe_entities`: one build per stretch for every reader, bounded behind a slow one."""

from __future__ import annotations

import json
from typing import Any

from hub.api.websocket.entities import LOG_LIMIT, ChangeFeed, EntityFilter, EntityStream
from hub.core import EventBus, StateMachine
from tests.api.apitools import apply_entity_event


class _Client:
    """A stream with the entity map a dashboard would hold, and a count of its connection's wake-ups."""

    def __init__(self, feed: ChangeFeed, states: StateMachine, wanted: EntityFilter | None = None) -> None:
        self.wakes = 0
        self.stream = EntityStream(1, wanted or EntityFilter(), feed, self._wake)
        feed.add(self.stream)
        self.entities: dict[str, dict[str, Any]] = {}
        apply_entity_event(self.entities, json.loads(self.stream.initial(states.all()))["event"])

    def _wake(self) -> None:
        self.wakes += 1

    def read(self) -> list[str]:
        messages = self.stream.flush()
        for message in messages:
            apply_entity_event(self.entities, json.loads(message)["event"])
        return messages


def _expected(states: StateMachine, prefix: str = "") -> dict[str, dict[str, Any]]:
    return {
        s.entity_id: {"s": s.state, "a": dict(s.attributes)} for s in states.all() if s.entity_id.startswith(prefix)
    }


def test_readers_of_one_stretch_share_its_events_and_wake_once_per_flush() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    feed = ChangeFeed(bus)
    states.set("sensor.a", "0")
    first, second = _Client(feed, states), _Client(feed, states)
    for value in range(1, 4):
        states.set("sensor.a", str(value), {"n": value})
        states.set("sensor.b", str(value))
    assert (first.wakes, second.wakes) == (1, 1)
    stretch = first.stream.cursor
    built = feed.shared_bodies(stretch)
    one, two = first.read(), second.read()
    assert one == two
    assert feed.shared_bodies(stretch)[0] is built[0], "the stretch's events are built once for every reader"
    assert first.entities == second.entities == _expected(states)
    assert first.stream.conflated == 4  # two entities, three changes each, one update each
    states.remove("sensor.b")
    assert (first.wakes, second.wakes) == (2, 2)
    first.read()
    second.read()
    assert first.entities == second.entities == _expected(states)


def test_a_reader_far_behind_folds_its_stretch_and_the_log_stays_bounded() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    feed = ChangeFeed(bus)
    slow, fast = _Client(feed, states), _Client(feed, states)
    filtered = _Client(feed, states, EntityFilter(include={"entity_globs": ["sensor.e1*"]}))
    for round_ in range(3 * LOG_LIMIT // 100):
        for i in range(100):
            states.set(f"sensor.e{i}", str(round_), {"round": round_} if i % 2 else None)
        fast.read()
        assert len(feed) <= LOG_LIMIT + 1
        assert len(slow.stream) <= 100
    assert slow.stream.conflated > 0
    states.remove("sensor.e0")
    for client in (slow, fast):
        client.read()
        assert client.entities == _expected(states)
    filtered.read()
    assert filtered.entities == _expected(states, "sensor.e1")


def test_the_feed_listens_only_while_a_stream_exists() -> None:
    bus = EventBus()
    states = StateMachine(bus)
    feed = ChangeFeed(bus)
    client = _Client(feed, states)
    assert bus.listener_counts() == {"state_changed": 1}
    states.set("sensor.a", "1")
    feed.remove(client.stream)
    assert bus.listener_counts() == {}
    states.set("sensor.a", "2")
    again = _Client(feed, states)
    states.set("sensor.a", "3")
    again.read()
    assert again.entities == _expected(states)
