"""The Redis sink's pending buffer and JSON, without a server: coalescing, the cap, requeue order, odd values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from hub.core import Context, Core, Event, EventOrigin
from hub.jsonenc import event_json, state_json
from hub.sinks.redis.pending import PendingWrites


def _collect(core: Core, pending: PendingWrites) -> None:
    core.bus.listen("*", pending.add)


def test_hash_marks_coalesce_per_entity_and_events_keep_their_order() -> None:
    core, pending = Core("nas"), PendingWrites(max_events=100)
    _collect(core, pending)
    for value in range(10):
        core.states.set("sensor.nas_a", str(value))
    core.states.set("sensor.nas_b", "x")
    batch = pending.take(max_events=4)
    assert batch.entity_ids == ("sensor.nas_a", "sensor.nas_b")
    assert [event.data["new_state"].state for event in batch.events] == ["0", "1", "2", "3"]
    assert len(pending) == 7
    rest = pending.take(max_events=100)
    assert rest.entity_ids == ()
    assert len(rest.events) == 7


def test_the_cap_drops_the_oldest_events_and_counts_them() -> None:
    core, pending = Core("nas"), PendingWrites(max_events=5)
    _collect(core, pending)
    for value in range(12):
        core.states.set(f"sensor.nas_e{value % 3}", str(value))
    assert pending.dropped == 7
    batch = pending.take(max_events=100)
    assert [event.data["new_state"].state for event in batch.events] == ["7", "8", "9", "10", "11"]
    assert set(batch.entity_ids) == {"sensor.nas_e0", "sensor.nas_e1", "sensor.nas_e2"}


def test_requeue_puts_a_failed_batch_back_first_within_the_cap() -> None:
    core, pending = Core("nas"), PendingWrites(max_events=4)
    _collect(core, pending)
    for value in range(3):
        core.states.set("sensor.nas_a", str(value))
    failed = pending.take(max_events=3)
    core.states.set("sensor.nas_b", "new1")
    core.states.set("sensor.nas_b", "new2")
    pending.requeue(failed)
    assert pending.dropped == 1  # room for two of the three failed events: the oldest goes
    batch = pending.take(max_events=10)
    assert [event.data["new_state"].state for event in batch.events] == ["1", "2", "new1", "new2"]
    assert set(batch.entity_ids) == {"sensor.nas_a", "sensor.nas_b"}


def test_forget_entities_leaves_events() -> None:
    core, pending = Core("nas"), PendingWrites(max_events=10)
    _collect(core, pending)
    core.states.set("sensor.nas_a", "1")
    pending.forget_entities()
    batch = pending.take(max_events=10)
    assert batch.entity_ids == ()
    assert len(batch.events) == 1


def test_states_and_events_of_any_shape_encode() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    data = {"when": when, "span": timedelta(seconds=3), "tags": frozenset({"a"}), "nested": MappingProxyType({"k": 1})}
    event: Event[Any] = Event("custom", MappingProxyType(data), EventOrigin.remote, when, Context())
    decoded = json.loads(event_json(event))
    assert decoded["data"] == {"when": "2026-01-01T00:00:00+00:00", "span": 3.0, "tags": ["a"], "nested": {"k": 1}}
    assert decoded["origin"] == "REMOTE"
    core = Core("nas")
    state = core.states.set("sensor.nas_t", "20.5", {"since": when, "unit_of_measurement": "°C"})
    assert state is not None
    assert json.loads(state_json(state)) == json.loads(
        json.dumps(
            {**state.as_dict(), "attributes": {"since": "2026-01-01T00:00:00+00:00", "unit_of_measurement": "°C"}}
        )
    )


def test_events_encode_as_the_standard_library_would_even_where_orjson_refuses() -> None:
    core = Core("nas")
    events: list[Event[Any]] = []
    core.bus.listen("*", events.append)
    core.states.set("sensor.nas_a", "1", {"text": 'é "quoted"', "when": datetime(2026, 1, 1, tzinfo=UTC), 7: "int key"})
    core.states.set("sensor.nas_a", "2", context=Context(parent_id="p1", user_id="ü"))
    core.states.remove("sensor.nas_a")
    core.bus.fire("huge", {"value": 2**70})  # past 64 bits: orjson refuses, the fallback writes it
    assert len(events) == 4
    for event in events:
        assert json.loads(event_json(event)) == json.loads(json.dumps(event.as_dict(), default=_as_plain))
    assert json.loads(event_json(events[-1]))["data"]["value"] == 2**70


def _as_plain(value: Any) -> Any:
    return value.as_dict() if hasattr(value, "as_dict") else value.isoformat()
