"""`BlockingRunner`: blocking library calls (psutil, docker SDK) off the event loop, each with a timeout."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["BlockingRunner"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class BlockingRunner:
    """A small thread pool per owner, so one owner's hung call never starves another's.

    `run()` uses the pool; `run_pinned()` always uses one dedicated thread, for libraries that keep
    per-thread state between calls (psutil's `cpu_percent(interval=None)`, psutil #1703).
    """

    def __init__(self, name: str, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"hub-{name}")
        self._pinned = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hub-{name}-pinned")

    async def run(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def run_pinned(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await asyncio.get_running_loop().run_in_executor(self._pinned, functools.partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        """Stop accepting work; threads still stuck in a library call are left to finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pinned.shutdown(wait=False, cancel_futures=True)
