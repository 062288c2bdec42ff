"""The history answer's own ISO formatting is exactly `datetime.isoformat()` of a UTC timestamp."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hub.sinks.recorder.history import _iso_many


def test_iso_matches_datetime() -> None:
    rng = random.Random(4)
    edges = [0.0, 1.5, 1_700_000_000.0, 1_700_000_000.9999996, 1_700_000_000.0000005, 1_700_003_599.999_999_7, -1.25]
    values = edges + [rng.uniform(0, 4_000_000_000) for _ in range(10_000)]
    values += [rng.randint(1_600_000_000, 1_900_000_000) + rng.randint(0, 999_999) / 1e6 for _ in range(10_000)]
    for value, formatted in zip(values, _iso_many(values), strict=True):
        assert formatted == datetime.fromtimestamp(value, UTC).isoformat(), value
