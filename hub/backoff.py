"""`Backoff`: exponential delays with jitter and a cap, and a testing switch that makes them instant."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff", "is_testing", "set_testing"]

_testing = False


def set_testing(on: bool) -> None:
    """In testing mode every delay is a millisecond, so failure paths run fast (stamina's idea)."""
    global _testing
    _testing = on


def is_testing() -> bool:
    return _testing


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry `attempt` (1-based): initial * factor^(attempt-1), capped, +/- jitter."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 300.0
    jitter: float = 0.1

    def delay(self, attempt: int) -> float:
        if _testing:
            return 0.001
        base = min(self.cap, self.initial * self.factor ** max(0, min(attempt - 1, 64)))
        return base * (1 + random.uniform(-self.jitter, self.jitter))
