"""`History`: the recorder's answers to `/api/history/period` (HA's rules and reply shape) and statistics."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from .database import Database
from .queries import chunks, marks, states_at
from .statistics import StatisticsReader
from .uptime import UptimeReader

__all__ = ["History", "match_entity_ids"]

# recorder/history/const.py: in these domains an attribute change is significant, and minimal responses
# still carry every row in full.
_SIGNIFICANT_DOMAINS: Final = frozenset({"climate", "device_tracker", "humidifier", "thermostat", "water_heater"})
_NEED_ATTRIBUTE_DOMAINS: Final = frozenset({"climate", "humidifier", "input_datetime", "thermostat", "water_heater"})

_Row = tuple[int, str | None, int | None, float | None, float]
"""metadata_id, state, attributes_id, last_changed_ts (None: same as updated), last_updated_ts."""


def match_entity_ids(filters: Sequence[str], known: Iterable[str]) -> list[str]:
    """Entity ids matching each filter in turn: an id, a domain (`sensor`) or a glob (`sensor.nas_*`)."""
    known = sorted(known)
    matched: dict[str, None] = {}
    for item in filters:
        if any(char in item for char in "*?["):
            matched.update(dict.fromkeys(fnmatch.filter(known, item)))
        elif "." in item:
            matched[item] = None
        else:
            prefix = f"{item}."
            matched.update(dict.fromkeys(entity_id for entity_id in known if entity_id.startswith(prefix)))
    return list(matched)


_MINUTE_SECOND: Final[list[str]] = []
"""'MM:SS' by second of the hour: 3,600 strings (0.2 MB), made with the first hour's prefix, so a hub whose history
nobody asks for does without them."""
_HOURS: dict[int, str] = {}
"""'2026-03-01T12:' by hours since the epoch; a day of history needs 24."""


def _iso_many(timestamps: Iterable[float]) -> list[str]:
    """`datetime.fromtimestamp(t, UTC).isoformat()` of each, in under half its time: a history answer formats one
    per row, which was the largest part of its cost. Microseconds are rounded half to even, as `fromtimestamp`
    does. One loop for a whole answer, its lookups in locals: a call per row cost a quarter more."""
    hours, minute_second = _HOURS, _MINUTE_SECOND
    formatted: list[str] = []
    append = formatted.append
    for timestamp in timestamps:
        if timestamp < 0:
            append(datetime.fromtimestamp(timestamp, UTC).isoformat())
            continue
        seconds = int(timestamp)
        micro = round((timestamp - seconds) * 1e6)
        if micro == 1_000_000:
            seconds, micro = seconds + 1, 0
        hour, rest = divmod(seconds, 3600)
        prefix = hours.get(hour)
        if prefix is None:
            if not minute_second:
                minute_second.extend(f"{minute:02d}:{second:02d}" for minute in range(60) for second in range(60))
            if len(hours) > 10_000:
                hours.clear()
            prefix = hours[hour] = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H:")
        if micro:
            append(f"{prefix}{minute_second[rest]}.{micro:06d}+00:00")
        else:
            append(f"{prefix}{minute_second[rest]}+00:00")
    return formatted


class History:
    """Reads states committed by the writer; implements `hub.control.HistoryReader`."""

    def __init__(self, db: Database, entity_ids: Callable[[], Mapping[str, int]]) -> None:
        self._db = db
        self._entity_ids = entity_ids
        self._statistics = StatisticsReader(db)
        self._uptime = UptimeReader(db)

    async def history_period(
        self,
        start: datetime,
        end: datetime,
        filters: Sequence[str],
        *,
        minimal_response: bool,
        no_attributes: bool,
        skip_initial_state: bool,
        significant_changes_only: bool,
    ) -> list[list[dict[str, Any]]]:
        ids = self._entity_ids()
        wanted = [(entity_id, ids[entity_id]) for entity_id in match_entity_ids(filters, ids) if entity_id in ids]
        if not wanted or end <= start:
            return []
        start_ts, end_ts = start.timestamp(), end.timestamp()
        rows = await self._changes(wanted, start_ts, end_ts, significant_changes_only)
        if not skip_initial_state:
            rows = await self._initial_states(wanted, start_ts) + rows
        attributes = {} if no_attributes else await self._attributes({row[2] for row in rows if row[2] is not None})
        by_entity: dict[int, list[_Row]] = {}
        for row in rows:
            by_entity.setdefault(row[0], []).append(row)
        return [
            _entity_history(entity_id, by_entity[metadata_id], attributes, minimal_response)
            for entity_id, metadata_id in wanted
            if metadata_id in by_entity
        ]

    async def statistics(
        self, statistic_ids: Sequence[str], period: str, start: datetime, end: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        return await self._statistics.during_period(statistic_ids, period, start, end)

    async def uptime(
        self, entity_ids: Sequence[str], now: datetime, windows: Mapping[str, float], bar_starts: Sequence[float]
    ) -> dict[str, dict[str, Any]]:
        found = await self._uptime.uptime(entity_ids, now, windows, bar_starts)
        return {entity_id: uptime.as_dict(now.timestamp()) for entity_id, uptime in found.items()}

    async def sparklines(self, patterns: Sequence[str], start: datetime, end: datetime) -> dict[str, list[list[float]]]:
        """`[[start_ms, mean], ...]` of the 5-minute rows between `start` and `end` of every statistic with a mean
        that `patterns` (ids, domains, globs) match: the dashboard's sparklines, in one query per 500 statistics."""
        known = await self._db.fetch("SELECT id, statistic_id FROM statistics_meta WHERE has_mean = ?", [True])
        ids = {str(row[1]): int(row[0]) for row in known}
        wanted = match_entity_ids(patterns, ids)
        found: dict[str, list[list[float]]] = {}
        names = {ids[entity_id]: entity_id for entity_id in wanted}
        metadata = list(names)
        for chunk in chunks(metadata):
            rows = await self._db.fetch(
                "SELECT metadata_id, start_ts, mean FROM statistics_short_term"
                f" WHERE metadata_id IN ({', '.join('?' * len(chunk))}) AND start_ts >= ? AND start_ts < ?"
                " ORDER BY metadata_id, start_ts",
                [*chunk, start.timestamp(), end.timestamp()],
            )
            for metadata_id, start_ts, mean in rows:
                if mean is not None:
                    found.setdefault(names[int(metadata_id)], []).append(
                        [float(start_ts) * 1000, round(float(mean), 3)]
                    )
        return found

    async def _changes(
        self, wanted: list[tuple[str, int]], start_ts: float, end_ts: float, significant_only: bool
    ) -> list[_Row]:
        ids = [metadata_id for _, metadata_id in wanted]
        sql = (
            "SELECT metadata_id, state, attributes_id, last_changed_ts, last_updated_ts FROM states"
            f" WHERE metadata_id IN ({marks(len(ids))}) AND last_updated_ts > ? AND last_updated_ts < ?"
        )
        params: list[Any] = [*ids, start_ts, end_ts]
        if significant_only:
            # A row whose state did not change has last_changed_ts set; keep it only in significant domains.
            always = [metadata_id for entity_id, metadata_id in wanted if _domain(entity_id) in _SIGNIFICANT_DOMAINS]
            sql += " AND (last_changed_ts IS NULL"
            sql += f" OR metadata_id IN ({marks(len(always))}))" if always else ")"
            params.extend(always)
        sql += " ORDER BY metadata_id, last_updated_ts, state_id"
        return [tuple(row) for row in await self._db.fetch(sql, params)]

    async def _initial_states(self, wanted: list[tuple[str, int]], start_ts: float) -> list[_Row]:
        """Each entity's state at `start`, stamped with `start` as HA does (its row may be much older)."""
        ids = [metadata_id for _, metadata_id in wanted]
        rows = await states_at(self._db.fetch, ids, start_ts, inclusive=True)
        return [(row[0], row[1], row[2], None, start_ts) for row in rows if row[1] is not None]

    async def _attributes(self, attribute_ids: set[int]) -> dict[int, dict[str, Any]]:
        """Each distinct attributes row parsed once: deduplication makes these few even for many rows."""
        if not attribute_ids:
            return {}
        ids = sorted(attribute_ids)
        sql = f"SELECT attributes_id, shared_attrs FROM state_attributes WHERE attributes_id IN ({marks(len(ids))})"
        return {row[0]: json.loads(row[1]) for row in await self._db.fetch(sql, ids)}


