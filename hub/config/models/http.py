"""`hub.http`: where the API and dashboard listen."""

from __future__ import annotations

from ..validation import Port, StrictModel

__all__ = ["HttpConfig"]


class HttpConfig(StrictModel):
    host: str = "0.0.0.0"
    port: Port = 8130
