"""`hub.redis` in a real config file: defaults, the node's key prefix, URL schemes, and the URL kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.config.errors import ConfigErrors
from hub.config.models import RedisConfig


def _load(tmp_path: Path, redis: str) -> RedisConfig:
    (tmp_path / "hub.yaml").write_text(f"hub:\n  name: nas\n  redis:{redis}\n")
    loaded = load_config(tmp_path, {}).hub.redis
    assert loaded is not None
    return loaded


def test_bare_redis_key_turns_it_on_with_defaults(tmp_path: Path) -> None:
    redis = _load(tmp_path, "")
    assert redis.url.reveal() == "redis://127.0.0.1:6379/0"
    assert redis.prefix_for("nas") == "homelab:nas:"
    assert redis.stream_maxlen == 10_000
    assert redis.timeout.total_seconds() == 5


def test_explicit_prefix_and_settings(tmp_path: Path) -> None:
    redis = _load(tmp_path, "\n    key_prefix: 'lab:'\n    stream_maxlen: 500\n    timeout: 250ms\n")
    assert redis.prefix_for("nas") == "lab:"
    assert redis.stream_maxlen == 500
    assert redis.timeout.total_seconds() == 0.25


def test_a_wrong_scheme_names_the_line_and_not_the_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as caught:
        _load(tmp_path, "\n    url: http://user:s3cret-pw@example:6379/0\n")
    message = str(caught.value)
    assert "hub.yaml:4" in message
    assert "redis://" in message
    assert "s3cret-pw" not in message


def test_the_url_is_masked_when_the_config_is_shown(tmp_path: Path) -> None:
    redis = _load(tmp_path, "\n    url: redis://:s3cret-pw@127.0.0.1:6379/0\n")
    assert "s3cret-pw" not in repr(redis)
    assert "s3cret-pw" not in redis.model_dump_json()
