"""`load_config`: the whole config directory validated into a typed `Config`, or every error found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from hub.core import slugify

from .errors import ConfigError, ConfigErrors, KeyPath
from .loader import LoadedYaml, load_yaml
from .models import HubSection
from .models.alerts import AlertRule
from .validation import parse_duration

__all__ = ["CONFIG_FILE", "Config", "IntegrationEntry", "IntegrationSpec", "load_config"]

CONFIG_FILE = "hub.yaml"
_TOP_LEVEL = ("hub", "integrations", "alerts")
_COMMON_KEYS = ("platform", "name", "interval", "timeout", "enabled")
_MAX_DEFAULT_TIMEOUT = timedelta(seconds=30)


class IntegrationSpec(Protocol):
    """What the config needs to know of an integration class."""

    @property
    def domain(self) -> str: ...

    @property
    def config_model(self) -> type[BaseModel]: ...

    @property
    def default_interval(self) -> timedelta: ...


@dataclass(frozen=True, slots=True)
class IntegrationEntry:
    """One configured integration: the options every integration has, and its own validated model."""

    platform: str
    id: str
    name: str
    interval: timedelta
    timeout: timedelta
    enabled: bool
    options: BaseModel


@dataclass(frozen=True, slots=True)
class Config:
    hub: HubSection
    integrations: tuple[IntegrationEntry, ...]
    directory: Path
    alerts: tuple[AlertRule, ...] = ()


def load_config(directory: Path, known: Mapping[str, IntegrationSpec]) -> Config:
    """Load `<directory>/hub.yaml`; raises `ConfigErrors` listing every problem with file:line and key path."""
    loaded = load_yaml(directory / CONFIG_FILE)
    return _Validator(loaded, known).validate(directory)


class _Validator:
    def __init__(self, loaded: LoadedYaml, known: Mapping[str, IntegrationSpec]) -> None:
        self.loaded = loaded
        self.known = known
        self.errors: list[ConfigError] = []

    def error(self, path: KeyPath, message: str) -> None:
        if self.reveals_secret(path, message):
            message = "invalid value (it comes from !secret, so it is not shown)"
        mark = self.loaded.mark_for(path)
        self.errors.append(ConfigError(mark.file if mark else CONFIG_FILE, mark.line if mark else None, path, message))

    def reveals_secret(self, path: KeyPath, message: str) -> bool:
        """Whether `message` names a value from secrets.yaml: validators quote what they refuse, and these errors
        reach the log and `POST /api/hub/reload` answers (found by tests/chaos/test_fuzz_config.py)."""
        for secret_path in self.loaded.secret_paths:
            if path[: len(secret_path)] == secret_path:
                leaves = _leaves(_value_at(self.loaded.data, secret_path))
                if any(str(leaf)[:12] in message for leaf in leaves):
                    return True
        return False

    def validate(self, directory: Path) -> Config:
        data = self.loaded.data if self.loaded.data is not None else {}
        if not isinstance(data, dict):
            self.error((), f"expected a mapping with the keys {', '.join(_TOP_LEVEL)}")
            raise ConfigErrors(self.errors)
        for key in data:
            if key not in _TOP_LEVEL:
                self.error((key,), f"unknown key; expected one of: {', '.join(_TOP_LEVEL)}")
        hub = self.model(HubSection, data.get("hub") or {}, ("hub",))
        integrations = self.integrations(data.get("integrations") or [])
        alerts = self.alerts(data.get("alerts") or [])
        if self.errors or hub is None:
            raise ConfigErrors(self.errors)
        return Config(hub=hub, integrations=integrations, directory=directory, alerts=alerts)

    def alerts(self, items: Any) -> tuple[AlertRule, ...]:
        if not isinstance(items, list):
            self.error(("alerts",), "expected a list of alert rules")
            return ()
        rules: list[AlertRule] = []
        for index, item in enumerate(items):
            rule = self.model(AlertRule, item, ("alerts", index))
            if rule is None:
                continue
            if any(existing.name == rule.name for existing in rules):
                self.error(("alerts", index, "name"), f"duplicate alert name {rule.name!r}")
                continue
            rules.append(rule)
        return tuple(rules)

    def model(self, model: type[BaseModel], value: Any, path: KeyPath) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError as err:
            for detail in err.errors():
                self.pydantic_error(path, detail)
            return None

    def pydantic_error(self, base: KeyPath, detail: Any) -> None:
        kind = detail["type"]
        path = (*base, *_keys_of(detail["loc"], _value_at(self.loaded.data, base), missing=kind == "missing"))
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "union_tag_invalid":
            context = detail["ctx"]
            key = context["discriminator"].strip("'")
            message = f"unknown {key} {context['tag']!r}: expected one of {context['expected_tags']}"
        else:
            message = str(detail["msg"]).removeprefix("Value error, ")
            if path not in self.loaded.secret_paths and kind not in ("value_error",):
                message += f", got {_short(detail.get('input'))}"
        self.error(path, message)

    def integrations(self, items: Any) -> tuple[IntegrationEntry, ...]:
        if not isinstance(items, list):
            self.error(("integrations",), "expected a list of integrations, each with a platform")
            return ()
        entries: list[IntegrationEntry] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            entry = self.integration(item, ("integrations", index))
            if entry is None:
                continue
            if entry.id in seen:
                self.error(
                    (*("integrations", index), "name"),
                    f"duplicate integration id {entry.id!r}; give it a name",
                )
                continue
            seen.add(entry.id)
            entries.append(entry)
        return tuple(entries)

    def integration(self, item: Any, path: KeyPath) -> IntegrationEntry | None:
        if not isinstance(item, dict):
            self.error(path, "expected a mapping with a platform")
            return None
        platform = item.get("platform")
        if not isinstance(platform, str):
            self.error((*path, "platform"), "required key is missing" if platform is None else "expected a name")
            return None
        spec = self.known.get(platform)
        if spec is None:
            self.error((*path, "platform"), f"unknown platform {platform!r}; known: {', '.join(sorted(self.known))}")
            return None
        errors_before = len(self.errors)
        interval = self.duration(item, "interval", path, spec.default_interval)
        timeout = self.duration(item, "timeout", path, min(interval, _MAX_DEFAULT_TIMEOUT))
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error((*path, "enabled"), f"expected true or false, got {_short(enabled)}")
        name = item.get("name")
        if name is not None and not (isinstance(name, str) and slugify(name)):
            self.error((*path, "name"), f"expected a name, got {_short(name)}")
        own = {key: value for key, value in item.items() if key not in _COMMON_KEYS}
        options = self.model(spec.config_model, own, path)
        if len(self.errors) > errors_before or options is None:
            return None
        label = name if isinstance(name, str) else platform
        return IntegrationEntry(
            platform=platform,
            id=slugify(label),
            name=label,
            interval=interval,
            timeout=timeout,
            enabled=bool(enabled),
            options=options,
        )

    def duration(self, item: dict[str, Any], key: str, path: KeyPath, default: timedelta) -> timedelta:
        if key not in item:
            return default
        try:
            return parse_duration(item[key])
        except ValueError as err:
            self.error((*path, key), str(err))
            return default


def _keys_of(loc: tuple[Any, ...], data: Any, *, missing: bool) -> KeyPath:
    """pydantic's `loc` as a key path into the YAML: the names it adds for the union member it tried (a class
    name such as "MqttConfig", a discriminator's value such as "http") are no keys there, so they are left out.
    The last part of a `missing` error is the absent key itself, and stays."""
    path: list[str | int] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(data, dict) and isinstance(part, str) and part not in data and not (missing and last):
            continue
        path.append(part)
        data = _value_at(data, (part,))
    return tuple(path)


def _value_at(data: Any, path: KeyPath) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None else [value]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
