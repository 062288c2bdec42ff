"""Helpers for the docker integration's tests: a hub running in-process against the test daemon, and waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from hub.config import load_config
from hub.core import State
from hub.runtime import Hub
from integrations.docker import Docker
from tests.fixtures.ports import free_port

__all__ = ["NODE", "entity", "is_state", "running_hub", "wait_for"]

NODE = "t"


def entity(platform: str, container: str, key: str) -> str:
    return f"{platform}.{NODE}_docker_{container.replace('-', '_')}_{key}"


@asynccontextmanager
async def running_hub(tmp_path: Path, url: str, *, interval: str = "30s", extra: str = "") -> AsyncIterator[Hub]:
    """A hub with only the docker integration (and the API on a free loopback port)."""
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: {NODE}\n  data_dir: {tmp_path / 'data'}\n"
        f"  http:\n    host: 127.0.0.1\n    port: {free_port()}\n"
        f"integrations:\n  - platform: docker\n    url: {url}\n    interval: {interval}\n{extra}"
    )
    available = {"docker": Docker}
    hub = Hub(load_config(directory, available), available)
    async with hub.lifespan():
        yield hub


async def wait_for(
    hub: Hub, entity_id: str, check: Callable[[State | None], bool], timeout: float = 2.0
) -> tuple[State | None, float]:
    """Wait until `check(state)` holds; returns the state and the seconds it took, or fails with the last state."""
    started = time.monotonic()
    while True:
        state = hub.core.states.get(entity_id)
        if check(state):
            return state, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{entity_id} after {timeout}s: {state!r}")
        await asyncio.sleep(0.02)


def is_state(expected: str) -> Callable[[State | None], bool]:
    return lambda state: state is not None and state.state == expected
