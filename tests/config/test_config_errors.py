"""Config errors name file, line and key path exactly; `check-config` exits 1 with them and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.config import ConfigErrors, load_config
from hub.integration import discover_integrations

# A third-party integration, found the way any would be: through an entry point of an installed distribution.
_DEMO_MODULE = "hubtest_demo_integration"
_DEMO_SOURCE = '''
"""A configurable integration for the config tests."""

from datetime import timedelta

from hub.config.validation import Duration, Port, Secret, StrictModel
from hub.integration import Integration

__all__ = ["Demo"]


class DemoConfig(StrictModel):
    host: str = "localhost"
    port: Port = 8080
    password: Secret | None = None
    refresh: Duration = timedelta(seconds=30)


class Demo(Integration[DemoConfig, None]):
    domain = "demo"
    config_model = DemoConfig
    default_interval = timedelta(seconds=20)
'''


@dataclass(frozen=True)
class Case:
    """A config directory and every line `check-config` must print for it."""

    id: str
    files: dict[str, str]
    errors: list[str]


BAD = [
    Case(
        "bad_yaml_syntax",
        {"hub.yaml": "hub:\n  name: test\n  http: {port: 8130\nintegrations: []\n"},
        ["cfg/hub.yaml:4: invalid YAML: expected ',' or '}', but got ':'"],
    ),
    Case(
        "wrong_type",
        {"hub.yaml": "hub:\n  http:\n    port: eighty\n"},
        [
            "cfg/hub.yaml:3 hub.http.port: Input should be a valid integer, unable to parse string as an integer, "
            "got 'eighty'"
        ],
    ),
    Case(
        "unknown_top_level_key",
        {"hub.yaml": "hub: {name: test}\nintegration:\n  - platform: demo\n"},
        ["cfg/hub.yaml:2 integration: unknown key; expected one of: hub, integrations, alerts"],
    ),
    Case(
        "unknown_key_in_hub",
        {"hub.yaml": "hub:\n  name: test\n  recoder: {keep_days: 3}\n"},
        ["cfg/hub.yaml:3 hub.recoder: unknown key"],
    ),
    Case(
        "unknown_key_in_integration",
        {"hub.yaml": "integrations:\n  - platform: demo\n    host: nas\n    colour: blue\n"},
        ["cfg/hub.yaml:4 integrations[0].colour: unknown key"],
    ),
    Case(
        "missing_secret",
        {
            "hub.yaml": "integrations:\n  - platform: demo\n    password: !secret demo_password\n",
            "secrets.yaml": "other_password: hunter2\n",
        },
        ["cfg/hub.yaml:3 integrations[0].password: secret 'demo_password' is not defined in cfg/secrets.yaml"],
    ),
    Case(
        "include_cycle",
        {
            "hub.yaml": "hub: {name: test}\nintegrations: !include a.yaml\n",
            "a.yaml": "- !include b.yaml\n",
            "b.yaml": "platform: demo\nhost: !include a.yaml\n",
        },
        ["cfg/b.yaml:2 integrations[0].host: include cycle: cfg/hub.yaml -> cfg/a.yaml -> cfg/b.yaml -> cfg/a.yaml"],
    ),
    Case(
        "missing_include_file",
        {"hub.yaml": "hub: {name: test}\nintegrations: !include integrations.yaml\n"},
        ["cfg/hub.yaml:2 integrations: cannot include cfg/integrations.yaml: file not found"],
    ),
    Case(
        "bad_duration",
        {"hub.yaml": "integrations:\n  - platform: demo\n    interval: 5 minutes\n"},
        ['cfg/hub.yaml:3 integrations[0].interval: expected a duration such as "10s", "5m" or "1h", got \'5 minutes\''],
    ),
    Case(
        "bad_duration_in_a_model",
        {"hub.yaml": "integrations:\n  - platform: demo\n    refresh: -5s\n"},
        ['cfg/hub.yaml:3 integrations[0].refresh: expected a duration such as "10s", "5m" or "1h", got \'-5s\''],
    ),
    Case(
        "unknown_platform",
        {"hub.yaml": "integrations:\n  - platform: demo\n  - platform: dokcer\n"},
        ["cfg/hub.yaml:3 integrations[1].platform: unknown platform 'dokcer'; known: {known}"],
    ),
    Case(
        "duplicate_key",
        {"hub.yaml": "hub:\n  name: one\n  log_level: info\n  name: two\n"},
        ["cfg/hub.yaml:4 hub.name: duplicate key"],
    ),
    Case(
        "env_var_unset_without_default",
        {"hub.yaml": "integrations:\n  - platform: demo\n    host: !env_var HUBTEST_UNSET_HOST\n"},
        ["cfg/hub.yaml:3 integrations[0].host: environment variable HUBTEST_UNSET_HOST is not set and has no default"],
    ),
    Case(
        "duplicate_integration_id",
        {"hub.yaml": "integrations:\n  - platform: demo\n  - platform: demo\n    host: other\n"},
        ["cfg/hub.yaml:3 integrations[1].name: duplicate integration id 'demo'; give it a name"],
    ),
    Case(
        "negative_port",
        {"hub.yaml": "hub:\n  http:\n    port: -1\n"},
        ["cfg/hub.yaml:3 hub.http.port: Input should be greater than or equal to 1, got -1"],
    ),
    Case(
        "missing_platform",
        {"hub.yaml": "integrations:\n  - host: nas\n"},
        ["cfg/hub.yaml:2 integrations[0].platform: required key is missing"],
    ),
    Case(
        "unknown_tag",
        {"hub.yaml": "hub:\n  name: !secrit name\n"},
        ["cfg/hub.yaml:2 hub.name: unknown tag !secrit; expected !secret, !include or !env_var"],
    ),
    Case(
        "bad_secret_value_never_echoed",
        {
            "hub.yaml": "integrations:\n  - platform: demo\n    password: !secret demo_password\n",
            "secrets.yaml": "demo_password: [hunter2]\n",
        },
        ["cfg/hub.yaml:3 integrations[0].password: expected a string, got list"],
    ),
    Case(
        "several_errors_in_file_order",
        {
            "hub.yaml": textwrap.dedent(
                """\
                hub:
                  name: Not A Slug
                  log_level: loud
                integrations:
                  - platform: demo
                    enabled: maybe
                    port: 70000
                """
            )
        },
        [
            "cfg/hub.yaml:2 hub.name: expected lowercase letters, digits and single underscores, got 'Not A Slug'",
            "cfg/hub.yaml:3 hub.log_level: Input should be 'debug', 'info', 'warning' or 'error', got 'loud'",
            "cfg/hub.yaml:6 integrations[0].enabled: expected true or false, got 'maybe'",
            "cfg/hub.yaml:7 integrations[0].port: Input should be less than or equal to 65535, got 70000",
        ],
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory holding the demo integration and a distribution registering it as an entry point."""
    root = tmp_path_factory.mktemp("site")
    (root / f"{_DEMO_MODULE}.py").write_text(_DEMO_SOURCE)
    dist = root / "hubtest_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hubtest-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[homelab_hub.integrations]\ndemo = {_DEMO_MODULE}:Demo\n")
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    sys.modules.pop(_DEMO_MODULE, None)


