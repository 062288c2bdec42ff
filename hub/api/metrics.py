"""`/metrics`: numeric entity states as gauges and the hub's own counters, in Prometheus text format 0.0.4; and
each service check under Uptime Kuma's metric names, so its Grafana dashboards work against the hub."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

from aiohttp import web

from hub.control import HubControl
from hub.core import Core, State

from .counters import ApiCounters
from .keys import AUTH, CONNECTIONS, CONTROL, CORE, COUNTERS
from .websocket.connection import ConnectionSet

__all__ = ["render_metrics", "routes"]

routes = web.RouteTableDef()

_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
_BINARY: Final = {"on": 1.0, "off": 0.0}
_STATUS_VALUE: Final = {"ok": 2.0, "degraded": 1.0, "failing": 0.0}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}" if labels else ""


class _Family:
    """One metric family: HELP, TYPE and its samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        self.name = name

    def add(self, value: float, **labels: str) -> None:
        self.lines.append(f"{self.name}{_labels(labels)} {_number(value)}")


def _number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _numeric(state: State) -> float | None:
    if state.state in _BINARY:
        return _BINARY[state.state]
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _entity_family(core: Core) -> _Family:
    family = _Family("homelab_entity_state", "gauge", "Numeric entity states (on/off as 1/0), by entity.")
    for state in core.states.all():
        value = _numeric(state)
        if value is None:
            continue
        family.add(
            value,
            entity_id=state.entity_id,
            domain=state.domain,
            node=core.node,
            friendly_name=state.name,
            unit=str(state.attributes.get("unit_of_measurement") or ""),
        )
    return family


_KUMA_TYPE: Final = {"http": "http", "tcp": "port", "tls": "tls", "push": "push"}
_KUMA_STATUS: Final = {"on": 1.0, "off": 0.0}
_KUMA_PENDING: Final = 2.0


def _monitor_families(core: Core) -> Iterable[_Family]:
    """Uptime Kuma's `monitor_*` gauges for each check: a connectivity binary_sensor with `kind` and `target`
    attributes (docs/checks.md), with its `_response_time` and `_certificate_days` sensors."""
    status = _Family("monitor_status", "gauge", "Check status: 1 up, 0 down, 2 pending (Uptime Kuma's names).")
    response = _Family("monitor_response_time", "gauge", "Check response time in milliseconds.")
    days = _Family("monitor_cert_days_remaining", "gauge", "Days until the checked certificate expires.")
    valid = _Family("monitor_cert_is_valid", "gauge", "Whether the checked certificate is valid: 1 yes, 0 no.")
    states = core.states
    found = False
    for state in states.all():
        attributes = state.attributes
        if state.domain != "binary_sensor" or "kind" not in attributes or "target" not in attributes:
            continue
        found = True
        entry = core.entities.get(state.entity_id)
        labels = _kuma_labels(entry.device.name if entry else state.object_id, attributes)
        status.add(_KUMA_STATUS.get(state.state, _KUMA_PENDING), **labels)
        timing = states.get(f"sensor.{state.object_id}_response_time")
        if timing is not None and (value := _numeric(timing)) is not None:
            response.add(value, **labels)
        certificate = states.get(f"sensor.{state.object_id}_certificate_days")
        if certificate is not None and (left := _numeric(certificate)) is not None:
            days.add(left, **labels)
            valid.add(1.0 if certificate.attributes.get("valid") else 0.0, **labels)
    return (status, response, days, valid) if found else ()


def _kuma_labels(name: str, attributes: Mapping[str, object]) -> dict[str, str]:
    kind, target = str(attributes["kind"]), str(attributes["target"])
    host, _, port = target.rpartition(":") if kind in ("tcp", "tls") else ("null", "", "null")
    return {
        "monitor_name": name,
        "monitor_type": _KUMA_TYPE.get(kind, kind),
        "monitor_url": target if kind == "http" else "null",
        "monitor_hostname": host or "null",
        "monitor_port": port or "null",
    }


def _part_families(control: HubControl) -> Iterable[_Family]:
    status = _Family(
        "homelab_part_status", "gauge", "Health of each integration and sink: 2 ok, 1 degraded, 0 failing."
    )
    errors = _Family("homelab_part_errors_total", "counter", "Failed polls or writes of each integration and sink.")
    timeouts = _Family("homelab_part_timeouts_total", "counter", "Polls or writes that overran their timeout.")
    queue = _Family("homelab_part_queue_depth", "gauge", "Items waiting in each sink's queue.")
    last = _Family("homelab_poll_duration_seconds", "gauge", "Duration of each integration's last poll.")
    mean = _Family("homelab_poll_duration_mean_seconds", "gauge", "Moving mean duration of each integration's polls.")
    for health in control.health:
        labels = {"part": health.name, "kind": health.kind}
        status.add(_STATUS_VALUE[health.status.value], **labels)
        errors.add(health.error_count, **labels)
        timeouts.add(health.timeouts, **labels)
        if health.queue_depth is not None:
            queue.add(health.queue_depth, **labels)
        if health.kind == "integration" and health.last_duration is not None:
            last.add(health.last_duration, integration=health.name)
            mean.add(health.mean_duration or 0.0, integration=health.name)
    return (status, errors, timeouts, queue, last, mean)


def _api_families(counters: ApiCounters, connections: ConnectionSet, failed: int, bans: int) -> Iterable[_Family]:
    clients = _Family("homelab_websocket_clients", "gauge", "Open, authenticated WebSocket connections.")
    clients.add(len(connections))
    pending = _Family("homelab_websocket_pending_messages", "gauge", "Messages and entity updates waiting to be sent.")
    pending.add(sum(connection.backlog() for connection in connections))
    slow = _Family("homelab_websocket_slow_disconnects_total", "counter", "Clients disconnected for not keeping up.")
    slow.add(connections.disconnected_slow)
    logins = _Family("homelab_failed_logins_total", "counter", "Requests and WebSocket logins with a wrong token.")
    logins.add(failed)
    banned = _Family("homelab_login_bans_total", "counter", "Addresses banned after repeated failed logins.")
    banned.add(bans)
    requests = _Family("homelab_http_requests_total", "counter", "HTTP requests answered, by status code.")
    for code, count in sorted(counters.requests.items()):
        requests.add(count, code=str(code))
    return (clients, pending, slow, logins, banned, requests)


def render_metrics(app: web.Application) -> str:
    core, control, counters = app[CORE], app[CONTROL], app[COUNTERS]
    fired = _Family("homelab_events_fired_total", "counter", "Events fired on the hub's bus.")
    fired.add(core.bus.fired)
    changes = _Family("homelab_state_changes_total", "counter", "State changes seen by the API since it started.")
    changes.add(counters.state_changes)
    entities = _Family("homelab_entities", "gauge", "Entities with a current state.")
    entities.add(len(core.states))
    guard = app[AUTH].guard
    families = [
        _entity_family(core),
        fired,
        changes,
        entities,
        *_part_families(control),
        *_api_families(counters, app[CONNECTIONS], guard.failed_total, guard.bans_total),
        *_monitor_families(core),
    ]
    return "\n".join(line for family in families for line in family.lines) + "\n"


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    response = web.Response(text=render_metrics(request.app))
    response.headers["Content-Type"] = _CONTENT_TYPE
    return response
