"""`subscribe_entities` streams: per-entity pending updates, conflated (latest wins), flushed as a/c/r events.

A client that reads slower than states change does not grow a queue: each subscription holds at most one
pending update per entity, whose diff runs from the state the client last received to the newest one. The
common case (one change per entity between flushes) reuses one diff encoded once for every client.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hub.core import Event, State

from ..jsonenc import dumps
from .messages import compressed_diff, event_message

__all__ = ["ChangeEncoder", "EntityFilter", "EntityStream"]


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


class ChangeEncoder:
    """Encodes each `state_changed` event's entity fragment once, however many streams want it.

    The bus hands one event object to every listener in turn, so remembering the last one is enough.
    """

    def __init__(self) -> None:
        self._event: Event[Any] | None = None
        self._fragment = ""

    def fragment(self, event: Event[Any]) -> str:
        """`"<entity_id>":<compressed full state or diff>` for the event's change (not for removals)."""
        if event is not self._event:
            old: State | None = event.data["old_state"]
            new: State = event.data["new_state"]
            body = new.as_compressed() if old is None else compressed_diff(old, new)
            self._event = event
            self._fragment = f"{dumps(new.entity_id)}:{dumps(body)}"
        return self._fragment


class _Pending:
    __slots__ = ("base", "fragment", "latest")

    def __init__(self, base: State | None, latest: State | None, fragment: str | None) -> None:
        self.base = base
        self.latest = latest
        self.fragment = fragment


class EntityStream:
    """One `subscribe_entities` subscription of one connection."""

    def __init__(self, sub_id: int, wanted: EntityFilter, encoder: ChangeEncoder, wake: Callable[[], None]) -> None:
        self.sub_id = sub_id
        self.wanted = wanted
        self._everything = wanted.everything
        self._encoder = encoder
        self._wake = wake
        self._pending: dict[str, _Pending] = {}
        self.conflated = 0

    def initial(self, states: Iterable[State]) -> str:
        """The first event: every matching entity in full (sent even when there are none)."""
        added = {state.entity_id: state.as_compressed() for state in states if self.wanted(state.entity_id)}
        return event_message(self.sub_id, dumps({"a": added}))

    def on_state_changed(self, event: Event[Any]) -> None:
        # Runs once per change for every subscribed client: with 20 dashboards this fan-out was the largest cost
        # of a hub with every sink on (bench/e2e.py), hence no filter call when all is wanted, and one wake only.
        data = event.data
        entity_id: str = data["entity_id"]
        if not (self._everything or self.wanted(entity_id)):
            return
        new: State | None = data["new_state"]
        pending = self._pending.get(entity_id)
        if pending is None:
            if not self._pending:
                self._wake()  # the connection takes every pending update at once, so the first one wakes it
            fragment = self._encoder.fragment(event) if new is not None else None
            self._pending[entity_id] = _Pending(data["old_state"], new, fragment)
        else:
            self.conflated += 1
            pending.latest = new
            pending.fragment = None

    def __len__(self) -> int:
        return len(self._pending)

    def flush(self) -> list[str]:
        """The pending updates as at most three events (adds, removals, changes), then forget them."""
        if not self._pending:
            return []
        pending, self._pending = self._pending, {}
        added: list[str] = []
        changed: list[str] = []
        removed: list[str] = []
        for entity_id, item in pending.items():
            base, latest = item.base, item.latest
            if latest is None:
                if base is not None:
                    removed.append(entity_id)
            elif base is None:
                added.append(item.fragment or f"{dumps(entity_id)}:{dumps(latest.as_compressed())}")
            elif item.fragment is not None:
                changed.append(item.fragment)
            elif base is not latest:
                changed.append(f"{dumps(entity_id)}:{dumps(compressed_diff(base, latest))}")
        messages = []
        if added:
            messages.append(event_message(self.sub_id, '{"a":{' + ",".join(added) + "}}"))
        if removed:
            messages.append(event_message(self.sub_id, dumps({"r": removed})))
        if changed:
            messages.append(event_message(self.sub_id, '{"c":{' + ",".join(changed) + "}}"))
        return messages
