"""The Redis sink's state JSON cache: each state encoded once across stream and hash, only live entities kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hub.core import Context, Core, Event, State
from hub.jsonenc import event_json, state_json
from hub.sinks.redis.state_cache import StateJsonCache


def _changes(core: Core) -> list[Event[Any]]:
    events: list[Event[Any]] = []
    core.bus.listen("state_changed", events.append)
    return events


def test_a_state_is_encoded_once_for_the_stream_and_the_hash() -> None:
    core = Core("nas")
    events = _changes(core)
    cache = StateJsonCache(core.states)
    for value in range(3):
        core.states.set("sensor.nas_a", str(value))
    first, second, third = (event.data["new_state"] for event in events)
    streamed = cache.for_stream(second)
    assert cache.for_stream(second) is streamed
    assert cache.for_hash(second) is streamed  # the hash finds what the stream made
    hashed = cache.for_hash(third)
    assert cache.for_stream(third) is hashed
    assert cache.for_stream(second) is streamed  # both slots kept: the stream behind, the hash ahead
    assert json.loads(cache.for_stream(first)) == json.loads(state_json(first))


def test_removed_entities_are_not_kept() -> None:
    core = Core("nas")
    events = _changes(core)
    cache = StateJsonCache(core.states)
    core.states.set("sensor.nas_a", "1")
    state = events[0].data["new_state"]
    kept = cache.for_hash(state)
    cache.forget("sensor.nas_a")
    core.states.remove("sensor.nas_a")
    again = cache.for_stream(state)
    assert again == kept
    assert cache.for_stream(state) is not again  # encoded afresh each time: nothing held for a gone entity
    core.states.set("sensor.nas_b", "1")
    held = cache.for_hash(events[-1].data["new_state"])
    cache.clear()
    assert cache.for_hash(events[-1].data["new_state"]) is not held


def test_state_json_is_the_api_shape_whatever_the_times_and_context() -> None:
    core = Core("nas")
    offset = timezone(timedelta(hours=-5, minutes=-30))
    core.states.set("sensor.nas_plain", "1", {"unit_of_measurement": "%"})
    core.states.set("sensor.nas_ctx", "2", context=Context(parent_id="p1", user_id="ü"))
    core.states.set("sensor.nas_naive", "3", {"when": datetime(2026, 1, 1)})
    for state in core.states.all():
        assert json.loads(state_json(state)) == json.loads(json.dumps(state.as_dict(), default=datetime.isoformat))
    for when in (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, 2, 3, 4, tzinfo=offset)):
        restored = State("sensor.nas_restored", "1", last_changed=when, last_updated=when)
        assert state_json(restored) == json.dumps(restored.as_dict(), separators=(",", ":")).encode()


def test_events_with_cached_states_equal_events_encoded_afresh() -> None:
    core = Core("nas")
    events = _changes(core)
    cache = StateJsonCache(core.states)
    for value in range(5):
        core.states.set("sensor.nas_a", str(value), {"step": value})
    core.states.remove("sensor.nas_a")
    for event in events:
        assert event_json(event, cache.for_stream) == event_json(event)
        assert json.loads(event_json(event)) == json.loads(json.dumps(event.as_dict(), default=State.as_dict))
