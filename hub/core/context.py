"""`Context`: who or what caused a change, identified by a ULID."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

__all__ = ["Context", "ulid"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_rand = random.SystemRandom()


def ulid(timestamp: float | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits, Crockford base32."""
    millis = int((time.time() if timestamp is None else timestamp) * 1000)
    value = (millis << 80) | _rand.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


@dataclass(frozen=True, slots=True)
class Context:
    """The origin of an event or state change (HA `Context`)."""

    id: str = field(default_factory=ulid)
    parent_id: str | None = None
    user_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "parent_id": self.parent_id, "user_id": self.user_id}
