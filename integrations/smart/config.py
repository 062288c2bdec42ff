"""`SmartConfig`: which disks to read (every one smartctl finds, by default), and how."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from hub.config.validation import Duration, StrictModel

__all__ = ["DiskSpec", "SmartConfig"]


class DiskSpec(StrictModel):
    name: Annotated[str, Field(min_length=1, pattern=r"^/dev/")]
    """The device, as smartctl takes it: `/dev/sda`, `/dev/nvme0`."""
    type: Annotated[str, Field(pattern=r"^[a-z0-9+,_-]+$")] | None = None
    """smartctl's `-d` (`sat`, `nvme`, `megaraid,0`, `sntasmedia`...) where it cannot tell by itself."""


class SmartConfig(StrictModel):
    devices: tuple[DiskSpec, ...] = ()
    """Disks to read; empty means every disk `smartctl --scan-open` finds."""
    smartctl: str = "smartctl"
    """The smartctl program (smartmontools 7.0 or newer, for `--json`)."""
    wake: bool = False
    """Read disks that are spun down too (smartctl's `-n never`); by default a sleeping disk is left asleep and
    keeps its last reading."""
    timeout: Duration = timedelta(seconds=30)
    """For one smartctl run; a disk that hangs longer reads as unsupported this time."""
