"""YAML loading with `!secret`, `!include` and `!env_var`, every value stamped with its file and line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, ConfigErrors, KeyPath

__all__ = ["LoadedYaml", "Mark", "load_yaml"]

SECRETS_FILE = "secrets.yaml"
_MAX_VALUES = 100_000
"""Values one config may expand to: aliases of aliases ("billion laughs") would otherwise build without end."""


class _TooLarge(Exception):
    """The document expands past `_MAX_VALUES`."""


@dataclass(frozen=True, slots=True)
class Mark:
    file: str
    line: int


@dataclass(slots=True)
class LoadedYaml:
    """Plain Python data, the mark of each key path, and which paths hold secrets (never echoed)."""

    data: Any
    marks: dict[KeyPath, Mark] = field(default_factory=dict)
    secret_paths: set[KeyPath] = field(default_factory=set)

    def mark_for(self, path: KeyPath) -> Mark | None:
        """The mark of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return None


def load_yaml(path: Path, *, display_root: Path | None = None) -> LoadedYaml:
    """Load one config file; raises `ConfigErrors` naming file, line and key path for every problem."""
    builder = _Builder(path.parent, display_root or Path.cwd())
    loaded = LoadedYaml(data=None)
    # Both found by tests/chaos/test_fuzz_config.py: a traceback for deep nesting, a hang for nested aliases.
    try:
        loaded.data = builder.load_file(path, (), loaded, ())
    except RecursionError:
        builder.error(path, None, (), "invalid YAML: nested too deeply")
    except _TooLarge:
        builder.error(path, None, (), f"the document expands to more than {_MAX_VALUES} values (nested aliases?)")
    if builder.errors:
        raise ConfigErrors(builder.errors)
    return loaded


class _Builder:
    """Turns composed YAML nodes into data, resolving tags and recording marks as it goes."""

    def __init__(self, config_dir: Path, display_root: Path) -> None:
        self.config_dir = config_dir
        self.display_root = display_root
        self.errors: list[ConfigError] = []
        self._secrets: dict[str, Any] | None = None
        self._constructor = yaml.SafeLoader("")
        self._values = 0

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.display_root.resolve()))
        except ValueError:
            return str(path)

    def error(self, file: Path, line: int | None, path: KeyPath, message: str) -> None:
        self.errors.append(ConfigError(self.display(file), line, path, message))

    def load_file(
        self,
        file: Path,
        path: KeyPath,
        out: LoadedYaml,
        stack: tuple[Path, ...],
        included_at: tuple[Path, int] | None = None,
    ) -> Any:
        """Load `file`; problems opening an included file are reported at the `!include` that named it."""
        resolved = file.resolve()
        where, line = included_at or (file, None)
        if resolved in stack:
            chain = " -> ".join(self.display(p) for p in (*stack, resolved))
            self.error(where, line, path, f"include cycle: {chain}")
            return None
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            prefix = f"cannot include {self.display(file)}: " if included_at else ""
            self.error(where, line, path, f"{prefix}file not found")
            return None
        except (OSError, UnicodeDecodeError) as err:
            self.error(where, line, path, f"cannot read {self.display(file)}: {err}")
            return None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as err:
            line = err.problem_mark.line + 1 if err.problem_mark else None
            problem = err.problem or str(err)
            self.error(file, line, path, f"invalid YAML: {problem}")
            return None
        except yaml.YAMLError as err:
            self.error(file, None, path, f"invalid YAML: {err}")
            return None
        if node is None:
            return None
        return self.build(node, path, file, out, (*stack, resolved))

    def build(self, node: yaml.Node, path: KeyPath, file: Path, out: LoadedYaml, stack: tuple[Path, ...]) -> Any:
        self._values += 1
        if self._values > _MAX_VALUES:
            raise _TooLarge
        out.marks.setdefault(path, Mark(self.display(file), node.start_mark.line + 1))
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path, file, out, stack)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), file, out, stack) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == "!secret":
            out.secret_paths.add(path)
            return self.secret(str(node.value), file, line, path)
        if node.tag == "!env_var":
            return self.env_var(str(node.value), file, line, path)
        if node.tag == "!include":
            return self.load_file(file.parent / str(node.value), path, out, stack, (file, line))
        if node.tag.startswith("!"):
            self.error(file, line, path, f"unknown tag {node.tag}; expected !secret, !include or !env_var")
            return None
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as err:
            self.error(file, line, path, f"invalid value: {err}")
            return None

    def build_mapping(
        self, node: yaml.MappingNode, path: KeyPath, file: Path, out: LoadedYaml, stack: tuple[Path, ...]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = self.build(value_node, path, file, out, stack)
                if isinstance(merged, dict):
                    for key, value in merged.items():
                        result.setdefault(key, value)
                continue
            key = self.build(key_node, path, file, out, stack) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                self.error(file, line, path, "mapping keys must be plain strings")
                continue
            key = str(key)
            if key in result:
                self.error(file, line, (*path, key), "duplicate key")
                continue
            out.marks[(*path, key)] = Mark(self.display(file), line)
            result[key] = self.build(value_node, (*path, key), file, out, stack)
        return result

    def secret(self, name: str, file: Path, line: int, path: KeyPath) -> Any:
        secrets = self.load_secrets()
        if name not in secrets:
            where = self.display(self.config_dir / SECRETS_FILE)
            self.error(file, line, path, f"secret {name!r} is not defined in {where}")
            return None
        return secrets[name]

    def load_secrets(self) -> dict[str, Any]:
        if self._secrets is None:
            self._secrets = {}
            secrets_path = self.config_dir / SECRETS_FILE
            if secrets_path.exists():
                try:
                    loaded = yaml.safe_load(secrets_path.read_text(encoding="utf-8"))
                except (OSError, yaml.YAMLError) as err:
                    self.error(secrets_path, None, (), f"cannot read secrets: {type(err).__name__}")
                    return self._secrets
                if isinstance(loaded, dict):
                    self._secrets = {str(k): v for k, v in loaded.items()}
                elif loaded is not None:
                    self.error(secrets_path, None, (), "expected a mapping of secret names to values")
        return self._secrets

    def env_var(self, spec: str, file: Path, line: int, path: KeyPath) -> Any:
        name, _, default = spec.strip().partition(" ")
        if name in os.environ:
            return os.environ[name]
        if default.strip():
            try:
                return self._constructor.construct_object(yaml.compose(default.strip(), Loader=yaml.SafeLoader))
            except yaml.YAMLError as err:
                problem = err.problem if isinstance(err, yaml.MarkedYAMLError) and err.problem else str(err)
                self.error(file, line, path, f"invalid default of {name}: {problem}")
                return None
        self.error(file, line, path, f"environment variable {name} is not set and has no default")
        return None
