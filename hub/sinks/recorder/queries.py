"""SQL pieces the recorder's readers share: placeholders, batches that stay under every database's limit of bound
parameters, and each entity's state at a moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Final, TypeVar

__all__ = ["CHUNK", "chunks", "marks", "states_at"]

CHUNK: Final = 500
"""Ids per query: well under every database's limit of bound parameters."""

_T = TypeVar("_T")
Fetch = Callable[[str, Sequence[Any]], Awaitable[Sequence[Sequence[Any]]]]


def marks(count: int) -> str:
    """`?, ?, ?` for `count` parameters."""
    return ", ".join("?" * count)


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for index in range(0, len(items), CHUNK):
        yield items[index : index + CHUNK]


async def states_at(
    fetch: Fetch, metadata_ids: Sequence[int], moment: float, *, inclusive: bool
) -> list[tuple[int, str | None, int | None]]:
    """Each entity's newest row up to `moment` (at it too when `inclusive`): metadata id, state, attributes id."""
    before = "<=" if inclusive else "<"
    found: list[tuple[int, str | None, int | None]] = []
    for chunk in chunks(metadata_ids):
        rows = await fetch(
            "SELECT s.metadata_id, s.state, s.attributes_id FROM states_meta m"
            " JOIN states s ON s.state_id = (SELECT i.state_id FROM states i WHERE i.metadata_id = m.metadata_id"
            f" AND i.last_updated_ts {before} ? ORDER BY i.last_updated_ts DESC, i.state_id DESC LIMIT 1)"
            f" WHERE m.metadata_id IN ({marks(len(chunk))})",
            [moment, *chunk],
        )
        found.extend((int(row[0]), row[1], row[2]) for row in rows)
    return found
