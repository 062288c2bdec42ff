"""`Context`: who or what caused a change, identified by a ULID."""

from __future__ import annotations

import random
import time

__all__ = ["Context", "ulid"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two Crockford characters per 10 bits: 13 lookups make the 26 characters (a per-character loop cost 15 us).
_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_random_bits = random.getrandbits


def ulid(timestamp: float | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits, Crockford base32.

    The random part needs to be unique, not secret (Home Assistant's `ulid_transform` makes the same choice),
    so the fast Mersenne Twister serves instead of `os.urandom`.
    """
    # Three machine-sized numbers (50 bits of time, two halves of the random part) rather than one of 130 bits:
    # shifting and masking small ints cost half as much, and a ULID is made for every context that is read.
    millis = int((time.time() if timestamp is None else timestamp) * 1000)
    high, low = _random_bits(40), _random_bits(40)
    pairs = _PAIRS
    return "".join(
        (
            pairs[millis >> 40],
            pairs[(millis >> 30) & 1023],
            pairs[(millis >> 20) & 1023],
            pairs[(millis >> 10) & 1023],
            pairs[millis & 1023],
            pairs[high >> 30],
            pairs[(high >> 20) & 1023],
            pairs[(high >> 10) & 1023],
            pairs[high & 1023],
            pairs[low >> 30],
            pairs[(low >> 20) & 1023],
            pairs[(low >> 10) & 1023],
            pairs[low & 1023],
        )
    )


class Context:
    """The origin of an event or state change (HA `Context`); immutable.

    The id is made on first read from the creation time: most contexts (one per state write) are never
    read, and making a ULID for each was a third of the cost of a state write (bench/bus.py).
    """

    __slots__ = ("_created", "_id", "_parent_id", "_user_id")

    def __init__(self, id: str | None = None, parent_id: str | None = None, user_id: str | None = None) -> None:
        self._id = id
        self._created = time.time() if id is None else 0.0
        self._parent_id = parent_id
        self._user_id = user_id

    @classmethod
    def at(cls, timestamp: float) -> Context:
        """A new context whose id will carry `timestamp` (an event's context, made when first read)."""
        context = cls()
        context._created = timestamp
        return context

    @property
    def id(self) -> str:
        if self._id is None:
            self._id = ulid(self._created)
        return self._id

    @property
    def parent_id(self) -> str | None:
        return self._parent_id

    @property
    def user_id(self) -> str | None:
        return self._user_id

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "parent_id": self._parent_id, "user_id": self._user_id}

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, Context)
            and self.id == other.id
            and self._parent_id == other._parent_id
            and self._user_id == other._user_id
        )

    def __hash__(self) -> int:
        return hash((self.id, self._parent_id, self._user_id))

    def __repr__(self) -> str:
        return f"Context(id={self.id!r}, parent_id={self._parent_id!r}, user_id={self._user_id!r})"
