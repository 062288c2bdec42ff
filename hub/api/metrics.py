"""`/metrics`: numeric entity states as gauges and the hub's own counters, in Prometheus text format 0.0.4."""

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
    ]
    return "\n".join(line for family in families for line in family.lines) + "\n"


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    response = web.Response(text=render_metrics(request.app))
    response.headers["Content-Type"] = _CONTENT_TYPE
    return response
