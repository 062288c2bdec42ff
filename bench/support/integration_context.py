"""`BenchContext`: the IntegrationContext the hub gives an integration, on the hub's own BlockingRunner, for
benchmarks that drive an integration's lifespan and polls directly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from hub.executor import BlockingRunner

__all__ = ["BenchContext"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class BenchContext:
    def __init__(self, name: str, node: str = "bench") -> None:
        self.runner = BlockingRunner(name)
        self.node = node
        self.logger = logging.getLogger(name)

    async def run_blocking(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await self.runner.run(fn, *args, **kwargs)

    async def run_pinned(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await self.runner.run_pinned(fn, *args, **kwargs)

    def report(self, snapshot: Any, *, partial: bool = False) -> None:
        pass

    def request_poll(self) -> None:
        pass

    def instance_of(self, entity_id: str) -> str | None:
        return None
