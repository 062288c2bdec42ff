"""StateMachine: Home Assistant's timestamp rules, identical writes, force_update, ids, length, removal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from hub.core import (
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Context,
    Event,
    EventBus,
    InvalidEntityId,
    InvalidState,
    State,
    StateMachine,
    split_entity_id,
    valid_entity_id,
)
from hub.core.clock import FakeClock

Changes = list[Event[Mapping[str, Any]]]


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def changes(bus: EventBus) -> Changes:
    got: Changes = []
    bus.listen(EVENT_STATE_CHANGED, got.append)
    return got


@pytest.fixture
def states(bus: EventBus) -> StateMachine:
    return StateMachine(bus)


def test_first_write_sets_both_timestamps_and_fires_with_no_old_state(
    fake_clock: FakeClock, states: StateMachine, changes: Changes
) -> None:
    state = states.set("sensor.cpu", "12", {"unit_of_measurement": "%"})
    assert state is not None
    assert state.last_changed == state.last_updated == fake_clock.utcnow()
    assert state.domain == "sensor"
    assert state.object_id == "cpu"
    assert state.attributes == {"unit_of_measurement": "%"}
    assert len(changes) == 1
    assert changes[0].data["entity_id"] == "sensor.cpu"
    assert changes[0].data["old_state"] is None
    assert changes[0].data["new_state"] is state
    assert changes[0].time_fired == fake_clock.utcnow()
    assert changes[0].context is state.context


async def test_state_change_moves_last_changed_and_last_updated(
    fake_clock: FakeClock, states: StateMachine, changes: Changes
) -> None:
    first = states.set("sensor.cpu", "12")
    await fake_clock.advance(5)
    second = states.set("sensor.cpu", "13")
    assert first is not None
    assert second is not None
    assert second.last_changed == second.last_updated == fake_clock.utcnow()
    assert second.last_changed - first.last_changed == timedelta(seconds=5)
    assert changes[-1].data["old_state"] is first


async def test_attribute_change_moves_only_last_updated(
    fake_clock: FakeClock, states: StateMachine, changes: Changes
) -> None:
    first = states.set("sensor.cpu", "12", {"a": 1})
    await fake_clock.advance(5)
    second = states.set("sensor.cpu", "12", {"a": 2})
    assert first is not None
    assert second is not None
    assert second.last_changed == first.last_changed
    assert second.last_updated == fake_clock.utcnow()
    assert second.attributes == {"a": 2}
    assert len(changes) == 2
    assert second.as_compressed()["lu"] > second.as_compressed()["lc"]


async def test_identical_write_fires_nothing_and_keeps_the_state(
    fake_clock: FakeClock, states: StateMachine, changes: Changes
) -> None:
    first = states.set("sensor.cpu", "12", {"a": 1})
    await fake_clock.advance(5)
    assert states.set("sensor.cpu", "12", {"a": 1}) is None
    assert states.set("sensor.cpu", "12", dict({"a": 1})) is None
    assert states.get("sensor.cpu") is first
    assert len(changes) == 1


def test_identical_write_without_attributes_fires_nothing(states: StateMachine, changes: Changes) -> None:
    states.set("sensor.cpu", "12")
    assert states.set("sensor.cpu", "12") is None
    assert states.set("sensor.cpu", "12", {}) is None
    assert len(changes) == 1


async def test_force_update_fires_and_moves_last_changed(
    fake_clock: FakeClock, states: StateMachine, changes: Changes
) -> None:
    first = states.set("sensor.cpu", "12")
    await fake_clock.advance(5)
    forced = states.set("sensor.cpu", "12", force_update=True)
    assert first is not None
    assert forced is not None
    assert forced is not first
    assert forced.last_changed == forced.last_updated == fake_clock.utcnow()
    assert len(changes) == 2


def test_unchanged_attributes_are_shared_between_states_and_immutable(states: StateMachine) -> None:
    attributes = {"unit_of_measurement": "%"}
    first = states.set("sensor.cpu", "1", attributes)
    attributes["unit_of_measurement"] = "changed"  # the caller's dict was copied
    second = states.set("sensor.cpu", "2", {"unit_of_measurement": "%"})
    assert first is not None
    assert second is not None
    assert second.attributes == {"unit_of_measurement": "%"}
    assert second.attributes is first.attributes
    with pytest.raises(TypeError):
        second.attributes["x"] = 1  # type: ignore[index]


def test_unknown_and_unavailable_are_ordinary_states(states: StateMachine, changes: Changes) -> None:
    states.set("sensor.cpu", STATE_UNKNOWN)
    states.set("sensor.cpu", "12")
    states.set("sensor.cpu", STATE_UNAVAILABLE)
    assert [e.data["new_state"].state for e in changes] == ["unknown", "12", "unavailable"]
    assert STATE_UNKNOWN == "unknown"
    assert STATE_UNAVAILABLE == "unavailable"


@pytest.mark.parametrize(
    "entity_id",
    ["sensor", "sensor.", ".cpu", "Sensor.CPU x", "sensor.cpu-1", "sensor._cpu", "sensor.cpu_", "sensor.a__b", "a.b.c"],
)
def test_invalid_entity_ids_are_refused(states: StateMachine, changes: Changes, entity_id: str) -> None:
    assert not valid_entity_id(entity_id)
    with pytest.raises(InvalidEntityId):
        states.set(entity_id, "1")
    assert changes == []


def test_entity_ids_are_lowercased(states: StateMachine) -> None:
    state = states.set("Sensor.CPU", "1")
    assert state is not None
    assert state.entity_id == "sensor.cpu"
    assert states.get("SENSOR.cpu") is state
    assert "sensor.cpu" in states


def test_over_long_state_is_refused_on_first_and_later_writes(states: StateMachine, changes: Changes) -> None:
    with pytest.raises(InvalidState, match="at most 255"):
        states.set("sensor.text", "x" * 256)
    states.set("sensor.text", "x" * 255)
    with pytest.raises(InvalidState, match="length 256"):
        states.set("sensor.text", "y" * 256)
    assert len(changes) == 1
    assert states.get("sensor.text") == State("sensor.text", "x" * 255, context=changes[0].context)


def test_remove_fires_with_no_new_state(states: StateMachine, changes: Changes) -> None:
    old = states.set("sensor.cpu", "1")
    context = Context()
    assert states.remove("SENSOR.CPU", context=context)
    assert not states.remove("sensor.cpu")
    assert states.get("sensor.cpu") is None
    assert changes[-1].data == {"entity_id": "sensor.cpu", "old_state": old, "new_state": None}
    assert changes[-1].context is context
    assert len(states) == 0


def test_context_given_to_a_write_is_kept(states: StateMachine, changes: Changes) -> None:
    context = Context(user_id="admin")
    state = states.set("switch.fan", "on", context=context)
    assert state is not None
    assert state.context is context
    assert changes[0].context is context
    assert state.as_compressed()["c"] == context.as_dict()


def test_restore_loads_without_firing_and_never_overwrites(states: StateMachine, changes: Changes) -> None:
    states.set("sensor.live", "1")
    states.restore([State("sensor.old", "5"), State("sensor.live", "0")])
    assert states.get("sensor.old") is not None
    live = states.get("sensor.live")
    assert live is not None
    assert live.state == "1"
    assert len(changes) == 1


def test_all_and_domains(states: StateMachine) -> None:
    states.set("sensor.a", "1")
    states.set("binary_sensor.b", "on")
    assert {s.entity_id for s in states.all()} == {"sensor.a", "binary_sensor.b"}
    assert [s.entity_id for s in states.all(["binary_sensor"])] == ["binary_sensor.b"]
    assert sorted(states.entity_ids()) == ["binary_sensor.b", "sensor.a"]


def test_state_as_dict_is_home_assistants_shape(fake_clock: FakeClock) -> None:
    state = State("sensor.cpu_temp", "40", {"friendly_name": "CPU"})
    shape = state.as_dict()
    assert shape["entity_id"] == "sensor.cpu_temp"
    assert shape["last_changed"] == "2026-01-01T00:00:00+00:00"
    assert set(shape["context"]) == {"id", "parent_id", "user_id"}
    assert state.as_dict() is shape
    assert state.name == "CPU"
    assert State("sensor.cpu_temp", "40").name == "cpu temp"


def test_split_entity_id() -> None:
    assert split_entity_id("sensor.nas_cpu") == ("sensor", "nas_cpu")
    with pytest.raises(InvalidEntityId):
        split_entity_id("nas_cpu")
