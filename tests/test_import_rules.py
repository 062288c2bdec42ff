"""The integrations' import allow-list stays one: every module of the hub but the three allowed is forbidden to them.

import-linter has no allow-list contract, so pyproject.toml names every other module of `hub`; a module added to
the hub and not named there would be open to integrations unnoticed. This test notices.
"""

from __future__ import annotations

import ast
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


def _runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (its module level, `if TYPE_CHECKING:` blocks left out)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_cycle_between_the_api_keys_and_the_websocket_commands() -> None:
    """keys.py names the WebSocket package's types for the type checker only, and the commands get what they use
    from their connection, so neither imports the other when it runs."""
    keys = _runtime_imports(ROOT / "hub" / "api" / "keys.py")
    assert not [module for module in keys if "websocket" in module], keys
    commands = _runtime_imports(ROOT / "hub" / "api" / "websocket" / "commands.py")
    assert "..keys" not in commands, commands
