"""config/hub.yaml, the example `scripts/run` uses: valid as shipped, and every commented example valid too."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hub.config import load_config
from hub.integration import discover_integrations
from integrations.system_info.config import SystemInfoConfig

_CONFIG = Path(__file__).resolve().parents[2] / "config"
_COMMENTED_KEY = re.compile(r"^(\s*)# ?(\s*(?:- )?[a-z_]+:.*)$")


def test_example_runs_with_no_other_service() -> None:
    config = load_config(_CONFIG, discover_integrations())
    assert config.hub.http.port == 8130
    assert config.hub.recorder.db_url.reveal().startswith("sqlite://data/")
    assert config.hub.redis is None
    assert config.hub.mqtt is None
    assert [entry.platform for entry in config.integrations] == ["system_info"]
    assert config.integrations[0].interval.total_seconds() == 10
    assert config.integrations[0].options == SystemInfoConfig()


def test_every_commented_example_is_valid(tmp_path: Path) -> None:
    """Uncomment every `# key: value` line: Redis, MQTT, docker, checks, system_info options and an alert."""
    lines = []
    for line in (_CONFIG / "hub.yaml").read_text().splitlines():
        match = _COMMENTED_KEY.match(line)
        lines.append(match.group(1) + match.group(2) if match else line)
    (tmp_path / "hub.yaml").write_text("\n".join(lines) + "\n")
    shutil.copy(_CONFIG / "secrets.yaml.example", tmp_path / "secrets.yaml")
    config = load_config(tmp_path, discover_integrations())
    assert config.hub.redis is not None
    assert config.hub.mqtt is not None
    assert [entry.platform for entry in config.integrations] == [
        "system_info",
        "docker",
        "checks",
        "ups",
        "smart",
        "raid",
        "systemd",
        "gpu",
    ]
    assert [check.kind for check in config.integrations[2].options.checks] == ["http", "tcp", "tls"]  # type: ignore[attr-defined]
    options = config.integrations[0].options
    assert isinstance(options, SystemInfoConfig)
    assert options.temperatures is False
    assert str(options.procfs_path) == "/host/proc"
    assert [rule.name for rule in config.alerts] == [
        "disk_full",
        "ups_on_battery",
        "disk_failing",
        "array_degraded",
        "unit_failed",
    ]
