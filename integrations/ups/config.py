"""`UpsConfig`: which upsd to ask and which of its UPSes to report. Reading needs no login in NUT (upsd.users
grants commands and settings, not reads), so there is none to configure."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from hub.config.validation import Duration, Port, StrictModel

__all__ = ["UpsConfig"]


class UpsConfig(StrictModel):
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Port = 3493
    ups: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    """UPS names as upsd knows them (`upsc -l`); empty means every UPS it serves."""
    timeout: Duration = timedelta(seconds=5)
    """For one poll's whole conversation with upsd."""