@pytest.fixture(scope="module")
def known(site: Path) -> dict[str, Any]:
    found = discover_integrations()
    assert "demo" in found
    return found


def _write(directory: Path, files: dict[str, str]) -> Path:
    config = directory / "cfg"
    config.mkdir(parents=True)
    for name, text in files.items():
        (config / name).write_text(text)
    return config


def _expected(case: Case, known: dict[str, Any]) -> list[str]:
    return [line.replace("{known}", ", ".join(sorted(known))) for line in case.errors]


def _check_config(site: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("HUBTEST_UNSET_HOST", None)
    return subprocess.run(
        [sys.executable, "-m", "hub", "check-config", "-c", "cfg"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def cli_results(site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """`check-config` on every bad config, two at a time (each start imports the whole hub)."""
    directories = {case.id: tmp_path_factory.mktemp(case.id) for case in BAD}
    for case in BAD:
        _write(directories[case.id], case.files)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {case.id: pool.submit(_check_config, site, directories[case.id]) for case in BAD}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", BAD, ids=lambda case: case.id)
def test_load_config_names_file_line_and_key_path(
    case: Case, known: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUBTEST_UNSET_HOST", raising=False)
    _write(tmp_path, case.files)
    with pytest.raises(ConfigErrors) as caught:
        load_config(Path("cfg"), known)
    assert [str(error) for error in caught.value.errors] == _expected(case, known)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("case", BAD, ids=lambda case: case.id)
def test_check_config_exits_1_with_every_error_and_no_traceback(
    case: Case, known: dict[str, Any], cli_results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = cli_results[case.id]
    expected = _expected(case, known)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    count = len(expected)
    assert result.stderr.splitlines() == [
        f"Invalid config ({count} error{'s' * (count != 1)}):",
        *(f"  {line}" for line in expected),
    ]


def test_a_missing_config_file_is_one_error(tmp_path: Path, known: dict[str, Any]) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_config(tmp_path / "nowhere", known)
    assert [e.message for e in caught.value.errors] == ["file not found"]


# Good configs


def test_secret_include_env_var_default_and_durations(
    tmp_path: Path, known: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUBTEST_UNSET_HOST", raising=False)
    monkeypatch.setenv("HUBTEST_PORT", "9000")
    _write(
        tmp_path,
        {
            "hub.yaml": textwrap.dedent(
                """\
                hub:
                  name: lab
                  http: {port: 8131}
                integrations: !include integrations.yaml
                """
            ),
            "integrations.yaml": textwrap.dedent(
                """\
                - platform: demo
                  name: plain number
                  interval: 10
                  password: !secret demo_password
                - platform: demo
                  name: seconds
                  interval: "10s"
                  host: !env_var HUBTEST_UNSET_HOST fallback.lan
                  port: !env_var HUBTEST_PORT
                - platform: demo
                  name: minutes
                  interval: 5m
                  timeout: 1m
                - platform: demo
                  name: hours
                  interval: 1h
                  enabled: false
                  refresh: 1h30m
                """
            ),
            "secrets.yaml": "demo_password: hunter2\n",
        },
    )
    config = load_config(Path("cfg"), known)
    assert config.hub.name == "lab"
    assert config.hub.http.port == 8131
    entries = {entry.id: entry for entry in config.integrations}
    assert list(entries) == ["plain_number", "seconds", "minutes", "hours"]
    assert entries["plain_number"].interval == timedelta(seconds=10)
    assert entries["seconds"].interval == timedelta(seconds=10)
    assert entries["minutes"].interval == timedelta(minutes=5)
    assert entries["minutes"].timeout == timedelta(minutes=1)
    assert entries["hours"].interval == timedelta(hours=1)
    # The default timeout is the interval, at most 30 s; the default interval is the integration's own.
    assert entries["seconds"].timeout == timedelta(seconds=10)
    assert entries["hours"].timeout == timedelta(seconds=30)
    assert entries["hours"].enabled is False
    options = {key: entry.options for key, entry in entries.items()}
    assert options["plain_number"].password.reveal() == "hunter2"  # type: ignore[attr-defined]
    assert "hunter2" not in repr(options["plain_number"])
    assert options["seconds"].host == "fallback.lan"  # type: ignore[attr-defined]
    assert options["seconds"].port == 9000  # type: ignore[attr-defined]
    assert options["hours"].refresh == timedelta(hours=1, minutes=30)  # type: ignore[attr-defined]


def test_an_empty_file_is_a_valid_config_with_defaults(tmp_path: Path, known: dict[str, Any]) -> None:
    config_dir = _write(tmp_path, {"hub.yaml": ""})
    config = load_config(config_dir, known)
    assert config.integrations == ()
    assert config.hub.http.port == 8130


def test_check_config_exits_0_on_a_good_config(site: Path, tmp_path: Path) -> None:
    _write(tmp_path, {"hub.yaml": "hub: {name: lab}\nintegrations:\n  - platform: demo\n    interval: 10s\n"})
    result = _check_config(site, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "Config OK: node 'lab', 1 integration(s)"
