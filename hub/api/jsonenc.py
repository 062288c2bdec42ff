"""JSON encoding of hub objects (states, events, contexts) in Home Assistant's shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any

__all__ = ["dumps"]


def _default(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Enum):
        return value.value
    # An attribute of a type JSON lacks must not fail a whole reply; HA's encoder also falls back to str.
    return str(value)


dumps = partial(json.dumps, default=_default, separators=(",", ":"), allow_nan=False)
"""Compact JSON; states, events and contexts become their HA dicts, anything unknown its `str()`."""
