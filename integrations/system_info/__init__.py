"""The system_info integration: the host's own figures through psutil, read off the event loop."""

from .integration import SystemInfo

__all__ = ["SystemInfo"]
