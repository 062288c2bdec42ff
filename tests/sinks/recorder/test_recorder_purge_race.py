"""The purge's orphan check without an `attributes_id` index: a state written during the purge keeps its row."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from hub.core import Core
from hub.sinks.recorder.batch import dump_json
from tests.sinks.recorder.recorder_helpers import count, running


async def test_attributes_used_during_the_purge_stay(db_url: str) -> None:
    core = Core("lab")
    async with running(db_url, core, commit_interval="1h") as recorder:
        core.states.set("sensor.lab_a", "1", {"v": 1})
        await recorder.writer.write_pending()
        text = dump_json({"v": 7})
        async with recorder.db.transaction() as session:  # an orphan, as a purge of old states leaves one
            await session.execute_many(
                "INSERT INTO state_attributes (hash, shared_attrs) VALUES (?, ?)", [(zlib.crc32(text.encode()), text)]
            )
        fetch = recorder.db.fetch

        async def fetch_then_write(sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
            if sql.startswith("SELECT attributes_id FROM state_attributes"):
                # After the scan, before the delete: the writer finds the stored row by its hash and uses it.
                core.states.set("sensor.lab_a", "2", {"v": 7})
                await recorder.writer.write_pending()
            return await fetch(sql, params)

        recorder.db.fetch = fetch_then_write  # type: ignore[method-assign]
        await recorder.purge()
        recorder.db.fetch = fetch  # type: ignore[method-assign]
        assert await count(recorder, "state_attributes", "WHERE shared_attrs = ?", (text,)) == 1
        assert await count(recorder, "state_attributes") == 2
        rows = await recorder.db.fetch(
            "SELECT a.shared_attrs FROM states s JOIN state_attributes a ON a.attributes_id = s.attributes_id"
            " WHERE s.state = ?",
            ["2"],
        )
        assert [row[0] for row in rows] == [text]
