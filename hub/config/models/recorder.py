"""`hub.recorder`: where history is kept, how it is written and how long it is kept."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ..validation import Duration, Secret, StrictModel

__all__ = ["RECORDER_SCHEMES", "RecorderConfig"]

RECORDER_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


class RecorderConfig(StrictModel):
    db_url: Secret | None = None
    """`sqlite://<path>` (the folder is created) or `postgres://user:pass@host[:port]/db` (the `postgres` extra);
    unset means `sqlite://<hub.data_dir>/hub.db`, so `sqlite://data/hub.db` by default."""
    keep_days: Annotated[int, Field(ge=1)] = 10
    """States, events and 5-minute statistics older than this are purged daily."""
    statistics_keep_days: Annotated[int, Field(ge=1)] = 730
    """Hourly statistics are kept this long."""
    commit_interval: Duration = timedelta(seconds=1)
    """A batch is committed this often, or sooner when `max_batch` rows wait."""
    max_batch: Annotated[int, Field(ge=1, le=100_000)] = 1000
    commit_timeout: Duration = timedelta(seconds=60)
    """A commit (opening the database included) with no answer by then has failed and is retried with backoff."""
    buffer_size: Annotated[int, Field(ge=1)] = 200_000
    """Changes held while the database is unreachable; what arrives past this is dropped and counted."""
    purge_time: time = time(4, 12)
    """When the daily purge runs, in UTC (Home Assistant purges at 04:12)."""
    shutdown_timeout: Duration = timedelta(seconds=10)
    """How long shutdown keeps trying to write what is still buffered."""

    @field_validator("db_url")
    @classmethod
    def _known_backend(cls, value: Secret | None) -> Secret | None:
        if value is None:
            return None
        # The message names the scheme only: the URL may hold a password.
        scheme = urlsplit(value.reveal()).scheme
        if scheme not in RECORDER_SCHEMES:
            raise ValueError(f"expected a sqlite:// or postgres:// URL, got scheme {scheme!r}")
        return value
