"""One error tree: every exception the hub and its integrations define is a `HubError` (private helpers aside)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import hub
import integrations
from hub.core import HubError


def _exceptions() -> list[type[BaseException]]:
    found = []
    for package in (hub, integrations):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if info.name.endswith(".__main__"):  # runs the CLI when imported
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                    and not name.startswith("_")
                ):
                    found.append(value)
    return found


EXCEPTIONS = _exceptions()


def test_the_walk_finds_them() -> None:
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"ConfigErrors", "DatabaseUnavailable", "RedisUnavailable", "UnknownIntegration", "Unusable"} <= names


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_is_a_hub_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, HubError), f"{cls.__module__}.{cls.__name__} is outside the HubError tree"
