"""`hub.recorder`: where and how long history is kept."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..validation import Secret, StrictModel

__all__ = ["RecorderConfig"]


class RecorderConfig(StrictModel):
    db_url: Secret = Secret("sqlite://data/hub.db")
    keep_days: Annotated[int, Field(ge=1)] = 10
