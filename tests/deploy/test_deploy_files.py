"""The deployment files are valid as their own tools see them: systemd, compose, and the hub's config check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "homelab-hub.service"


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is not installed: `bash scripts/test` (as root) installs the Debian package {package}")
    return path


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = _require("systemd-analyze", "systemd")
    # The unit names the install location; point it at this checkout's entry point so verify can check it.
    executable = Path(sys.executable).with_name("homelab-hub")
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/homelab-hub/.venv/bin/homelab-hub", str(executable)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_systemd_unit_is_hardened() -> None:
    text = UNIT.read_text()
    for option in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet="):
        assert option in text


def test_compose_file_is_valid() -> None:
    compose = _require("docker-compose", "docker-compose")
    result = subprocess.run(
        [compose, "-f", str(ROOT / "compose.yaml"), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"hub", "mosquitto", "redis", "postgres"}
    assert services["postgres"]["profiles"] == ["postgres"], "PostgreSQL is optional"
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in str(services["hub"]["volumes"])


@pytest.mark.parametrize("directory", ["deploy/container", "deploy/compose"])
def test_shipped_configs_pass_check_config(directory: str) -> None:
    env = {**os.environ, "HUB_NAME": "box", "HUB_PROCFS": "/proc"}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "check-config", "-c", str(ROOT / directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE=" in text
    assert "\nUSER hub\n" in text
    assert "HEALTHCHECK" in text
    # The check asks the hub where its config says it listens, not a fixed port (tests/test_lifecycle.py).
    assert 'CMD ["homelab-hub", "health", "-c", "/config"]' in text
    assert "8130/api" not in text
    assert 'VOLUME ["/config", "/data"]' in text
