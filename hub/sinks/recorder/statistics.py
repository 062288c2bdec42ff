"""Long-term statistics: 5-minute and hourly rows compiled from states, and the reader behind the API."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from hub.core import Core, finite_number

from .database import Database, Session
from .queries import chunks, marks, states_at

__all__ = ["PERIODS", "SHORT_TERM", "Source", "StatisticsCompiler", "StatisticsReader", "sources"]

_LOGGER = logging.getLogger(__name__)

SHORT_TERM: Final = 300.0
_HOUR: Final = 3600.0
PERIODS: Final = ("5minute", "hour", "day", "month")
_MEAN_CLASSES: Final = frozenset({"measurement"})
_SUM_CLASSES: Final = frozenset({"total", "total_increasing"})
_RESET_DROP: Final = 0.9
"""total_increasing: a fall below 90 % of the previous value is a meter reset (HA's rule); a smaller fall is a
real decrease and lowers the sum."""

_COLUMNS: Final = "metadata_id, created_ts, start_ts, mean, min, max, last_reset_ts, state, sum"


@dataclass(frozen=True, slots=True)
class Source:
    """One entity that has statistics: what it is and how it is summed."""

    entity_id: str
    state_class: str
    unit: str | None
    name: str | None

    @property
    def has_mean(self) -> bool:
        return self.state_class in _MEAN_CLASSES

    def value(self, state: str | None) -> float | None:
        """The number a state counts as: a binary sensor's `on` is 1 and `off` 0, so its mean is its share of
        time on (a check's uptime); anything else its numeric state."""
        if self.entity_id.startswith(_BINARY):
            return _ON_OFF.get(state or "")
        return finite_number(state)


_BINARY: Final = "binary_sensor."
_ON_OFF: Final = {"on": 1.0, "off": 0.0}


def sources(core: Core) -> list[Source]:
    """Entities with a `state_class` we compile, from their state attributes or else their registry entry; and
    every binary sensor, as the share of time it was on."""
    found: list[Source] = []
    for state in core.states.all():
        if state.entity_id.startswith(_BINARY):
            found.append(Source(state.entity_id, "measurement", None, state.name))
            continue
        entry = core.entities.get(state.entity_id)
        state_class = state.attributes.get("state_class") or (entry.state_class if entry else None)
        if state_class in _MEAN_CLASSES or state_class in _SUM_CLASSES:
            unit = state.attributes.get("unit_of_measurement") or (entry.unit if entry else None)
            found.append(Source(state.entity_id, str(state_class), unit, state.name))
    return found


class StatisticsCompiler:
    """Compiles each finished 5-minute period once (recorded in `statistics_runs`), and each finished hour."""

    def __init__(self, db: Database, core: Core) -> None:
        self._db = db
        self._core = core

    async def compile_due(self, now: datetime, entity_ids: dict[str, int]) -> int:
        """Compile every finished period since the last compiled one (only the latest on a fresh database)."""
        rows = await self._db.fetch("SELECT MAX(start_ts) FROM statistics_runs")
        last_end = now.timestamp() // SHORT_TERM * SHORT_TERM
        start = rows[0][0] + SHORT_TERM if rows and rows[0][0] is not None else last_end - SHORT_TERM
        compiled = 0
        while start + SHORT_TERM <= last_end:
            await self.compile_period(start, entity_ids)
            start += SHORT_TERM
            compiled += 1
        return compiled

    async def compile_period(self, start: float, entity_ids: dict[str, int]) -> None:
        """One 5-minute row per source, read in a few queries for all of them (not three per source: a hub with
        a thousand checks has two thousand sources)."""
        wanted = [source for source in sources(self._core) if source.entity_id in entity_ids]
        async with self._db.transaction() as session:
            meta_ids = await _meta_ids(session, wanted)
            points = await _points(session, [entity_ids[source.entity_id] for source in wanted], start)
            rows: list[tuple[Any, ...]] = []
            for source in wanted:
                meta_id = meta_ids[source.entity_id]
                row = await self._short_term_row(
                    session, source, points.get(entity_ids[source.entity_id], []), meta_id, start
                )
                if row is not None:
                    rows.append((meta_id, *row))
            if rows:
                await session.execute_many(
                    f"INSERT INTO statistics_short_term ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
            if (start + SHORT_TERM) % _HOUR == 0:
                await _compile_hour(session, start + SHORT_TERM - _HOUR)
            await session.execute_many("INSERT INTO statistics_runs (start_ts) VALUES (?)", [(start,)])

    async def _short_term_row(
        self, session: Session, source: Source, points: list[_Point], meta_id: int, start: float
    ) -> tuple[Any, ...] | None:
        end = start + SHORT_TERM
        created = end
        if source.has_mean:
            mean_min_max = _time_weighted(points, end, source.value)
            return None if mean_min_max is None else (created, start, *mean_min_max, None, None, None)
        return await _summed(session, source, meta_id, points, created, start)


_Point = tuple[float, str | None, Any]
"""since, state, attributes_id: the state at the period's start (stamped with it), then each row within."""


async def _points(session: Session, metadata_ids: list[int], start: float) -> dict[int, list[_Point]]:
    """Per entity, its state as the period starts and every row within the period, oldest first."""
    end = start + SHORT_TERM
    found: dict[int, list[_Point]] = {}
    for metadata_id, state, attributes_id in await states_at(session.fetch, metadata_ids, start, inclusive=False):
        found.setdefault(metadata_id, []).append((start, state, attributes_id))
    for chunk in chunks(metadata_ids):
        during = await session.fetch(
            "SELECT metadata_id, state, attributes_id, last_updated_ts FROM states"
            f" WHERE metadata_id IN ({marks(len(chunk))}) AND last_updated_ts >= ? AND last_updated_ts < ?"
            " ORDER BY metadata_id, last_updated_ts, state_id",
            [*chunk, start, end],
        )
        for metadata_id, state, attributes_id, updated in during:
            found.setdefault(int(metadata_id), []).append((updated, state, attributes_id))
    return found


def _time_weighted(
    points: list[tuple[float, str | None, Any]], end: float, number: Callable[[str | None], float | None]
) -> tuple[float, float, float] | None:
    """Mean weighted by how long each value held within the period, and its min and max."""
    total = weight = 0.0
    values: list[float] = []
    for index, (since, state, _) in enumerate(points):
        value = number(state)
        if value is None:
            continue
        until = points[index + 1][0] if index + 1 < len(points) else end
        total += value * (until - since)
        weight += until - since
        values.append(value)
    if not values:
        return None
    mean = total / weight if weight > 0 else values[-1]
    return mean, min(values), max(values)


async def _summed(
    session: Session,
    source: Source,
    meta_id: int,
    points: list[tuple[float, str | None, Any]],
    created: float,
    start: float,
) -> tuple[Any, ...] | None:
    previous = await session.fetch(
        "SELECT state, sum, last_reset_ts FROM statistics_short_term WHERE metadata_id = ? AND start_ts < ?"
        " ORDER BY start_ts DESC LIMIT 1",
        (meta_id, start),
    )
    last, total, last_reset = (previous[0][0], previous[0][1] or 0.0, previous[0][2]) if previous else (None, 0.0, None)
    reset_marks = await _last_resets(session, {attrs for _, _, attrs in points if attrs is not None})
    mark = None
    for since, state, attrs in points:
        value = finite_number(state)
        if value is None:
            continue
        new_mark = reset_marks.get(attrs)
        if last is None:
            last, mark = value, new_mark
            continue
        reset = (source.state_class == "total_increasing" and value < last * _RESET_DROP) or (
            source.state_class == "total" and new_mark is not None and mark is not None and new_mark != mark
        )
        if reset:
            total += value
            last_reset = since
        else:
            total += value - last
        last, mark = value, new_mark
    if last is None:
        return None
    return (created, start, None, None, None, last_reset, last, total)


async def _last_resets(session: Session, attribute_ids: set[int]) -> dict[int, Any]:
    """`last_reset` attribute of each attributes row (a `total` sensor announces its resets there)."""
    if not attribute_ids:
        return {}
    ids = sorted(attribute_ids)
    rows = await session.fetch(
        "SELECT attributes_id, shared_attrs FROM state_attributes"
        f" WHERE attributes_id IN ({', '.join('?' * len(ids))})",
        ids,
    )
    return {row[0]: json.loads(row[1]).get("last_reset") for row in rows}


async def _meta_ids(session: Session, wanted: list[Source]) -> dict[str, int]:
    """Each source's `statistics_meta` id: one read of the table, a row added for a new source, updated for one
    whose unit, kind or name changed."""
    rows = await session.fetch("SELECT id, statistic_id, unit_of_measurement, has_mean, name FROM statistics_meta")
    known = {row[1]: (int(row[0]), row[2], bool(row[3]), row[4]) for row in rows}
    found: dict[str, int] = {}
    for source in wanted:
        meta = known.get(source.entity_id)
        if meta is None:
            inserted = await session.fetch(
                "INSERT INTO statistics_meta (statistic_id, source, unit_of_measurement, has_mean, has_sum, name)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (source.entity_id, "recorder", source.unit, source.has_mean, not source.has_mean, source.name),
            )
            found[source.entity_id] = int(inserted[0][0])
            continue
        meta_id, unit, has_mean, name = meta
        if (unit, has_mean, name) != (source.unit, source.has_mean, source.name):
            await session.execute_many(
                "UPDATE statistics_meta SET unit_of_measurement = ?, has_mean = ?, has_sum = ?, name = ? WHERE id = ?",
                [(source.unit, source.has_mean, not source.has_mean, source.name, meta_id)],
            )
        found[source.entity_id] = meta_id
    return found


async def _compile_hour(session: Session, hour: float) -> None:
    """An hourly row per statistic from its 5-minute rows: mean of means, min, max; the last state and sum."""
    rows = await session.fetch(
        f"SELECT {_COLUMNS} FROM statistics_short_term WHERE start_ts >= ? AND start_ts < ?"
        " ORDER BY metadata_id, start_ts",
        (hour, hour + _HOUR),
    )
    hourly = [(metadata_id, hour + _HOUR, hour, *_merge(group)) for metadata_id, group in _grouped(rows)]
    await session.execute_many(f"INSERT INTO statistics ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", hourly)


def _grouped(rows: Iterable[Sequence[Any]]) -> list[tuple[int, list[Sequence[Any]]]]:
    groups: dict[int, list[Sequence[Any]]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    return list(groups.items())


def _merge(rows: Sequence[Sequence[Any]]) -> tuple[Any, ...]:
    """mean, min, max, last_reset_ts, state, sum of consecutive rows (columns as in `_COLUMNS`)."""
    means = [row[3] for row in rows if row[3] is not None]
    mins = [row[4] for row in rows if row[4] is not None]
    maxes = [row[5] for row in rows if row[5] is not None]
    last = rows[-1]
    return (
        sum(means) / len(means) if means else None,
        min(mins) if mins else None,
        max(maxes) if maxes else None,
        last[6],
        last[7],
        last[8],
    )


def _ms(timestamp: float | None) -> float | None:
    return None if timestamp is None else timestamp * 1000


def _bucket(start_ts: float, period: str) -> tuple[float, float]:
    moment = datetime.fromtimestamp(start_ts, UTC)
    if period == "day":
        first = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return first.timestamp(), first.timestamp() + 86400
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    )
    return first.timestamp(), following.timestamp()


class StatisticsReader:
    """Rows per statistic id in the shape of HA's `recorder/statistics_during_period` (times in ms)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def during_period(
        self, statistic_ids: Sequence[str], period: str, start: datetime, end: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        table, length = ("statistics_short_term", SHORT_TERM) if period == "5minute" else ("statistics", _HOUR)
        result: dict[str, list[dict[str, Any]]] = {}
        for statistic_id in statistic_ids:
            meta = await self._db.fetch(
                "SELECT id, has_mean FROM statistics_meta WHERE statistic_id = ?", [statistic_id]
            )
            if not meta:
                continue
            rows: Sequence[Sequence[Any]] = await self._db.fetch(
                f"SELECT {_COLUMNS} FROM {table} WHERE metadata_id = ? AND start_ts >= ? AND start_ts < ?"
                " ORDER BY start_ts",
                [meta[0][0], start.timestamp(), end.timestamp()],
            )
            if period in ("day", "month"):
                rows = _rebucket(rows, period)
                result[statistic_id] = [_shape(row, bool(meta[0][1]), None) for row in rows]
            else:
                result[statistic_id] = [_shape(row, bool(meta[0][1]), length) for row in rows]
        return result


def _rebucket(rows: Sequence[Sequence[Any]], period: str) -> list[tuple[Any, ...]]:
    buckets: dict[tuple[float, float], list[Sequence[Any]]] = {}
    for row in rows:
        buckets.setdefault(_bucket(row[2], period), []).append(row)
    return [(group[0][0], first, first, *_merge(group), end) for (first, end), group in buckets.items()]


def _shape(row: Sequence[Any], has_mean: bool, length: float | None) -> dict[str, Any]:
    start = row[2]
    end = start + length if length is not None else row[9]
    shaped: dict[str, Any] = {"start": _ms(start), "end": _ms(end)}
    if has_mean:
        shaped.update(mean=row[3], min=row[4], max=row[5])
    else:
        shaped.update(last_reset=_ms(row[6]), state=row[7], sum=row[8])
    return shaped
