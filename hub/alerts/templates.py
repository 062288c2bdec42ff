"""`render`: the alerts' safe message formatter — `{name}` substitution of known fields, nothing else."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["render"]

_FIELD = re.compile(r"\{([a-z_]+)\}")


def render(template: str, fields: Mapping[str, object]) -> str:
    """Replace each `{field}` by its value; no attribute access, indexing or code, by construction."""
    return _FIELD.sub(lambda m: _text(fields.get(m.group(1), m.group(0))), template)


def _text(value: object) -> str:
    return "" if value is None else str(value)
