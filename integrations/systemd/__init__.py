"""The systemd integration: chosen units' state and restarts over D-Bus, the count of failed units, and (when
allowed) start, stop and restart."""

from .integration import Systemd

__all__ = ["Systemd"]
