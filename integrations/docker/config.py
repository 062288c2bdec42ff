"""`DockerConfig`: the docker integration's options, and the container filters and control rule they define."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Annotated

from pydantic import AfterValidator

from hub.config.validation import Duration, StrictModel, url_with_scheme

__all__ = ["CONTROLS_LABEL", "DockerConfig"]

CONTROLS_LABEL = "homelab.controls"
"""A container label that allows (`true`) or forbids (`false`) start/stop/restart of that one container."""

_LABEL_PREFIX = "label:"
_TRUE = frozenset({"true", "yes", "on", "1"})


def _check_pattern(pattern: str) -> str:
    if not pattern.strip():
        raise ValueError("expected a container name pattern or label:<key>[=<value>]")
    if pattern.startswith(_LABEL_PREFIX) and not pattern[len(_LABEL_PREFIX) :].partition("=")[0]:
        raise ValueError(f"expected label:<key> or label:<key>=<value>, got {pattern!r}")
    return pattern


Pattern = Annotated[str, AfterValidator(_check_pattern)]


def _matches(pattern: str, name: str, labels: Mapping[str, str]) -> bool:
    """A name glob (`web-*`), or `label:<key>` (present) or `label:<key>=<value>` (glob on the value)."""
    if not pattern.startswith(_LABEL_PREFIX):
        return fnmatchcase(name, pattern)
    key, has_value, value = pattern[len(_LABEL_PREFIX) :].partition("=")
    if key not in labels:
        return False
    return not has_value or fnmatchcase(labels[key], value)


class DockerConfig(StrictModel):
    url: Annotated[str, url_with_scheme("unix", "tcp", "http", "https", "ssh", "npipe")] = "unix:///var/run/docker.sock"
    """The daemon (dockerd, or podman's Docker-compatible service)."""
    include: tuple[Pattern, ...] = ()
    """Only containers matching one of these (name globs or `label:<key>[=<value>]`); empty means all."""
    exclude: tuple[Pattern, ...] = ()
    """Containers matching one of these are left out, even when included."""
    controls: bool = False
    """Allow start/stop/restart of every container; the label `homelab.controls` overrides it per container."""
    call_timeout: Duration = timedelta(seconds=10)
    """Longest wait for one daemon call; a stats stream silent this long is reopened."""

    def selects(self, name: str, labels: Mapping[str, str]) -> bool:
        if self.include and not any(_matches(p, name, labels) for p in self.include):
            return False
        return not any(_matches(p, name, labels) for p in self.exclude)

    def allows_controls(self, labels: Mapping[str, str]) -> bool:
        label = labels.get(CONTROLS_LABEL)
        return self.controls if label is None else label.strip().lower() in _TRUE
