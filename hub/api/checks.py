"""`/api/hub/checks`: every service check with its state, uptime over 24 h / 7 d / 30 d, 90 uptime bars and
outages; and the public status pages (`/status/<slug>` and `/api/status/<slug>`) that show some checks to anyone.

A check is the `binary_sensor` of a `checks` integration (on = up); its response time and certificate entities
are the sensors on the same device. The uptime figures come from the recorder; without one they are null.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from hub.core import Core, RegistryEntry, State, clock, finite_number

from .keys import CONTROL, CORE, SETTINGS
from .responses import json_message, json_response
from .static import WWW_DIR

__all__ = ["CheckEntities", "check_entities", "live_check", "routes"]

routes = web.RouteTableDef()

WINDOWS: Final = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
BARS: Final = 90
_BAR_PERIODS: Final = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
_STATUS: Final = {"on": "up", "off": "down"}
_CHECKS_PLATFORM: Final = "checks"
_STATUS_HTML: Final = "status.html"


@dataclass(frozen=True, slots=True)
class CheckEntities:
    """One check's entities: its connectivity sensor and, where it has them, response time and certificate."""

    name: str
    integration: str
    up: str
    response_time: str | None
    certificate: str | None


def check_entities(core: Core, integrations: Iterable[dict[str, Any]]) -> list[CheckEntities]:
    """Every check of every running `checks` integration, by name."""
    found: list[CheckEntities] = []
    for integration in integrations:
        if integration.get("platform") != _CHECKS_PLATFORM:
            continue
        entries = [entry for entity_id in integration["entities"] if (entry := core.entities.get(entity_id))]
        by_device: dict[str, list[RegistryEntry]] = {}
        for entry in entries:
            by_device.setdefault(entry.device.identifier, []).append(entry)
        for group in by_device.values():
            up = next((entry for entry in group if entry.platform == "binary_sensor"), None)
            if up is None:
                continue
            response_time = next((e.entity_id for e in group if e.entity_id.endswith("_response_time")), None)
            certificate = next((e.entity_id for e in group if e.entity_id.endswith("_certificate_days")), None)
            found.append(CheckEntities(up.device.name, integration["id"], up.entity_id, response_time, certificate))
    return sorted(found, key=lambda check: (check.name, check.integration))


def _bar_starts(now: datetime, period: timedelta) -> list[float]:
    """`BARS` periods aligned to UTC days (or hours), the last one the current, unfinished one."""
    if period == _BAR_PERIODS["day"]:
        last = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        last = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [(last - period * index).timestamp() for index in range(BARS - 1, -1, -1)]


def _number(state: State | None) -> float | None:
    return None if state is None else finite_number(state.state)


def live_check(core: Core, check: CheckEntities, *, public: bool) -> dict[str, Any]:
    """What the states say now: status, since when, response time, certificate."""
    up = core.states.get(check.up)
    attributes = up.attributes if up is not None else {}
    item: dict[str, Any] = {
        "name": check.name,
        "status": _STATUS.get(up.state, "unknown") if up is not None else "unknown",
        "since": up.last_changed.isoformat() if up is not None else None,
        "response_time_ms": _number(core.states.get(check.response_time) if check.response_time else None),
    }
    certificate = core.states.get(check.certificate) if check.certificate else None
    days_left = _number(certificate)
    item["certificate"] = (
        None
        if certificate is None or days_left is None
        else {
            "days_left": days_left,
            "valid": certificate.attributes.get("valid"),
            "not_after": certificate.attributes.get("not_after"),
        }
        | ({} if public else {key: certificate.attributes.get(key) for key in ("subject", "issuer", "problem")})
    )
    if not public:
        item |= {
            "integration": check.integration,
            "entity_id": check.up,
            "response_time_entity_id": check.response_time,
            "certificate_entity_id": check.certificate,
            "kind": attributes.get("kind"),
            "target": attributes.get("target"),
            "reason": attributes.get("reason"),
            "status_code": attributes.get("status_code"),
        }
    return item


async def _listing(request: web.Request, checks: list[CheckEntities], *, public: bool) -> web.Response:
    period_name = request.query.get("bars", "day")
    period = _BAR_PERIODS.get(period_name)
    if period is None:
        return json_message("Invalid bars: expected day or hour", 400)
    core = request.app[CORE]
    history = request.app[CONTROL].history
    now = clock.utcnow()
    starts = _bar_starts(now, period)
    uptime = await history.uptime([c.up for c in checks], now, WINDOWS, starts) if history is not None else {}
    items = []
    for check in checks:
        item = live_check(core, check, public=public)
        found = uptime.get(check.up)
        item["uptime"] = found["uptime"] if found else dict.fromkeys(WINDOWS)
        item["bars"] = found["bars"] if found else [None] * BARS
        outages = found["outages"] if found else []
        item["outages"] = [{k: v for k, v in o.items() if k != "reason"} for o in outages] if public else outages
        items.append(item)
    listing = {
        "recorder": history is not None,
        "bars": {"period": period_name, "starts": [datetime.fromtimestamp(s, UTC).isoformat() for s in starts]},
        "checks": items,
    }
    title = _title(request)
    return json_response(listing if title is None else {"title": title} | listing)


@routes.get("/api/hub/checks")
async def checks(request: web.Request) -> web.Response:
    """Every check: state, response time, certificate, uptime per window, 90 bars (`bars=day|hour`), outages."""
    found = check_entities(request.app[CORE], request.app[CONTROL].integrations())
    return await _listing(request, found, public=False)


def _title(request: web.Request) -> str | None:
    slug = request.match_info.get("slug")
    return None if slug is None else request.app[SETTINGS].status_pages[slug].title


def _page_checks(request: web.Request) -> list[CheckEntities]:
    """The checks a status page names (404 for a page not configured), in its order."""
    page = request.app[SETTINGS].status_pages.get(request.match_info["slug"])
    if page is None:
        raise web.HTTPNotFound()
    known = {check.name: check for check in check_entities(request.app[CORE], request.app[CONTROL].integrations())}
    return [known[name] for name in page.checks if name in known]


@routes.get("/api/status/{slug}")
async def status_page_data(request: web.Request) -> web.Response:
    """A public status page's checks (no token): names, states, uptime and outage times, nothing of targets."""
    return await _listing(request, _page_checks(request), public=True)


@routes.get("/status/{slug}")
async def status_page(request: web.Request) -> web.StreamResponse:
    """The status page itself: a static page that reads `/api/status/<slug>`."""
    _page_checks(request)
    response = web.FileResponse(request.app[WWW_DIR] / _STATUS_HTML)
    response.headers["Cache-Control"] = "no-cache"
    return response
