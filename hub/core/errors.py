"""The hub's error tree: one meaning per class."""

from __future__ import annotations

__all__ = [
    "HubError",
    "InvalidEntityId",
    "InvalidState",
    "ServiceNotFound",
    "ServiceValidationError",
    "Unavailable",
]


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class InvalidEntityId(HubError, ValueError):
    """An entity id that is not `<domain>.<object_id>` in lowercase slug form."""


class InvalidState(HubError, ValueError):
    """A state string longer than 255 characters or otherwise unacceptable."""


class ServiceNotFound(HubError):
    """No service is registered under that domain and name."""

    def __init__(self, domain: str, service: str) -> None:
        super().__init__(f"Service {domain}.{service} not found")
        self.domain = domain
        self.service = service


class ServiceValidationError(HubError, ValueError):
    """A service call whose data the service's schema refused, or that the service refused to carry out."""


class Unavailable(HubError):
    """A part the answer depends on cannot be reached now (the recorder's database); the caller may try again.

    The message says which part and why, fit for a client to read (no credentials).
    """