def _domain(entity_id: str) -> str:
    return entity_id.partition(".")[0]


def _entity_history(
    entity_id: str, rows: list[_Row], attributes: Mapping[int, dict[str, Any]], minimal: bool
) -> list[dict[str, Any]]:
    if not minimal or _domain(entity_id) in _NEED_ATTRIBUTE_DOMAINS or len(rows) < 2:
        return _full_rows(entity_id, rows, attributes)
    # HA's minimal response: the first and last rows in full, between them only state changes, each as
    # {"state", "last_changed"}.
    first, last = _full_rows(entity_id, [rows[0], rows[-1]], attributes)
    changes = []
    previous = rows[0][1]
    for row in rows[1:-1]:
        if row[1] != previous:
            changes.append(row)
            previous = row[1]
    changed = _iso_many([row[3] if row[3] is not None else row[4] for row in changes])
    return [
        first,
        *({"state": row[1], "last_changed": iso} for row, iso in zip(changes, changed, strict=True)),
        last,
    ]


def _full_rows(entity_id: str, rows: list[_Row], attributes: Mapping[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in HA's full shape; `last_changed` is `last_updated` unless the row stores its own."""
    updated = _iso_many([row[4] for row in rows])
    own_changed = iter(_iso_many([row[3] for row in rows if row[3] is not None]))
    return [
        {
            "entity_id": entity_id,
            "state": row[1],
            "attributes": attributes.get(row[2]) or {} if row[2] is not None else {},
            "last_changed": iso if row[3] is None else next(own_changed),
            "last_updated": iso,
        }
        for row, iso in zip(rows, updated, strict=True)
    ]
