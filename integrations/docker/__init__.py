"""The docker integration: containers of a Docker or podman daemon as devices with live states and controls."""

from .integration import Docker

__all__ = ["Docker"]
