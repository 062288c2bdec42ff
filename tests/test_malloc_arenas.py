"""glibc malloc arenas: after `share_helper_thread_arena`, helper threads share one arena instead of one each."""

from __future__ import annotations

import os
import subprocess
import sys

# Four threads allocate C heap (buffers over pymalloc's 512 bytes) at the same time, then glibc's malloc_stats()
# lists the arenas on stderr, one "Arena N:" line each.
_PROBE = """
import ctypes, sys, threading
from hub.malloc_arenas import share_helper_thread_arena

if sys.argv[1] == "shared":
    share_helper_thread_arena()
together = threading.Barrier(4)
held = []


def allocate():
    held.append([bytearray(4096) for _ in range(64)])
    together.wait()


threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()
"""


def _arenas(mode: str) -> int:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True, timeout=60, env=env
    )
    return sum(line.startswith("Arena ") for line in result.stderr.splitlines())


def test_helper_threads_share_one_arena_beside_the_main_one() -> None:
    assert _arenas("default") == 5
    assert _arenas("shared") == 2
