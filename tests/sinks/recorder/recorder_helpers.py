"""Shared helpers for the recorder tests: a running `Recorder` on a bare core, and row counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hub.config.models.recorder import RecorderConfig
from hub.core import Core, DeviceInfo
from hub.health import Health, HealthRegistry
from hub.sinks.recorder import Recorder

__all__ = ["count", "running"]

NODE = "lab"


@asynccontextmanager
async def running(db_url: str, core: Core | None = None, **settings: Any) -> AsyncIterator[Recorder]:
    """A started recorder on `core` (a fresh one by default), stopped (and flushed) on exit."""
    config = RecorderConfig(db_url=db_url, **settings)
    assert config.db_url is not None
    health: Health = HealthRegistry().create("recorder", "sink")
    recorder = Recorder(core or Core(NODE), config, config.db_url, health, DeviceInfo(identifier=NODE, name=NODE))
    async with recorder.lifespan():
        yield recorder


async def count(recorder: Recorder, table: str, where: str = "", params: tuple[Any, ...] = ()) -> int:
    rows = await recorder.db.fetch(f"SELECT COUNT(*) FROM {table} {where}", params)
    return int(rows[0][0])
