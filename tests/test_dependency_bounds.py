"""The libraries whose internals the hub drives are installed within the range it was tested with.

Each of them is bounded in pyproject.toml; a version outside the bound (an install that ignored it, or a bound
widened without testing) fails here, naming what the hub reaches into, before it fails somewhere obscure.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
INTERNALS = {
    "paho-mqtt": "Client._packet_queue (hub/sinks/mqtt/client.py) and loop_read (integrations/mqtt/reader.py)",
    "aiomqtt": "the paho client under aiomqtt.Client (hub/sinks/mqtt/client.py, integrations/mqtt/reader.py)",
    "tortoise-orm": (
        "tortoise.context._current_context, BaseDBAsyncClient._in_transaction (hub/sinks/recorder/database.py)"
    ),
    "aiosqlite": "Connection._execute (hub/sinks/recorder/sqlite_session.py)",
}


def _declared() -> dict[str, Requirement]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return {(r := Requirement(text)).name: r for text in dependencies}


@pytest.mark.parametrize("package", sorted(INTERNALS))
def test_bounded_and_installed_within(package: str) -> None:
    requirement = _declared().get(package)
    assert requirement is not None, f"{package} is not a declared dependency in pyproject.toml"
    assert any(spec.operator == "<" for spec in requirement.specifier), (
        f"{package} must have an upper bound in pyproject.toml: the hub uses {INTERNALS[package]}"
    )
    installed = version(package)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{package} {installed} is installed, outside {requirement.specifier} that the hub was tested with; "
        f"it uses {INTERNALS[package]}: test those paths with {installed}, then widen the bound"
    )
