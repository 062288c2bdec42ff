"""`/api/history/period[/<start>]` with HA's parameters and messages, and our `/api/hub/statistics` and
`/api/hub/sparklines`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from aiohttp import web

from hub.control import HistoryReader
from hub.core import clock, valid_entity_id

from .keys import CONTROL, CORE
from .responses import json_message, json_response

__all__ = ["parse_datetime", "routes"]

routes = web.RouteTableDef()

_ONE_DAY: Final = timedelta(days=1)
_PERIODS: Final = ("5minute", "hour")
# Besides entity ids: a domain (`sensor`) or a glob (`sensor.nas_*`), so history needs no list of every id.
_DOMAIN = re.compile(r"^[a-z0-9_]+$")
_GLOB = re.compile(r"^[a-z0-9_.*?\[\]]*[*?][a-z0-9_.*?\[\]]*$")
_NO_RECORDER = "History is not available: no recorder is running (configure hub.recorder)."


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 time as UTC (naive means UTC); None if it is not one.

    A `+` left unescaped in a query string arrives as a space (`...T10:00:00 00:00`), so that is read as `+`.
    """
    for candidate in (text, _restore_plus(text)):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


def _restore_plus(text: str) -> str:
    head, space, tail = text.rpartition(" ")
    return f"{head}+{tail}" if space and re.fullmatch(r"\d{2}:?\d{2}", tail) else text


def _reader(request: web.Request) -> HistoryReader | None:
    return request.app[CONTROL].history


def _valid_filter(request: web.Request, item: str) -> bool:
    return (
        request.app[CORE].states.get(item) is not None
        or valid_entity_id(item)
        or _DOMAIN.match(item) is not None
        or _GLOB.match(item) is not None
    )


@routes.get("/api/history/period")
@routes.get("/api/history/period/{start}")
async def history_period(request: web.Request) -> web.Response:
    """HA's checks in HA's order (ha-protocols 2.4); filters may also be domains or globs."""
    reader = _reader(request)
    if reader is None:
        return json_message(_NO_RECORDER, 404)
    query = request.query
    start_text = request.match_info.get("start")
    start = parse_datetime(start_text) if start_text else None
    if start_text and start is None:
        return json_message("Invalid datetime", 400)
    filters = [item.strip() for item in query.get("filter_entity_id", "").strip().lower().split(",") if item.strip()]
    if not filters:
        return json_message("filter_entity_id is missing", 400)
    if not all(_valid_filter(request, item) for item in filters):
        return json_message("Invalid filter_entity_id", 400)
    now = clock.utcnow()
    start = start or now - _ONE_DAY
    if start > now:
        return json_response([])
    end = start + _ONE_DAY
    if end_text := query.get("end_time"):
        if (parsed_end := parse_datetime(end_text)) is None:
            return json_message("Invalid end_time", 400)
        end = parsed_end
    rows = await reader.history_period(
        start,
        end,
        filters,
        minimal_response="minimal_response" in query,
        no_attributes="no_attributes" in query,
        skip_initial_state="skip_initial_state" in query,
        significant_changes_only=query.get("significant_changes_only", "1") != "0",
    )
    return json_response(rows)


@routes.get("/api/hub/statistics")
async def statistics(request: web.Request) -> web.Response:
    """Long-term statistics: `statistic_ids=a,b` (required), `period` 5minute|hour, `start`, `end_time`."""
    reader = _reader(request)
    if reader is None:
        return json_message(_NO_RECORDER, 404)
    query = request.query
    ids = [item.strip().lower() for item in query.get("statistic_ids", "").split(",") if item.strip()]
    if not ids:
        return json_message("statistic_ids is missing", 400)
    period = query.get("period", "hour")
    if period not in _PERIODS:
        return json_message(f"Invalid period: expected one of {', '.join(_PERIODS)}", 400)
    now = clock.utcnow()
    start = parse_datetime(query["start"]) if "start" in query else now - _ONE_DAY
    if start is None:
        return json_message("Invalid datetime", 400)
    end = parse_datetime(query["end_time"]) if "end_time" in query else now
    if end is None:
        return json_message("Invalid end_time", 400)
    return json_response(await reader.statistics(ids, period, start, end))


_MAX_SPARK_HOURS: Final = 168


@routes.get("/api/hub/sparklines")
async def sparklines(request: web.Request) -> web.Response:
    """5-minute means of many measurements in one request: `filter_entity_id` (ids, domains or globs, comma
    separated; required), `hours` back (1 by default, at most a week). The dashboard's sparklines."""
    reader = _reader(request)
    if reader is None:
        return json_message(_NO_RECORDER, 404)
    filters = [item.strip() for item in request.query.get("filter_entity_id", "").lower().split(",") if item.strip()]
    if not filters:
        return json_message("filter_entity_id is missing", 400)
    if not all(_valid_filter(request, item) for item in filters):
        return json_message("Invalid filter_entity_id", 400)
    try:
        hours = float(request.query.get("hours", "1"))
    except ValueError:
        hours = -1.0
    if not 0 < hours <= _MAX_SPARK_HOURS:
        return json_message(f"hours must be a number above 0 and at most {_MAX_SPARK_HOURS}", 400)
    end = clock.utcnow()
    return json_response(await reader.sparklines(filters, end - timedelta(hours=hours), end))
