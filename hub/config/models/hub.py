"""`hub:`: the node's name and the settings of each part; absent optional parts are off."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from hub.core import slugify

from ..validation import Slug, StrictModel
from .http import HttpConfig
from .mqtt import MqttConfig
from .recorder import RecorderConfig
from .redis import RedisConfig

__all__ = ["HubSection"]


def _default_node() -> str:
    return slugify(socket.gethostname().split(".")[0]) or "hub"


class HubSection(StrictModel):
    name: Slug = Field(default_factory=_default_node)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    data_dir: Path = Path("data")
    """Where the hub keeps its own files (API tokens); relative to the working directory."""
    http: HttpConfig = HttpConfig()
    recorder: RecorderConfig = RecorderConfig()
    redis: RedisConfig | None = None
    mqtt: MqttConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_key_means_defaults(cls, data: object) -> object:
        """`redis:` with nothing under it turns the part on with its defaults."""
        if isinstance(data, dict):
            return {key: {} if value is None and key in _PARTS else value for key, value in data.items()}
        return data


_PARTS = frozenset({"http", "recorder", "redis", "mqtt"})
