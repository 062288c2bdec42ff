"""Uptime of binary sensors (a check is up while its sensor is `on`): the share of time on over windows and
bars, and the spans it was `off` (outages), read from the recorder.

Finished hours come from the hourly statistics (a binary sensor's mean is its share of time on), so a 30-day
window reads 720 rows, not every state; the time since the last compiled hour comes from the states themselves.
Time with no known state (the hub stopped, the sensor `unavailable`) counts neither way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from .database import Database
from .queries import chunks, marks, states_at

__all__ = ["Outage", "Uptime", "UptimeReader"]

_HOUR: Final = 3600.0
_ON_OFF: Final = {"on": 1.0, "off": 0.0}
MAX_OUTAGES: Final = 50


@dataclass(frozen=True, slots=True)
class Outage:
    """A span the sensor was `off`: from `start` to `end` (None while it lasts), and why, as it first said."""

    start: float
    end: float | None
    reason: str | None

    def as_dict(self, now: float) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": None if self.end is None else _iso(self.end),
            "duration_s": round((self.end if self.end is not None else now) - self.start, 1),
            "reason": self.reason,
        }


@dataclass(slots=True)
class Uptime:
    """One sensor's share of time up per window (percent, None where nothing is known), its bars and outages."""

    windows: dict[str, float | None] = field(default_factory=dict)
    bars: list[float | None] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)

    def as_dict(self, now: float) -> dict[str, Any]:
        return {
            "uptime": self.windows,
            "bars": self.bars,
            "outages": [outage.as_dict(now) for outage in self.outages],
        }


_Segment = tuple[float, float, float]
"""start, end, share of that time up (0..1)."""
_DAY: Final = 86400.0
_HOURLY: Final = " FROM statistics s JOIN statistics_meta m ON m.id = s.metadata_id"
_WINDOW_SUMS: Final = (
    "SUM(CASE WHEN s.start_ts >= ? THEN s.mean ELSE 0 END), SUM(CASE WHEN s.start_ts >= ? THEN 1 ELSE 0 END)"
)
"""Per window: the up share summed over its whole hours, and how many hours those are."""
_NOTHING: Final = (0.0, 0.0)


@dataclass(slots=True)
class _Hours:
    """What the hourly statistics say of one sensor: (known, up) seconds per window and per bar index."""

    windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    bars: dict[int, tuple[float, float]] = field(default_factory=dict)


