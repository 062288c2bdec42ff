"""`RaidConfig`: where /proc/mdstat is, and whether and how to ask ZFS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hub.config.validation import Duration, StrictModel

__all__ = ["RaidConfig"]


class RaidConfig(StrictModel):
    mdstat: Path = Path("/proc/mdstat")
    """Linux software RAID's status file (`/host/proc/mdstat` in a container that mounts the host's /proc there);
    a kernel without md has none, and then there are no arrays."""
    zfs: bool | None = None
    """Read ZFS pools: by default when the `zpool` program is there."""
    zpool: str = "zpool"
    """The zpool program (OpenZFS, or zfs-fuse)."""
    timeout: Duration = timedelta(seconds=10)
    """For one zpool run."""
