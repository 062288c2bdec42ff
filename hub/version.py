"""`hub_version`: the installed distribution's version, read without importing the rest of the hub."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["hub_version"]


def hub_version() -> str:
    try:
        return version("homelab-hub")
    except PackageNotFoundError:
        return "0.0.0"
