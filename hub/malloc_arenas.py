"""The process's C heap on glibc: the event loop's thread keeps the main malloc arena and every helper thread (the
SQLite connection's, the executors') shares one more, instead of an arena each."""

from __future__ import annotations

import ctypes
import os

__all__ = ["share_helper_thread_arena"]

_M_ARENA_MAX = -8
"""glibc's `mallopt` parameter for the most arenas (malloc.h)."""


def share_helper_thread_arena() -> None:
    """Call before any thread starts. glibc gives each new thread that allocates an arena of its own (up to 8 per
    core) whose pages stay resident; the hub's helper threads mostly wait, so one shared arena serves them: an
    idle hub's peak RSS is 0.25 MiB lower (bench/idle.py). An operator's MALLOC_ARENA_MAX wins; on another C
    library nothing changes."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return
    if not hasattr(libc, "gnu_get_libc_version"):  # mallopt's parameter numbers are glibc's
        return
    libc.mallopt(_M_ARENA_MAX, 2)
