"""The checks integration: is each service up, and how fast does it answer (HTTP, TCP, TLS certificates)."""

from .integration import Checks

__all__ = ["Checks"]
