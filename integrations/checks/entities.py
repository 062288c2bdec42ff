"""What each check shows: a connectivity `binary_sensor` (on = up), its response time, and for a TLS check the
certificate's days left, all on one device per check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core import DeviceInfo, EntityDescription, StateValue

from .probes import Result

__all__ = ["ENTITIES", "CheckState", "ChecksSnapshot"]


@dataclass(frozen=True, slots=True)
class CheckState:
    """A check's latest outcome: its kind and target, the result, and when it was taken."""

    kind: str
    target: str
    result: Result
    checked_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class ChecksSnapshot:
    """Checks by name; a partial snapshot holds the ones that just ran. `node` names the devices: two hubs that
    each check their `router` must not share one device in Home Assistant."""

    node: str
    checks: Mapping[str, CheckState]


def _names(snapshot: ChecksSnapshot) -> list[str]:
    return list(snapshot.checks)


def _with_certificate(snapshot: ChecksSnapshot) -> list[str]:
    """TLS checks, and HTTP checks of an `https` URL."""
    return [
        name
        for name, check in snapshot.checks.items()
        if check.kind == "tls" or (check.kind == "http" and check.target.startswith("https://"))
    ]


def _up(snapshot: ChecksSnapshot, name: str) -> StateValue:
    return snapshot.checks[name].result.up


def _response_ms(snapshot: ChecksSnapshot, name: str) -> StateValue:
    return snapshot.checks[name].result.response_ms


def _days_left(snapshot: ChecksSnapshot, name: str) -> StateValue:
    check = snapshot.checks[name]
    certificate = check.result.certificate
    return certificate.days_left(check.checked_at) if certificate is not None else None


def _status_attributes(snapshot: ChecksSnapshot, name: str) -> Mapping[str, Any]:
    """What stays put while the outcome does (no time of the attempt): a check that stays up writes no history."""
    check = snapshot.checks[name]
    result = check.result
    attributes: dict[str, Any] = {
        "kind": check.kind,
        "target": check.target,
        "reason": result.reason,
        "last_error": None if result.up else result.reason,
        "attempts": check.attempts,
    }
    if result.status_code is not None:
        attributes["status_code"] = result.status_code
    return attributes


def _certificate_attributes(snapshot: ChecksSnapshot, name: str) -> Mapping[str, Any]:
    certificate = snapshot.checks[name].result.certificate
    if certificate is None:
        return {}
    return {
        "valid": certificate.valid,
        "not_after": certificate.not_after.isoformat(),
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "problem": certificate.problem,
    }


def _device(snapshot: ChecksSnapshot, name: str) -> DeviceInfo:
    check = snapshot.checks[name]
    return DeviceInfo(
        identifier=f"{snapshot.node}_check_{name}", name=name, manufacturer="homelab-hub", model=f"{check.kind} check"
    )


ENTITIES: tuple[EntityDescription[ChecksSnapshot], ...] = (
    EntityDescription(
        key="check_{instance}",
        name="Up",
        platform="binary_sensor",
        value=_up,
        instances=_names,
        attributes=_status_attributes,
        device=_device,
        device_class="connectivity",
    ),
    EntityDescription(
        key="check_{instance}_response_time",
        name="Response time",
        value=_response_ms,
        instances=_names,
        device=_device,
        unit="ms",
        device_class="duration",
        state_class="measurement",
        precision=1,
    ),
    EntityDescription(
        key="check_{instance}_certificate_days",
        name="Certificate days left",
        value=_days_left,
        instances=_with_certificate,
        attributes=_certificate_attributes,
        device=_device,
        unit="d",
        state_class="measurement",
        icon="mdi:certificate",
    ),
)
