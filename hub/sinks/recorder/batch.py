"""`RowMaker`: turns a batch of bus events into rows, with entity ids, event types and JSON deduplicated."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hub.core import EVENT_STATE_CHANGED, Event, EventOrigin, State
from hub.jsonenc import dumps

from .database import Database, Session

__all__ = ["RowMaker", "Staged", "dump_json"]

_CACHE_LIMIT: Final = 16_384
"""Deduplicated JSON texts remembered with their row id; past this the cache starts over (the database still
deduplicates by hash, only one extra lookup per text)."""

_INSERT_STATE: Final = (
    "INSERT INTO states (metadata_id, state, attributes_id, last_changed_ts, last_updated_ts, context_id,"
    " context_user_id, context_parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENT: Final = (
    "INSERT INTO events (event_type_id, data_id, origin_idx, time_fired_ts, context_id, context_user_id,"
    " context_parent_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def dump_json(value: Mapping[str, Any]) -> str:
    """Compact JSON, the form stored and compared for deduplication (the hub's one encoder: a NaN is `null`)."""
    return dumps(value)


@dataclass(slots=True)
class Staged:
    """Ids learnt inside a transaction; kept only once it commits, since a rollback takes the rows back."""

    entity_ids: dict[str, int] = field(default_factory=dict)
    event_types: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, int] = field(default_factory=dict)
    event_data: dict[str, int] = field(default_factory=dict)
    rows: int = 0


class _Dedup:
    """JSON texts stored once in `table`, found again by a CRC-32 hash and then compared in full."""

    def __init__(self, table: str, id_column: str, text_column: str) -> None:
        self.known: dict[str, int] = {}
        self._select = f"SELECT {id_column}, {text_column} FROM {table} WHERE hash = ?"
        self._insert = f"INSERT INTO {table} (hash, {text_column}) VALUES (?, ?) RETURNING {id_column}"

    async def resolve(self, session: Session, text: str, staged: dict[str, int]) -> int:
        found = self.known.get(text)
        if found is None:
            found = staged.get(text)
        if found is not None:
            return found
        digest = zlib.crc32(text.encode())
        for row_id, stored in await session.fetch(self._select, (digest,)):
            if stored == text:
                staged[text] = row_id
                return int(row_id)
        row_id = (await session.fetch(self._insert, (digest, text)))[0][0]
        staged[text] = row_id
        return int(row_id)

    def keep(self, staged: dict[str, int]) -> None:
        if len(self.known) + len(staged) > _CACHE_LIMIT:
            self.known.clear()
        self.known.update(staged)


class _Names:
    """A small table of names (entity ids, event types) held in memory in full."""

    def __init__(self, table: str, id_column: str, name_column: str) -> None:
        self.known: dict[str, int] = {}
        self._load = f"SELECT {id_column}, {name_column} FROM {table}"
        self._insert = f"INSERT INTO {table} ({name_column}) VALUES (?) RETURNING {id_column}"

    async def load(self, db: Database) -> None:
        self.known = {name: int(row_id) for row_id, name in await db.fetch(self._load)}

    async def resolve(self, session: Session, name: str, staged: dict[str, int]) -> int:
        found = self.known.get(name)
        if found is None:
            found = staged.get(name)
        if found is None:
            found = int((await session.fetch(self._insert, (name,)))[0][0])
            staged[name] = found
        return found


class RowMaker:
    """Writes one batch of events as `states` and `events` rows inside the caller's transaction."""

    def __init__(self) -> None:
        self.entity_ids = _Names("states_meta", "metadata_id", "entity_id")
        self.event_types = _Names("event_types", "event_type_id", "event_type")
        self._attributes = _Dedup("state_attributes", "attributes_id", "shared_attrs")
        self._event_data = _Dedup("event_data", "data_id", "shared_data")
        self._texts: dict[str, tuple[Mapping[str, Any], str]] = {}
        """Per entity: the attributes mapping last written and its JSON text."""

    async def load(self, db: Database) -> None:
        """Read the name tables once per connection; they are small (one row per entity or event type)."""
        await self.entity_ids.load(db)
        await self.event_types.load(db)

    async def write(self, session: Session, events: Sequence[Event[Any]]) -> Staged:
        staged = Staged()
        states: list[tuple[Any, ...]] = []
        others: list[tuple[Any, ...]] = []
        for event in events:
            if event.event_type == EVENT_STATE_CHANGED:
                states.append(await self._state_row(session, event.data["new_state"], staged))
            else:
                others.append(await self._event_row(session, event, staged))
        await session.insert_rows(_INSERT_STATE, states)
        await session.insert_rows(_INSERT_EVENT, others)
        staged.rows = len(states) + len(others)
        return staged

    def forget_json(self) -> None:
        """Drop the cached ids of attribute and event data rows (the purge may have deleted some)."""
        self._attributes.known.clear()
        self._event_data.known.clear()

    def keep(self, staged: Staged) -> None:
        self.entity_ids.known.update(staged.entity_ids)
        self.event_types.known.update(staged.event_types)
        self._attributes.keep(staged.attributes)
        self._event_data.keep(staged.event_data)

    async def _state_row(self, session: Session, state: State, staged: Staged) -> tuple[Any, ...]:
        # Cache hits are looked up inline: this runs once per row, and an await per lookup halves the write rate.
        metadata_id = self.entity_ids.known.get(state.entity_id)
        if metadata_id is None:
            metadata_id = await self.entity_ids.resolve(session, state.entity_id, staged.entity_ids)
        attributes_id = None
        attributes = state.attributes
        if attributes:
            # A State's attributes are frozen, and an entity whose attributes did not change hands the same
            # mapping to its next State: its JSON is then the text made last time (a third of a row's cost).
            last = self._texts.get(state.entity_id)
            if last is not None and last[0] is attributes:
                text = last[1]
            else:
                text = dump_json(attributes)
                self._texts[state.entity_id] = (attributes, text)
            attributes_id = self._attributes.known.get(text)
            if attributes_id is None:
                attributes_id = await self._attributes.resolve(session, text, staged.attributes)
        last_updated = state.last_updated
        updated = last_updated.timestamp()
        # A state change stamps both times with one datetime: no second conversion.
        changed = None if state.last_changed is last_updated else state.last_changed.timestamp()
        context = state.context
        return (
            metadata_id,
            state.state,
            attributes_id,
            None if changed == updated else changed,
            updated,
            context.id,
            context.user_id,
            context.parent_id,
        )

    async def _event_row(self, session: Session, event: Event[Any], staged: Staged) -> tuple[Any, ...]:
        type_id = await self.event_types.resolve(session, event.event_type, staged.event_types)
        data_id = None
        if event.data:
            data_id = await self._event_data.resolve(session, dump_json(event.data), staged.event_data)
        context = event.context
        return (
            type_id,
            data_id,
            0 if event.origin is EventOrigin.local else 1,
            event.time_fired.timestamp(),
            context.id,
            context.user_id,
            context.parent_id,
        )
