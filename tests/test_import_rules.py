"""The integrations' import allow-list stays one: every module of the hub but the three allowed is forbidden to them.

import-linter has no allow-list contract, so pyproject.toml names every other module of `hub`; a module added to
the hub and not named there would be open to integrations unnoticed. This test notices.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import hub
import hub.config

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"hub.core", "hub.integration", "hub.config.validation"}


def _contract(name: str) -> dict[str, object]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["name"] == name]
    return dict(contract)


def test_every_other_hub_module_is_forbidden_to_integrations() -> None:
    contract = _contract("integrations see only the core, the contract and config validation")
    forbidden = set(contract["forbidden_modules"])  # type: ignore[call-overload]
    modules = {f"hub.{m.name}" for m in pkgutil.iter_modules(hub.__path__) if m.name != "__main__"}
    modules.discard("hub.config")
    modules |= {f"hub.config.{m.name}" for m in pkgutil.iter_modules(hub.config.__path__)}
    assert modules - ALLOWED - forbidden == set(), "name these in the contract's forbidden_modules"
    assert forbidden & ALLOWED == set()
