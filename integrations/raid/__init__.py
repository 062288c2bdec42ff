"""The raid integration: Linux software RAID arrays (/proc/mdstat) and ZFS pools (zpool), their health and repair."""

from .integration import Raid

__all__ = ["Raid"]
