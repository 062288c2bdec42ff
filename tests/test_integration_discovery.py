"""Integration discovery: every built-in is known by its domain, and only a looked-up one is imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hub.integration import discover_integrations


def test_built_ins_are_known_by_domain() -> None:
    known = discover_integrations()
    assert {"system_info", "docker", "mqtt"} <= set(known)
    for domain in ("system_info", "docker", "mqtt"):
        assert known[domain].domain == domain
    assert known.get("no_such_platform") is None


def test_an_integration_the_config_does_not_name_is_never_imported() -> None:
    # A fresh interpreter: in this one other tests have imported everything already.
    script = textwrap.dedent(
        """
        import sys
        from hub.integration import discover_integrations
        known = discover_integrations()
        assert "docker" in list(known)
        known["system_info"]
        print(sorted(m for m in ("docker", "integrations.docker", "aiomqtt") if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
