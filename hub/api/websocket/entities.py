"""`subscribe_entities` streams: one shared log of changes, read by every subscription, flushed as a/c/r events.

One bus listener (`ChangeFeed`) appends each change to a log that every subscription reads from its own cursor,
so a change costs the same with 1 or 20 dashboards; the events of a stretch of the log are built once and sent
to every client that reads the same stretch (all of them, when they keep up). Several changes of one entity in a
stretch conflate into one diff (latest wins). A client that falls more than `LOG_LIMIT` changes behind takes
its stretch into its own per-entity pending map, so a slow reader costs memory in proportion to entities, not
to changes, and the shared log stays bounded.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from hub.core import EVENT_STATE_CHANGED, Event, EventBus, State, Unsubscribe
from hub.jsonenc import dumps

from .messages import compressed_diff, event_message

__all__ = ["LOG_LIMIT", "ChangeFeed", "EntityFilter", "EntityStream"]

LOG_LIMIT: Final = 4096
"""Changes a subscription may be behind in the shared log before it folds them into its own pending map."""
_TRIM_AT: Final = 1024
"""Log length from which a flush drops the changes every subscription has read (checking costs a pass over them)."""


class EntityFilter:
    """Which entities a subscription wants: listed ids, or include/exclude by domain, glob and id."""

    def __init__(
        self,
        entity_ids: Iterable[str] | None = None,
        include: Mapping[str, Any] | None = None,
        exclude: Mapping[str, Any] | None = None,
    ) -> None:
        self._ids = frozenset(entity_ids) if entity_ids is not None else None
        self._include = _Matcher(include) if include else None
        self._exclude = _Matcher(exclude) if exclude else None
        self.everything = self._ids is None and self._include is None and self._exclude is None
        """True when every entity is wanted (the dashboard's subscription), so that nothing needs checking."""

    def __call__(self, entity_id: str) -> bool:
        if self._ids is not None and entity_id not in self._ids:
            return False
        if self._include is not None and not self._include(entity_id):
            return False
        return self._exclude is None or not self._exclude(entity_id)


class _Matcher:
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.domains = frozenset(spec.get("domains") or ())
        self.entities = frozenset(spec.get("entities") or ())
        globs = spec.get("entity_globs") or ()
        self.globs = re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None

    def __call__(self, entity_id: str) -> bool:
        return (
            entity_id in self.entities
            or entity_id.partition(".")[0] in self.domains
            or (self.globs is not None and self.globs.match(entity_id) is not None)
        )


class _Change:
    """One `state_changed` in the log; its JSON fragment is made once, by the first flush that needs it."""

    __slots__ = ("_fragment", "entity_id", "new", "old")

    def __init__(self, entity_id: str, old: State | None, new: State | None) -> None:
        self.entity_id = entity_id
        self.old = old
        self.new = new
        self._fragment: str | None = None

    def fragment(self) -> str:
        """`"<entity_id>":<compressed full state or diff>` (not asked for removals)."""
        if self._fragment is None:
            new = self.new
            assert new is not None
            body = new.as_compressed() if self.old is None else compressed_diff(self.old, new)
            self._fragment = f"{dumps(self.entity_id)}:{dumps(body)}"
        return self._fragment


class _Pending:
    """What a subscription owes the client for one entity: from the state it last got to the newest one."""

    __slots__ = ("base", "change", "latest")

    def __init__(self, base: State | None, latest: State | None, change: _Change | None) -> None:
        self.base = base
        self.latest = latest
        self.change = change
        """The only change since `base`, whose shared fragment is the diff; None once several conflate."""


def _fold(pending: dict[str, _Pending], changes: Iterable[_Change], wanted: EntityFilter | None) -> int:
    """Add `changes` to `pending` (latest wins per entity); returns how many conflated into an earlier one."""
    conflated = 0
    for change in changes:
        if wanted is not None and not wanted(change.entity_id):
            continue
        item = pending.get(change.entity_id)
        if item is None:
            pending[change.entity_id] = _Pending(change.old, change.new, change if change.new is not None else None)
        else:
            conflated += 1
            item.latest = change.new
            item.change = None
    return conflated


def _bodies(pending: Mapping[str, _Pending]) -> list[str]:
    """The pending updates as at most three event bodies: adds, removals, changes."""
    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []
    for entity_id, item in pending.items():
        base, latest = item.base, item.latest
        if latest is None:
            if base is not None:
                removed.append(entity_id)
        elif base is None:
            added.append(
                item.change.fragment() if item.change else f"{dumps(entity_id)}:{dumps(latest.as_compressed())}"
            )
        elif item.change is not None:
            changed.append(item.change.fragment())
        elif base is not latest:
            changed.append(f"{dumps(entity_id)}:{dumps(compressed_diff(base, latest))}")
    bodies = []
    if added:
        bodies.append('{"a":{' + ",".join(added) + "}}")
    if removed:
        bodies.append(dumps({"r": removed}))
    if changed:
        bodies.append('{"c":{' + ",".join(changed) + "}}")
    return bodies


class ChangeFeed:
    """The one bus listener of every `subscribe_entities` subscription, and the log they read.

    Listening only while a subscription exists, so a hub without dashboards pays nothing per change.
    """

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._unlisten: Unsubscribe | None = None
        self._log: list[_Change] = []
        self._start = 0
        """Position of `_log[0]` since the feed began."""
        self._streams: set[EntityStream] = set()
        self._sleeping: list[EntityStream] = []
        """Subscriptions with nothing pending: the next change wakes their connections."""
        self._built: dict[tuple[int, int], tuple[list[str], int]] = {}
        """The shared event bodies (and conflation count) of stretches of the log, for every-entity readers."""

    @property
    def end(self) -> int:
        return self._start + len(self._log)

    def __len__(self) -> int:
        """Changes held in the log."""
        return len(self._log)

    def add(self, stream: EntityStream) -> None:
        self._streams.add(stream)
        stream.asleep = True
        self._sleeping.append(stream)
        if self._unlisten is None:
            self._unlisten = self._bus.listen(EVENT_STATE_CHANGED, self._on_state_changed)

    def remove(self, stream: EntityStream) -> None:
        self._streams.discard(stream)
        if stream in self._sleeping:
            self._sleeping.remove(stream)
        if not self._streams and self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
            self._start = self.end
            self._log.clear()
            self._built.clear()

    def _on_state_changed(self, event: Event[Any]) -> None:
        data = event.data
        self._log.append(_Change(data["entity_id"], data["old_state"], data["new_state"]))
        if self._sleeping:
            sleeping, self._sleeping = self._sleeping, []
            for stream in sleeping:
                stream.asleep = False
                stream.wake()
        if len(self._log) > LOG_LIMIT:
            self._bound()

    def _bound(self) -> None:
        """Let subscriptions far behind fold their stretch into their own maps, then drop what all have read."""
        horizon = self.end - LOG_LIMIT // 2
        for stream in self._streams:
            if stream.cursor < horizon:
                stream.catch_up()
        self._trim()

    def _trim(self) -> None:
        oldest = min((stream.cursor for stream in self._streams), default=self.end)
        if oldest - self._start > len(self._log) // 2:
            del self._log[: oldest - self._start]
            self._start = oldest
            self._built.clear()

    def changes(self, cursor: int) -> list[_Change]:
        return self._log[cursor - self._start :]

    def shared_bodies(self, cursor: int) -> tuple[list[str], int]:
        """The event bodies of every change from `cursor` to the end, built once for all who read that stretch."""
        key = (cursor, self.end)
        built = self._built.get(key)
        if built is None:
            pending: dict[str, _Pending] = {}
            conflated = _fold(pending, self.changes(cursor), None)
            built = (_bodies(pending), conflated)
            if len(self._built) >= 8:
                self._built.clear()
            self._built[key] = built
        return built

    def read(self, stream: EntityStream) -> None:
        """`stream` has read to the end: it sleeps until the next change, and the log may shrink."""
        if not stream.asleep:
            stream.asleep = True
            self._sleeping.append(stream)
        if len(self._log) >= _TRIM_AT:
            self._trim()


class EntityStream:
    """One `subscribe_entities` subscription of one connection: a cursor in the feed's log."""

    def __init__(self, sub_id: int, wanted: EntityFilter, feed: ChangeFeed, wake: Callable[[], None]) -> None:
        self.sub_id = sub_id
        self.wanted = wanted
        self._feed = feed
        self.wake = wake
        self.cursor = feed.end
        self.asleep = False
        """Waiting in the feed for the next change to wake its connection."""
        self._pending: dict[str, _Pending] = {}
        """Changes folded in by `catch_up`, for a reader that fell behind (or one that filters)."""
        self.conflated = 0

    def initial(self, states: Iterable[State]) -> str:
        """The first event: every matching entity in full (sent even when there are none)."""
        added = {state.entity_id: state.as_compressed() for state in states if self.wanted(state.entity_id)}
        return event_message(self.sub_id, dumps({"a": added}))

    def catch_up(self) -> None:
        """Fold every change from the cursor on into this stream's own pending map."""
        wanted = None if self.wanted.everything else self.wanted
        self.conflated += _fold(self._pending, self._feed.changes(self.cursor), wanted)
        self.cursor = self._feed.end

    def __len__(self) -> int:
        """Entities with an update pending (what the client will get, conflated; for `/metrics` and tests)."""
        behind = {change.entity_id for change in self._feed.changes(self.cursor)}
        if not self.wanted.everything:
            behind = {entity_id for entity_id in behind if self.wanted(entity_id)}
        return len(behind | self._pending.keys())

    def flush(self) -> list[str]:
        """The pending updates as at most three events (adds, removals, changes), then forget them."""
        if self.cursor == self._feed.end and not self._pending:
            self._feed.read(self)
            return []
        if self._pending or not self.wanted.everything:
            self.catch_up()
            bodies = _bodies(self._pending)
            self._pending = {}
        else:
            bodies, conflated = self._feed.shared_bodies(self.cursor)
            self.conflated += conflated
            self.cursor = self._feed.end
        self._feed.read(self)
        return [event_message(self.sub_id, body) for body in bodies]
