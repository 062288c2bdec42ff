"""`SnapshotWriter` beyond one integration's descriptions: what it keeps up to date from one snapshot to the next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.core import EVENT_ENTITY_REGISTRY_UPDATED, Core, DeviceInfo, EntityDescription, Event
from hub.snapshot_writer import SnapshotWriter

HOST = DeviceInfo(identifier="nas", name="nas")
Ups = Mapping[str, str]


def _device(ups: Ups, instance: str) -> DeviceInfo:
    return DeviceInfo(identifier="nas_ups_rack", name="rack", manufacturer=ups.get("mfr"), via_device="nas")


CHARGE: EntityDescription[Ups] = EntityDescription(
    key="ups_rack_charge", name="charge", unit="%", value=lambda ups, _: float(ups["charge"]), device=_device
)


def test_a_device_fact_that_arrives_late_reaches_the_registry_once() -> None:
    """A UPS whose driver learns its maker after the first poll: the entity's device follows on the next full
    snapshot, with one registry update (which MQTT discovery re-sends), and none while nothing changes."""
    core = Core("nas")
    writer = SnapshotWriter(core, integration_id="ups", domain="ups", descriptions=(CHARGE,), default_device=HOST)
    updates: list[Event[Any]] = []
    core.bus.listen(EVENT_ENTITY_REGISTRY_UPDATED, updates.append)
    writer.write({"charge": "100"})
    writer.write({"charge": "99", "mfr": "Eaton"})
    writer.write({"charge": "98", "mfr": "Eaton"})
    entry = core.entities.get("sensor.nas_ups_rack_charge")
    assert entry is not None
    assert entry.device.manufacturer == "Eaton"
    assert [event.data["action"] for event in updates] == ["create", "update"]
    state = core.states.get("sensor.nas_ups_rack_charge")
    assert state is not None
    assert state.state == "98.0"
