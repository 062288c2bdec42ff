"""`LogLimit`: one warning per key per interval, the skipped ones counted; `shown` never logs a huge payload."""

from __future__ import annotations

import logging

import pytest

from hub.core.clock import FakeClock
from hub.core.log_limit import LogLimit, shown


async def test_one_line_per_key_per_interval_with_the_count_skipped(
    caplog: pytest.LogCaptureFixture, fake_clock: FakeClock
) -> None:
    limit = LogLimit(logging.getLogger("test.limit"), interval=60)
    for index in range(5):
        limit.warning("a/topic", "Junk on %s: %d", "a/topic", index)
    limit.warning("b/topic", "Junk on %s: %d", "b/topic", 0)
    await fake_clock.advance(59.9)
    limit.warning("a/topic", "Junk on %s: %d", "a/topic", 99)  # still within the minute: counted only
    await fake_clock.advance(0.2)
    limit.warning("a/topic", "Junk on %s: %d", "a/topic", 5)
    assert caplog.messages == [
        "Junk on a/topic: 0",
        "Junk on b/topic: 0",
        "Junk on a/topic: 5 (5 more since the last such line, not logged)",
    ]


def test_endless_distinct_keys_share_one_line(caplog: pytest.LogCaptureFixture) -> None:
    limit = LogLimit(logging.getLogger("test.limit"), interval=60, max_keys=3)
    for index in range(100):
        limit.warning(f"t/{index}", "Junk on t/%d", index)
    assert caplog.messages == ["Junk on t/0", "Junk on t/1", "Junk on t/2", "Junk on t/3"]


def test_shown_is_short() -> None:
    assert shown(b"x" * 2_000_000) == f"{b'x' * 40!r}... (2000000 bytes)"
    assert shown("ON") == "'ON' (2 characters)"
