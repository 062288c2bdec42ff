"""`LogLimit`: warnings about hostile or broken input, at most one per key per interval, with what was skipped.

A publisher flooding junk must not flood the log too: the first message for a key (a topic) is logged at once,
later ones within the interval are only counted, and the next line logged for that key says how many were.
"""

from __future__ import annotations

import logging

from . import clock

__all__ = ["LogLimit", "shown"]

_SHOWN = 40
"""Characters of a refused payload put in the log: enough to recognise it, never a flood."""


def shown(payload: bytes | bytearray | str) -> str:
    """A short, printable excerpt of a payload and its size, for a log line (never the whole of a huge one)."""
    head = repr(payload[:_SHOWN])
    more = "..." if len(payload) > _SHOWN else ""
    return f"{head}{more} ({len(payload)} {'bytes' if isinstance(payload, bytes | bytearray) else 'characters'})"


class LogLimit:
    """Warnings on `logger`, at most one per key every `interval` seconds; keys are forgotten after that."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0, max_keys: int = 10_000) -> None:
        self._logger = logger
        self._interval = interval
        self._max_keys = max_keys
        self._until: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = clock.monotonic()
        until = self._until.get(key)
        if until is not None and now < until:
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return
        if until is None and len(self._until) >= self._max_keys:
            # Junk on endless distinct topics: forget the expired keys, and if that is not enough, the rest
            # share one key, so neither memory nor the log grows with the number of topics.
            self._until = {k: t for k, t in self._until.items() if t > now}
            self._skipped = {k: n for k, n in self._skipped.items() if k in self._until}
            if len(self._until) >= self._max_keys:
                key = ""
                if now < self._until.get(key, 0.0):
                    self._skipped[key] = self._skipped.get(key, 0) + 1
                    return
        self._until[key] = now + self._interval
        skipped = self._skipped.pop(key, 0)
        if skipped:
            message += " (%d more since the last such line, not logged)"
            args = (*args, skipped)
        self._logger.warning(message, *args)
