"""The recorder: history, long-term statistics and retention in Tortoise ORM, on SQLite or PostgreSQL."""

from .database import DatabaseUnavailable, RecorderError, SchemaMismatch
from .history import History
from .recorder import Recorder, recorder_url

__all__ = ["DatabaseUnavailable", "History", "Recorder", "RecorderError", "SchemaMismatch", "recorder_url"]
