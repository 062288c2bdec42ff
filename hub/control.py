"""`HubControl`: what the API may ask of the running hub beyond the core (poll now, reload, health, history)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from .core import HubError
from .health import HealthRegistry

__all__ = ["HistoryReader", "HubControl", "UnknownAlert", "UnknownIntegration"]


class UnknownIntegration(HubError, LookupError):
    """No running integration has that id."""


class UnknownAlert(HubError, LookupError):
    """No alert rule has that name."""


class HistoryReader(Protocol):
    """What the recorder answers for the API's history and statistics endpoints."""

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
        """Home Assistant's `/api/history/period` reply: one list per matched entity, oldest row first.

        `filters` are entity ids, domains (`sensor`) or globs (`sensor.nas_*`); the first row of each list
        is the state at `start` unless `skip_initial_state`.
        """
        ...

    async def statistics(
        self, statistic_ids: Sequence[str], period: str, start: datetime, end: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        """Long-term statistics rows (`period` is `5minute` or `hour`) per statistic id."""
        ...

    async def sparklines(self, patterns: Sequence[str], start: datetime, end: datetime) -> dict[str, list[list[float]]]:
        """`[[start_ms, mean], ...]` of the 5-minute statistics between `start` and `end` of every measurement
        that `patterns` (entity ids, domains, globs) match."""
        ...

    async def uptime(
        self, entity_ids: Sequence[str], now: datetime, windows: Mapping[str, float], bar_starts: Sequence[float]
    ) -> dict[str, dict[str, Any]]:
        """Per binary sensor: `uptime` (percent on per named window, seconds back from `now`), `bars` (percent on
        from each bar start to the next) and `outages` (spans off, newest first); None where nothing is known."""
        ...


class HubControl(Protocol):
    history: HistoryReader | None
    """The recorder's reader, or None while no recorder runs."""

    @property
    def health(self) -> HealthRegistry: ...

    def integrations(self) -> list[dict[str, Any]]:
        """Each configured integration: id, kind "integration", platform, interval, enabled, entities, health."""
        ...

    def test_alert(self, name: str) -> int:
        """Run the rule's `on_fire` actions once, with `status` `test`; how many were started. `UnknownAlert`
        when no rule has that name."""
        ...

    def alert_states(self) -> list[dict[str, Any]]:
        """Each alert rule: name, entity, trigger, firing entities, last fired and cleared."""
        ...

    async def poll_now(self, integration_id: str) -> None:
        """Ask an integration for a poll now; raises `UnknownIntegration`."""
        ...

    async def reload(self) -> list[str]:
        """Re-read the config and apply it; returns what changed. Raises `ConfigErrors`, keeping the old one."""
        ...
