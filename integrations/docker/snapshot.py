"""The frozen snapshot one poll of the daemon yields: the daemon's figures and one record per container."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["IDLE", "ContainerSnapshot", "ContainerStats", "DockerSnapshot", "parse_go_time"]

_GO_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_go_time(text: Any) -> datetime | None:
    """The daemon's RFC 3339 times with nanoseconds; None for Go's zero time (`0001-01-01...`: never)."""
    match = _GO_TIME.match(text) if isinstance(text, str) else None
    if match is None or match.group(1).startswith("0001-"):
        return None
    whole, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    return parsed.replace(microsecond=micros).astimezone(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerStats:
    """Resource figures of a running container; rates are per second between two daemon samples."""

    cpu_percent: float | None = None
    """Percent of one core, so two busy cores read 200 (as `docker stats`)."""
    memory_used: int | None = None
    memory_limit: int | None = None
    net_rx_rate: float | None = None
    net_tx_rate: float | None = None
    block_read_rate: float | None = None
    block_write_rate: float | None = None

    @property
    def memory_percent(self) -> float | None:
        if self.memory_used is None or not self.memory_limit:
            return None
        return 100.0 * self.memory_used / self.memory_limit


IDLE = ContainerStats(
    cpu_percent=0.0,
    memory_used=0,
    net_rx_rate=0.0,
    net_tx_rate=0.0,
    block_read_rate=0.0,
    block_write_rate=0.0,
)
"""What a container that does not run uses."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerSnapshot:
    id: str
    name: str
    image: str
    image_id: str
    status: str
    """Docker's state: created, running, paused, restarting, removing, exited or dead."""
    health: str | None
    """starting, healthy or unhealthy; None without a healthcheck."""
    restart_count: int
    started_at: datetime | None
    controls: bool
    stats: ContainerStats

    @property
    def running(self) -> bool:
        """Up in any form: figures flow, and the `running` switch reads on."""
        return self.status in ("running", "paused", "restarting")


@dataclass(frozen=True, kw_only=True, slots=True)
class DockerSnapshot:
    node: str
    version: str
    images: int
    containers_total: int
    """Every container of the daemon, selected or not (as `docker info`)."""
    containers_running: int
    containers: Mapping[str, ContainerSnapshot] = field(default_factory=dict)
    """The selected containers by name."""
