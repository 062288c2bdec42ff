"""`AlertEngine`: watches entities for each rule, keeps its timing, and fires and clears alerts."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from hub.config.models.alerts import AlertRule
from hub.control import UnknownAlert
from hub.core import EVENT_STATE_CHANGED, Core, DeviceInfo, EntityDescription, EntityDetails, Event, State, clock
from hub.snapshot_writer import SnapshotWriter

from .actions import ActionRunner
from .templates import render
from .triggers import clears, describe, is_met

__all__ = ["AlertEngine"]

_LOGGER = logging.getLogger(__name__)
_IDLE_WAKE = 60.0


@dataclass(slots=True)
class _Watch:
    """One entity under one rule: when its condition began to hold, and whether it fires."""

    pending_since: datetime | None = None
    firing: bool = False
    last_notified: datetime | None = None


@dataclass(slots=True)
class _RuleState:
    rule: AlertRule
    entity_id: str
    watches: dict[str, _Watch]
    last_fired: datetime | None = None
    last_cleared: datetime | None = None

    def matches(self, entity_id: str) -> bool:
        return entity_id != self.entity_id and any(fnmatch.fnmatchcase(entity_id, p) for p in self.rule.patterns)

    def firing(self) -> list[str]:
        return sorted(entity_id for entity_id, watch in self.watches.items() if watch.firing)


class AlertEngine:
    """Evaluates every rule on state changes and on its timers (durations, staleness, repeats)."""

    def __init__(self, core: Core, rules: Iterable[AlertRule], device: DeviceInfo) -> None:
        self._core = core
        self._rules = [_RuleState(rule, f"binary_sensor.alert_{rule.name}", {}) for rule in rules]
        self._writer = SnapshotWriter(
            core, integration_id="alert", domain="alert", descriptions=(ALERT,), default_device=device
        )
        self._wake = asyncio.Event()
        self._runner: ActionRunner | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[AlertEngine]:
        async with aiohttp.ClientSession() as session:
            self._runner = ActionRunner(self._core, session)
            for rule_state in self._rules:
                for state in self._core.states.all():
                    if rule_state.matches(state.entity_id):
                        self._evaluate(rule_state, state.entity_id, state)
                self._write_entity(rule_state)
            undo = self._core.bus.listen(EVENT_STATE_CHANGED, self._on_state_changed)
            timer = asyncio.create_task(self._timer(), name="alerts-timer")
            try:
                yield self
            finally:
                undo()
                timer.cancel()
                await asyncio.gather(timer, return_exceptions=True)
                await self._runner.close()

    @property
    def runner(self) -> ActionRunner:
        assert self._runner is not None, "the engine is not running"
        return self._runner

    def test_fire(self, name: str) -> int:
        """Run a rule's `on_fire` actions once, as for its first firing entity (else the first it watches, else
        its pattern), with `status` `test`; how many actions were started."""
        rule_state = next((rs for rs in self._rules if rs.rule.name == name), None)
        if rule_state is None:
            raise UnknownAlert(name)
        watched = [s for s in self._core.states.all() if rule_state.matches(s.entity_id)]
        firing = rule_state.firing()
        state = self._core.states.get(firing[0]) if firing else (watched[0] if watched else None)
        entity_id = state.entity_id if state is not None else rule_state.rule.patterns[0]
        _LOGGER.info("Alert %s test-fired through the API (%d actions)", name, len(rule_state.rule.on_fire))
        self._notify(rule_state, entity_id, state, "test", rule_state.rule.on_fire)
        return len(rule_state.rule.on_fire)

    def as_list(self) -> list[dict[str, Any]]:
        """Each rule's state, for `GET /api/hub/alerts`."""
        return [
            {
                "name": rs.rule.name,
                "entity_id": rs.entity_id,
                "trigger": describe(rs.rule),
                "firing": bool(rs.firing()),
                "entities": rs.firing(),
                "last_fired": _iso(rs.last_fired),
                "last_cleared": _iso(rs.last_cleared),
            }
            for rs in self._rules
        ]

    def _on_state_changed(self, event: Event[Any]) -> None:
        entity_id = event.data["entity_id"]
        for rule_state in self._rules:
            if rule_state.matches(entity_id):
                self._evaluate(rule_state, entity_id, event.data["new_state"])
                self._write_entity(rule_state)

    def _evaluate(self, rs: _RuleState, entity_id: str, state: State | None) -> None:
        now = clock.utcnow()
        if state is None:
            watch = rs.watches.pop(entity_id, None)
            if watch is not None and watch.firing:
                self._clear(rs, entity_id, None, now)
            return
        watch = rs.watches.setdefault(entity_id, _Watch())
        if rs.rule.no_update_for is not None:
            if watch.firing:
                self._clear(rs, entity_id, state, now)
            watch.pending_since = state.last_updated
            self._wake.set()
            return
        if watch.firing:
            if clears(rs.rule, state):
                self._clear(rs, entity_id, state, now)
            return
        met = is_met(rs.rule, state)
        if not met:
            watch.pending_since = None
            return
        watch.pending_since = watch.pending_since or now
        if rs.rule.for_ is None or now - watch.pending_since >= rs.rule.for_:
            self._fire(rs, entity_id, state, now)
        else:
            self._wake.set()

    def _fire(self, rs: _RuleState, entity_id: str, state: State | None, now: datetime) -> None:
        watch = rs.watches[entity_id]
        watch.firing, watch.pending_since, watch.last_notified = True, None, now
        rs.last_fired = now
        _LOGGER.warning("Alert %s fired for %s", rs.rule.name, entity_id)
        self._notify(rs, entity_id, state, "firing", rs.rule.on_fire)
        self._wake.set()

    def _clear(self, rs: _RuleState, entity_id: str, state: State | None, now: datetime) -> None:
        watch = rs.watches.get(entity_id)
        if watch is not None:
            watch.firing, watch.pending_since, watch.last_notified = False, None, None
        rs.last_cleared = now
        _LOGGER.info("Alert %s cleared for %s", rs.rule.name, entity_id)
        self._notify(rs, entity_id, state, "cleared", rs.rule.on_clear)

    def _notify(self, rs: _RuleState, entity_id: str, state: State | None, status: str, actions: list[Any]) -> None:
        if not actions:
            return
        fields = self._fields(rs, entity_id, state, status)
        message = render(rs.rule.message, fields)
        for action in actions:
            self.runner.start(action, fields, message)

    def _fields(self, rs: _RuleState, entity_id: str, state: State | None, status: str) -> dict[str, Any]:
        unit = state.attributes.get("unit_of_measurement") if state is not None else None
        threshold = rs.rule.above if rs.rule.above is not None else rs.rule.below
        return {
            "alert": rs.rule.name,
            "status": status,
            "entity_id": entity_id,
            "friendly_name": state.name if state is not None else entity_id,
            "state": state.state if state is not None else "removed",
            "unit": f" {unit}" if unit else "",
            "threshold": threshold,
            "node": self._core.node,
            "since": _iso(state.last_changed if state is not None else None),
        }

    async def _timer(self) -> None:
        """Sleeps until the next due moment (a duration ends, an entity goes stale, a repeat) or a change."""
        while True:
            await clock.sleep_or_wake(self._due(clock.utcnow()), self._wake)
            self._wake.clear()
            self._due(clock.utcnow(), act=True)

    def _due(self, now: datetime, *, act: bool = False) -> float:
        """Seconds to the next deadline; with `act`, fire what is due now (and repeat what must)."""
        nearest = _IDLE_WAKE
        for rs in self._rules:
            changed = False
            for entity_id, watch in list(rs.watches.items()):
                deadline = self._deadline(rs.rule, watch)
                if deadline is None:
                    continue
                if deadline <= now and act:
                    state = self._core.states.get(entity_id)
                    if watch.firing:
                        watch.last_notified = now
                        self._notify(rs, entity_id, state, "firing", rs.rule.on_fire)
                    else:
                        self._fire(rs, entity_id, state, now)
                    changed = True
                    deadline = self._deadline(rs.rule, watch)
                    if deadline is None:
                        continue
                nearest = min(nearest, max(0.0, (deadline - now).total_seconds()))
            if changed:
                self._write_entity(rs)
        return nearest

    @staticmethod
    def _deadline(rule: AlertRule, watch: _Watch) -> datetime | None:
        if watch.firing:
            return watch.last_notified + rule.repeat if rule.repeat and watch.last_notified else None
        if watch.pending_since is None:
            return None
        wait = rule.no_update_for if rule.no_update_for is not None else rule.for_
        return watch.pending_since + (wait or timedelta(0))

    def _write_entity(self, rs: _RuleState) -> None:
        self._writer.write({rs.rule.name: rs}, partial=True)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


Rules = Mapping[str, _RuleState]


def _alert_attributes(rules: Rules, name: str) -> dict[str, Any]:
    rs = rules[name]
    return {
        "entities": rs.firing(),
        "trigger": describe(rs.rule),
        "last_fired": _iso(rs.last_fired),
        "last_cleared": _iso(rs.last_cleared),
    }


ALERT: EntityDescription[Rules] = EntityDescription(
    key="{instance}",
    name="Alert {instance}",
    platform="binary_sensor",
    value=lambda rules, name: bool(rules[name].firing()),
    instances=lambda rules: list(rules),
    attributes=_alert_attributes,
    device_class="problem",
    # `binary_sensor.alert_<name>` (not the node's prefix): one rule, one alert, whatever node it runs on.
    details=lambda rules, name: EntityDetails(object_id=f"alert_{name}"),
)
"""`binary_sensor.alert_<name>`: on while any entity the rule watches fires (unique id `<node>_alert_<name>`)."""
