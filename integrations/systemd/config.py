"""`SystemdConfig`: which units to watch (globs), which bus, and whether the hub may start and stop them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from hub.config.validation import Duration, StrictModel

__all__ = ["SystemdConfig"]


class SystemdConfig(StrictModel):
    units: tuple[Annotated[str, Field(min_length=1, pattern=r"^[\w@:.*?\[\]\\-]+$")], ...] = ()
    """Unit names or globs (`nginx.service`, `docker*.service`, `*.timer`); empty watches none, and only the
    count of failed units is reported."""
    bus: Literal["system", "session"] = "system"
    bus_address: str | None = None
    """A D-Bus address (`unix:path=/host/run/dbus/system_bus_socket` in a container) instead of the bus's own."""
    controls: bool = False
    """Offer start/stop and restart for the watched units (the dashboard asks before each)."""
    timeout: Duration = timedelta(seconds=5)
    """For one D-Bus call."""
