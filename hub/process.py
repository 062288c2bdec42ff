"""`prepare_process` and `settle_heap`: what `homelab-hub run` does to the Python process itself (glibc's malloc
arenas, the order of the first imports, the garbage collector), all in one place and called from the CLI alone.
None of it changes what the hub does; bench/idle.py and bench/e2e/ measure what each part buys.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os

__all__ = ["prepare_process", "settle_heap"]

_M_ARENA_MAX = -8
"""glibc's `mallopt` parameter for the most arenas (malloc.h)."""

_GC_THRESHOLDS = (20_000, 20, 20)
"""Collect the young generation every 20,000 allocations, not 700: at 2,000 changes/s with every sink on, the
defaults spent 10-20 % of the hub's CPU in the collector, and full collections paused it for up to 230-320 ms,
past the 250 ms latency budget; frozen and with these, 2.5 % and under 80 ms (bench/e2e/, docs/benchmarks.md)."""


def prepare_process() -> None:
    """Before any thread starts and before the runtime is imported."""
    _share_helper_thread_arena()
    # The recorder before anything that loads aiohttp. Tortoise reads and parses its own models.py when it defines
    # `Model` (inspect.getsource, for field comments): ~4 MB of syntax tree for a moment. Freed before the ~8 MB of
    # aiohttp and the API are loaded, that space is what they fill; loaded after them, it stayed a hole in the
    # heap, 1.6 MB of an idle hub's RSS (bench/idle.py).
    importlib.import_module("hub.sinks.recorder")


def settle_heap() -> None:
    """Once started: collect start-up garbage, then exempt what is left (modules, config, registries) from every
    later collection, and collect less often; what the hub makes per change dies young by reference counting."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


def _share_helper_thread_arena() -> None:
    """glibc gives each new thread that allocates an arena of its own (up to 8 per core) whose pages stay resident;
    the hub's helper threads (SQLite's, the executors') mostly wait, so one arena shared by them serves, beside the
    event loop's main one: an idle hub's peak RSS is 0.25 MiB lower (bench/idle.py). An operator's
    MALLOC_ARENA_MAX wins; on another C library nothing changes."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return
    if not hasattr(libc, "gnu_get_libc_version"):  # mallopt's parameter numbers are glibc's
        return
    libc.mallopt(_M_ARENA_MAX, 2)
