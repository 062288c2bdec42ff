"""Shared config validators: durations, ports, slugs, URLs and secrets, as annotated pydantic types."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from .secret import Secret

__all__ = [
    "Duration",
    "Port",
    "Secret",
    "Slug",
    "StrictModel",
    "parse_duration",
    "url_with_scheme",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


class StrictModel(BaseModel):
    """Base of every config model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def parse_duration(value: Any) -> timedelta:
    """`10`, `2.5`, `"10s"`, `"5m"`, `"1h30m"`, `"500ms"` or `"1d"` -> a positive `timedelta`."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError(f'expected a duration such as "10s", got {value!r}')
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_units(text, value)
    else:
        raise ValueError(f'expected a duration such as "10s", got {value!r}')
    if seconds <= 0:
        raise ValueError(f"expected a positive duration, got {value!r}")
    return timedelta(seconds=seconds)


def _parse_units(text: str, original: str) -> float:
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if text[position : match.start()].strip():
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0 or text[position:].strip():
        raise ValueError(f'expected a duration such as "10s", "5m" or "1h", got {original!r}')
    return seconds


def _check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"expected lowercase letters, digits and single underscores, got {value!r}")
    return value


def url_with_scheme(*schemes: str) -> AfterValidator:
    """A validator for URLs whose scheme is one of `schemes`."""

    def check(value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            raise ValueError(f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return value

    return AfterValidator(check)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda d: f"{d.total_seconds():g}s", return_type=str),
]
Port = Annotated[int, Field(ge=1, le=65535)]
Slug = Annotated[str, AfterValidator(_check_slug)]
