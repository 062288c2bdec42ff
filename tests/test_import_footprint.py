"""What `homelab-hub run` imports when the config names no optional part: an idle hub's resident memory is mostly
its modules (bench/idle.py, docs/benchmarks.md "Idle cost", which also measures what the import order buys)."""

from __future__ import annotations

import subprocess
import sys

# Records each top-level package as the interpreter first looks for it, then imports what `run` imports.
_PROBE = """
import sys

order = []


class Spy:
    def find_spec(self, name, path=None, target=None):
        if "." not in name:
            order.append(name)
        return None


sys.meta_path.insert(0, Spy())
import hub.cli
import hub.runtime

print(" ".join(order))
"""


def _first_imports() -> list[str]:
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    return result.stdout.split()


def test_run_loads_no_optional_client() -> None:
    order = _first_imports()
    assert {"tortoise", "aiohttp"} <= set(order)  # the probe saw the hub's imports
    # Redis, MQTT, PostgreSQL and Docker clients load only when the config names them.
    assert not {"redis", "aiomqtt", "paho", "asyncpg", "docker"} & set(order)
