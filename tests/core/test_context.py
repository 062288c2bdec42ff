"""Context ids: ULID shape, Crockford alphabet, a time prefix that never goes backwards, lazy creation."""

from __future__ import annotations

import re
import time

from hub.core import Context, ulid

_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _millis(value: str) -> int:
    return _number(value[:10])


def _number(value: str) -> int:
    number = 0
    for char in value:
        number = number * 32 + _CROCKFORD.index(char)
    return number


def test_ulid_shape_and_alphabet() -> None:
    values = {ulid() for _ in range(1000)}
    assert len(values) == 1000
    assert all(_ULID.match(value) for value in values)


def test_ulid_carries_all_80_random_bits_below_the_time() -> None:
    decoded = [_number(ulid(1_700_000_000.123)) for _ in range(2000)]
    assert all(value >> 80 == 1_700_000_000_123 for value in decoded)
    ones = [0] * 80
    for value in decoded:
        for bit in range(80):
            ones[bit] += value >> bit & 1
    assert all(600 < count < 1400 for count in ones), ones  # each bit random: about half of 2000 set


def test_ulid_encodes_the_timestamp_in_milliseconds() -> None:
    assert _millis(ulid(1_700_000_000.123)) == 1_700_000_000_123
    assert ulid(0)[:10] == "0000000000"


def test_ulid_prefix_is_monotonic_and_sorts_by_time() -> None:
    before = int(time.time() * 1000)
    values = [ulid() for _ in range(2000)]
    after = int(time.time() * 1000)
    prefixes = [value[:10] for value in values]
    assert prefixes == sorted(prefixes)
    assert before <= _millis(values[0]) <= _millis(values[-1]) <= after
    assert ulid(1.0) < ulid(2.0) < ulid(3.0)


def test_context_id_is_made_once_and_carries_the_creation_time() -> None:
    before = int(time.time() * 1000)
    context = Context()
    created = int(time.time() * 1000)
    time.sleep(0.02)
    first = context.id
    assert first == context.id
    assert _ULID.match(first)
    assert before <= _millis(first) <= created
    assert Context.at(1_700_000_000.5).id.startswith(ulid(1_700_000_000.5)[:10])


def test_context_equality_hash_and_dict() -> None:
    context = Context(user_id="u", parent_id="p")
    same = Context(id=context.id, user_id="u", parent_id="p")
    assert context == same
    assert hash(context) == hash(same)
    assert context != Context(id=context.id, user_id="other", parent_id="p")
    assert context != Context()
    assert context.as_dict() == {"id": context.id, "parent_id": "p", "user_id": "u"}
    assert "parent_id='p'" in repr(context)
    assert Context(id="abc").id == "abc"