class UptimeReader:
    """Reads uptime for the API; one batch of queries for any number of sensors."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def uptime(
        self,
        entity_ids: Sequence[str],
        now: datetime,
        windows: Mapping[str, float],
        bar_starts: Sequence[float],
    ) -> dict[str, Uptime]:
        """Per entity: percent up over each window (seconds back from `now`), over each bar (from each of
        `bar_starts` to the next, the last to `now`), and its outages within the longest window, newest first."""
        end = now.timestamp()
        since = min([end - seconds for seconds in windows.values()] + list(bar_starts) + [end])
        metadata = await self._metadata_ids(entity_ids)
        tail_from = await self._compiled_until()
        starts = {name: end - seconds for name, seconds in windows.items()}
        compiled = await self._compiled(entity_ids, starts, bar_starts, tail_from)
        rows = await self._rows(list(metadata.values()), since)
        reasons = await self._reasons({row[2] for per in rows.values() for row in per if row[2] is not None})
        found: dict[str, Uptime] = {}
        bounds = [*zip(bar_starts, [*bar_starts[1:], end], strict=True)]
        for entity_id in entity_ids:
            changes = rows.get(metadata.get(entity_id, -1), [])
            hours = compiled.get(entity_id)
            # A sensor with no hourly rows yet (new, or recorded before binary sensors had statistics) is read
            # from its states alone.
            raw = _raw_segments(changes, max(since, tail_from) if hours else since, end)
            window_parts = hours.windows if hours else {}
            bar_parts = hours.bars if hours else {}
            found[entity_id] = Uptime(
                windows={
                    name: _percent(window_parts.get(name, _NOTHING), _overlap(raw, start, end))
                    for name, start in starts.items()
                },
                bars=[
                    _percent(bar_parts.get(index, _NOTHING), _overlap(raw, start, stop))
                    for index, (start, stop) in enumerate(bounds)
                ],
                outages=_outages(changes, since, reasons)[:MAX_OUTAGES],
            )
        return found

    async def _compiled(
        self, entity_ids: Sequence[str], starts: Mapping[str, float], bar_starts: Sequence[float], until: float
    ) -> dict[str, _Hours]:
        """Known and up seconds from the hourly statistics before `until`, summed by the database per window and
        per bar: 30 days of 1,000 checks are 720,000 hourly rows, and these queries return a few per check."""
        found: dict[str, _Hours] = {}
        for chunk in chunks(entity_ids):
            await self._window_hours(found, chunk, starts, until)
            await self._bar_hours(found, chunk, bar_starts, until)
        return found

    async def _window_hours(
        self, found: dict[str, _Hours], chunk: Sequence[str], starts: Mapping[str, float], until: float
    ) -> None:
        """The hours wholly inside each window, then the hour each window begins within, for its part in it."""
        full_from = [-(-start // _HOUR) * _HOUR for start in starts.values()]
        sums = ", ".join(_WINDOW_SUMS for _ in starts)
        rows = await self._db.fetch(
            f"SELECT m.statistic_id, {sums}{_HOURLY}{_among(chunk)} AND s.start_ts >= ? AND s.start_ts < ?"
            " GROUP BY m.statistic_id",
            [*(edge for start in full_from for edge in (start, start)), *chunk, min(full_from), until],
        )
        for entity_id, *columns in rows:
            hours = found.setdefault(entity_id, _Hours())
            for index, name in enumerate(starts):
                up, count = float(columns[2 * index] or 0), float(columns[2 * index + 1] or 0)
                hours.windows[name] = (count * _HOUR, up * _HOUR)
        edges = {name: start // _HOUR * _HOUR for name, start in starts.items() if start % _HOUR}
        wanted = sorted({edge for edge in edges.values() if edge < until})
        if not wanted:
            return
        rows = await self._db.fetch(
            f"SELECT m.statistic_id, s.start_ts, s.mean{_HOURLY}{_among(chunk)}"
            f" AND s.start_ts IN ({marks(len(wanted))})",
            [*chunk, *wanted],
        )
        for entity_id, hour, mean in rows:
            hours = found.setdefault(entity_id, _Hours())
            for name, edge in edges.items():
                if float(hour) == edge:
                    inside = edge + _HOUR - starts[name]
                    known, up = hours.windows.get(name, _NOTHING)
                    hours.windows[name] = (known + inside, up + inside * float(mean))

    async def _bar_hours(
        self, found: dict[str, _Hours], chunk: Sequence[str], bar_starts: Sequence[float], until: float
    ) -> None:
        """The hours of each bar (bars are whole UTC days or hours, so integer division finds a row's bar)."""
        period = int(bar_starts[1] - bar_starts[0]) if len(bar_starts) > 1 else int(_DAY)
        rows = await self._db.fetch(
            f"SELECT m.statistic_id, CAST(s.start_ts AS BIGINT) / ?, SUM(s.mean), COUNT(s.mean){_HOURLY}"
            f"{_among(chunk)} AND s.start_ts >= ? AND s.start_ts < ? GROUP BY 1, 2",
            [period, *chunk, bar_starts[0], until],
        )
        for entity_id, bucket, up, count in rows:
            index = int((int(bucket) * period - bar_starts[0]) // period)
            found.setdefault(entity_id, _Hours()).bars[index] = (float(count) * _HOUR, float(up) * _HOUR)

    async def _metadata_ids(self, entity_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in chunks(entity_ids):
            rows = await self._db.fetch(
                f"SELECT entity_id, metadata_id FROM states_meta WHERE entity_id IN ({marks(len(chunk))})", chunk
            )
            found.update({row[0]: int(row[1]) for row in rows})
        return found

    async def _compiled_until(self) -> float:
        """The end of the last hour the statistics hold: states after it are read one by one."""
        rows = await self._db.fetch("SELECT MAX(start_ts) FROM statistics_runs")
        last = rows[0][0] if rows else None
        return 0.0 if last is None else (float(last) + 300.0) // _HOUR * _HOUR

    async def _rows(self, metadata_ids: list[int], since: float) -> dict[int, list[tuple[float, str, int | None]]]:
        """Each sensor's state at `since` (stamped `since`) and every row after, oldest first."""
        found: dict[int, list[tuple[float, str, int | None]]] = {}
        for metadata_id, state, attributes_id in await states_at(self._db.fetch, metadata_ids, since, inclusive=True):
            found.setdefault(metadata_id, []).append((since, state if state is not None else "", attributes_id))
        for chunk in chunks(metadata_ids):
            later = await self._db.fetch(
                "SELECT metadata_id, last_updated_ts, state, attributes_id FROM states"
                f" WHERE metadata_id IN ({marks(len(chunk))}) AND last_updated_ts > ?"
                " ORDER BY last_updated_ts, state_id",
                [*chunk, since],
            )
            for metadata_id, updated, state, attributes_id in later:
                found.setdefault(int(metadata_id), []).append((float(updated), state, attributes_id))
        return found

    async def _reasons(self, attribute_ids: set[int]) -> dict[int, str | None]:
        """The `reason` attribute of each attributes row (deduplicated: few rows)."""
        found: dict[int, str | None] = {}
        for chunk in chunks(sorted(attribute_ids)):
            rows = await self._db.fetch(
                "SELECT attributes_id, shared_attrs FROM state_attributes"
                f" WHERE attributes_id IN ({marks(len(chunk))})",
                chunk,
            )
            for attributes_id, shared in rows:
                reason = json.loads(shared).get("reason")
                found[int(attributes_id)] = None if reason is None else str(reason)
        return found


def _among(statistic_ids: Sequence[str]) -> str:
    return f" WHERE m.statistic_id IN ({marks(len(statistic_ids))}) AND s.mean IS NOT NULL"


def _raw_segments(changes: list[tuple[float, str, int | None]], since: float, end: float) -> list[_Segment]:
    """Spans between consecutive rows after `since`, each fully up (1) or down (0); unknown states left out."""
    segments: list[_Segment] = []
    for index, (at, state, _) in enumerate(changes):
        until = changes[index + 1][0] if index + 1 < len(changes) else end
        start, stop = max(at, since), min(until, end)
        value = _ON_OFF.get(state)
        if value is not None and stop > start:
            segments.append((start, stop, value))
    return segments


def _overlap(segments: Iterable[_Segment], start: float, end: float) -> tuple[float, float]:
    """Known and up seconds of `segments` between `start` and `end`."""
    known = up = 0.0
    for seg_start, seg_end, value in segments:
        overlap = min(seg_end, end) - max(seg_start, start)
        if overlap > 0:
            known += overlap
            up += overlap * value
    return known, up


def _percent(*parts: tuple[float, float]) -> float | None:
    """Percent of the known time that was up; None if none of it is known."""
    known = sum(part[0] for part in parts)
    up = sum(part[1] for part in parts)
    return None if known <= 0 else round(100.0 * up / known, 3)


def _outages(
    changes: list[tuple[float, str, int | None]], since: float, reasons: Mapping[int, str | None]
) -> list[Outage]:
    """Each run of `off` rows is one outage, ended by the first row that is not `off`; newest first."""
    found: list[Outage] = []
    current: Outage | None = None
    for at, state, attributes_id in changes:
        if state == "off" and current is None:
            current = Outage(at, None, reasons.get(attributes_id) if attributes_id is not None else None)
        elif state != "off" and current is not None:
            found.append(Outage(current.start, at, current.reason))
            current = None
    if current is not None:
        found.append(current)
    return [outage for outage in reversed(found) if outage.end is None or outage.end > since]


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
