"""What each UPS shows, one device per UPS: status, on battery, low battery, charge, runtime, load, voltages.

Each entity exists only for a UPS that reports its variable (a small UPS may have no `input.voltage`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hub.core import DeviceInfo, EntityDescription, ItemField, StateValue, finite_number

__all__ = ["ENTITIES", "STATUS_WORDS", "UpsSnapshot", "status_text"]

STATUS_WORDS: Final = {
    "OL": "Online",
    "OB": "On battery",
    "LB": "Low battery",
    "HB": "High battery",
    "RB": "Replace battery",
    "CHRG": "Charging",
    "DISCHRG": "Discharging",
    "BYPASS": "On bypass",
    "CAL": "Calibrating",
    "OFF": "Offline",
    "OVER": "Overloaded",
    "TRIM": "Trimming voltage",
    "BOOST": "Boosting voltage",
    "FSD": "Forced shutdown",
}
"""NUT's `ups.status` flags (docs/developer-guide, "Status data"), as a person reads them."""


@dataclass(frozen=True, slots=True)
class UpsSnapshot:
    """Each reported UPS: its description and every variable upsd gave for it; the node that reads them."""

    node: str
    description: Mapping[str, str]
    variables: Mapping[str, Mapping[str, str]]


def status_text(status: str) -> str:
    """`OB DISCHRG LB` as `On battery, Discharging, Low battery`; unknown flags kept as they are."""
    return ", ".join(STATUS_WORDS.get(flag, flag) for flag in status.split())


def _flags(snapshot: UpsSnapshot, name: str) -> list[str]:
    return snapshot.variables[name].get("ups.status", "").split()


def _variables(snapshot: UpsSnapshot) -> Mapping[str, Any]:
    return snapshot.variables


def _having(variable: str) -> Callable[[UpsSnapshot], list[str]]:
    return ItemField(_variables, variable).instances


def _number(variable: str) -> Callable[[UpsSnapshot, str], StateValue]:
    read = ItemField(_variables, variable)
    return lambda snapshot, name: finite_number(read.value(snapshot, name))


def _status(snapshot: UpsSnapshot, name: str) -> StateValue:
    return snapshot.variables[name].get("ups.status") or None


def _status_attributes(snapshot: UpsSnapshot, name: str) -> Mapping[str, Any]:
    variables = snapshot.variables[name]
    attributes: dict[str, Any] = {"status_text": status_text(variables.get("ups.status", ""))}
    for key in ("battery.charge.low", "battery.runtime.low", "ups.beeper.status", "ups.test.result"):
        if key in variables:
            attributes[key.replace(".", "_")] = variables[key]
    return attributes


def _on_battery(snapshot: UpsSnapshot, name: str) -> StateValue:
    return "OB" in _flags(snapshot, name) if snapshot.variables[name].get("ups.status") else None


def _low_battery(snapshot: UpsSnapshot, name: str) -> StateValue:
    return "LB" in _flags(snapshot, name) if snapshot.variables[name].get("ups.status") else None


def _device(snapshot: UpsSnapshot, name: str) -> DeviceInfo:
    variables = snapshot.variables[name]
    return DeviceInfo(
        identifier=f"{snapshot.node}_ups_{name}",
        name=snapshot.description.get(name) or name,
        manufacturer=variables.get("ups.mfr") or variables.get("device.mfr"),
        model=variables.get("ups.model") or variables.get("device.model"),
        sw_version=variables.get("ups.firmware"),
        via_device=snapshot.node,
    )


def _measurement(key: str, name: str, variable: str, unit: str, device_class: str | None) -> EntityDescription[Any]:
    return EntityDescription(
        key=f"ups_{{instance}}_{key}",
        name=name,
        value=_number(variable),
        instances=_having(variable),
        device=_device,
        unit=unit,
        device_class=device_class,
        state_class="measurement",
        precision=1,
    )


ENTITIES: tuple[EntityDescription[UpsSnapshot], ...] = (
    EntityDescription(
        key="ups_{instance}_status",
        name="Status",
        value=_status,
        instances=_having("ups.status"),
        attributes=_status_attributes,
        device=_device,
        icon="mdi:power-plug-battery",
    ),
    EntityDescription(
        key="ups_{instance}_on_battery",
        name="On battery",
        platform="binary_sensor",
        value=_on_battery,
        instances=_having("ups.status"),
        device=_device,
        icon="mdi:battery-alert",
    ),
    EntityDescription(
        key="ups_{instance}_low_battery",
        name="Low battery",
        platform="binary_sensor",
        value=_low_battery,
        instances=_having("ups.status"),
        device=_device,
        device_class="battery",
    ),
    _measurement("battery_charge", "Battery charge", "battery.charge", "%", "battery"),
    _measurement("battery_runtime", "Battery runtime", "battery.runtime", "s", "duration"),
    _measurement("load", "Load", "ups.load", "%", None),
    _measurement("input_voltage", "Input voltage", "input.voltage", "V", "voltage"),
    _measurement("output_voltage", "Output voltage", "output.voltage", "V", "voltage"),
)
