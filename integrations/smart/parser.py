"""`parse_smartctl`: one `smartctl --json -a` answer as a `DiskReading`, for SATA/ATA, NVMe and SCSI disks.

Only smartctl's own JSON is read (`json_format_version` 1); a field a disk does not report stays None. What makes
smartctl's exit status (a bit mask) and messages into a state: `passed`, `failed`, `standby` (asleep, not woken)
or `unsupported` (the device is missing, not a disk, or has no SMART) with smartctl's own words as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["DiskReading", "parse_smartctl"]

_OPEN_FAILED: Final = 1 << 1
_SMART_COMMAND_FAILED: Final = 1 << 2
_DISK_FAILING: Final = 1 << 3
_PREFAIL_BELOW_THRESHOLD: Final = 1 << 4
_STANDBY_WORDS: Final = ("STANDBY mode", "SLEEP mode", "IDLE mode")
_REALLOCATED: Final = 5
_PENDING: Final = 197
_UNCORRECTABLE: Final = 198


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskReading:
    """What one smartctl run said of one device."""

    device: str
    state: str
    """`passed`, `failed`, `standby` or `unsupported`."""
    health: str | None = None
    """`passed` or `failed` as last read: a disk asleep keeps the health it had."""
    reason: str | None = None
    protocol: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    capacity_bytes: int | None = None
    temperature: float | None = None
    power_on_hours: int | None = None
    power_cycles: int | None = None
    reallocated_sectors: int | None = None
    pending_sectors: int | None = None
    uncorrectable_sectors: int | None = None
    percentage_used: int | None = None
    available_spare: int | None = None
    media_errors: int | None = None
    failing_attributes: tuple[str, ...] = ()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _messages(data: Mapping[str, Any]) -> list[str]:
    messages = _dict(data.get("smartctl")).get("messages", [])
    return [str(m.get("string", "")) for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def _attributes(data: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    table = _dict(data.get("ata_smart_attributes")).get("table", [])
    rows = table if isinstance(table, list) else []
    return {row["id"]: row for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)}


def _raw(attributes: Mapping[int, Mapping[str, Any]], attribute_id: int) -> int | None:
    row = attributes.get(attribute_id)
    raw = row.get("raw", {}) if row else {}
    return _int(raw.get("value")) if isinstance(raw, dict) else None


def parse_smartctl(device: str, data: Mapping[str, Any]) -> DiskReading:
    """`data` is smartctl's JSON for `device`; never raises on a field missing or of the wrong type."""
    smartctl = _dict(data.get("smartctl"))
    exit_status = _int(smartctl.get("exit_status")) or 0
    messages = _messages(data)
    said = "; ".join(message for message in messages if message)[:200] or None
    if any(word in message for message in messages for word in _STANDBY_WORDS):
        return DiskReading(device=device, state="standby", reason=said)
    status = data.get("smart_status")
    if exit_status & _OPEN_FAILED or not isinstance(status, dict) or not isinstance(status.get("passed"), bool):
        if said is None and exit_status & _OPEN_FAILED:
            said = "smartctl could not open the device, or it did not identify itself as a disk"
        return DiskReading(device=device, state="unsupported", reason=said or "smartctl reported no SMART status")
    attributes = _attributes(data)
    nvme = _dict(data.get("nvme_smart_health_information_log"))
    failing = tuple(
        str(row.get("name", row_id))
        for row_id, row in attributes.items()
        if isinstance(row.get("when_failed"), str) and row["when_failed"] in ("now", "past")
    )
    passed = status["passed"] and not exit_status & (_DISK_FAILING | _PREFAIL_BELOW_THRESHOLD)
    device_info = _dict(data.get("device"))
    capacity = _dict(data.get("user_capacity"))
    temperature = _dict(data.get("temperature"))
    power_on = _dict(data.get("power_on_time"))
    return DiskReading(
        device=device,
        state="passed" if passed else "failed",
        health="passed" if passed else "failed",
        reason=None if passed else said or "smartctl reports the disk failing",
        protocol=_text(device_info.get("protocol")),
        model=_text(data.get("model_name")) or _text(data.get("scsi_model_name")),
        serial=_text(data.get("serial_number")),
        firmware=_text(data.get("firmware_version")),
        capacity_bytes=_int(capacity.get("bytes")),
        temperature=_number(temperature.get("current")),
        power_on_hours=_int(power_on.get("hours")),
        power_cycles=_int(data.get("power_cycle_count")),
        reallocated_sectors=_raw(attributes, _REALLOCATED),
        pending_sectors=_raw(attributes, _PENDING),
        uncorrectable_sectors=_raw(attributes, _UNCORRECTABLE),
        percentage_used=_int(nvme.get("percentage_used")),
        available_spare=_int(nvme.get("available_spare")),
        media_errors=_int(nvme.get("media_errors")),
        failing_attributes=failing,
    )
