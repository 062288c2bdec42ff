"""SQLite's WAL checkpoints run beside the writer: committed rows reach the database file within seconds."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from hub.core import Core
from tests.sinks.recorder.recorder_helpers import running


def _rows_in_the_file_alone(db: Path, copy: Path) -> int:
    """States in the database file without its WAL: what checkpoints have copied there."""
    shutil.copyfile(db, copy)
    connection = sqlite3.connect(copy)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM states").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema checkpointed yet
        return 0
    finally:
        connection.close()


async def test_commits_are_checkpointed_long_before_the_wal_limit(tmp_path: Path) -> None:
    core = Core("lab")
    db = tmp_path / "hub.db"
    async with running(f"sqlite://{db}", core, commit_interval="50ms"):
        for value in range(50):
            core.states.set("sensor.lab_load", str(value))
        # 50 rows fill a few WAL pages, far from `wal_autocheckpoint` (10,000): only the checkpointer copies them.
        deadline = asyncio.get_running_loop().time() + 10
        while _rows_in_the_file_alone(db, tmp_path / "copy.db") < 50:
            assert asyncio.get_running_loop().time() < deadline, "rows still only in the WAL"
            await asyncio.sleep(0.1)
    assert not (tmp_path / "hub.db-wal").exists()  # closed cleanly: the last connection removed the WAL
