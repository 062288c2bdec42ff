"""`LogBuffer`: the recent warnings and errors of the hub, for `/api/error_log` (HA serves its log file there)."""

from __future__ import annotations

import logging
from collections import deque

__all__ = ["SECRET_RECORD", "LogBuffer"]

SECRET_RECORD = "hub_secret"
"""Set as `extra={SECRET_RECORD: True}` on a log call whose message holds a secret: it stays out of the API."""

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class LogBuffer(logging.Handler):
    """Keeps the last `size` records at `level` and above, formatted, in memory."""

    def __init__(self, size: int = 1000, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(_FORMAT))
        self._lines: deque[str] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, SECRET_RECORD, False):
            return
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)

    def text(self) -> str:
        return "\n".join(self._lines) + ("\n" if self._lines else "")
