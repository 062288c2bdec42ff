"""`hub.http`: where the API and dashboard listen, and the limits that protect them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import Field

from ..validation import Duration, Port, Slug, StrictModel

__all__ = ["HttpConfig", "StatusPage"]


class StatusPage(StrictModel):
    """A read-only page at `/status/<slug>` that needs no token: the named checks' state and uptime, no targets
    and no error texts (it is for the household, not for the admin)."""

    title: Annotated[str, Field(min_length=1, max_length=100)]
    checks: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    """Check names, as in the checks integration's config; shown in this order."""


class HttpConfig(StrictModel):
    host: str = "0.0.0.0"
    port: Port = 8130
    metrics_public: bool = False
    """Serve `/metrics` without a token, for a scraper on a trusted network."""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    www_dir: Path | None = None
    """The dashboard's files; by default the `www/` directory beside the `hub` package."""
    login_attempts_threshold: Annotated[int, Field(ge=1)] = 5
    login_attempts_window: Duration = timedelta(minutes=1)
    ban_time: Duration = timedelta(minutes=30)
    ws_max_pending: Annotated[int, Field(ge=16)] = 4096
    """Queued WebSocket messages (beyond conflated entity updates) after which a client is disconnected."""
    ws_send_timeout: Duration = timedelta(seconds=30)
    """How long one frame may wait for a client to read before it is disconnected."""
    status_pages: dict[Slug, StatusPage] = {}
    """Public status pages by slug (opt-in: none by default)."""
