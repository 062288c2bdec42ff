"""Every `web.AppKey` and `web.RequestKey` of the API: the typed names of what handlers share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from hub.config.models import HttpConfig
from hub.control import HubControl
from hub.core import Core

from .auth import Authenticator
from .counters import ApiCounters
from .error_log import LogBuffer
from .tokens import TokenRecord

if TYPE_CHECKING:  # the WebSocket package uses these keys: importing it here would make a cycle
    from .websocket.connection import ConnectionSet
    from .websocket.entities import ChangeFeed
    from .websocket.messages import EventEncoder

__all__ = [
    "AUTH",
    "CHANGE_FEED",
    "CONNECTIONS",
    "CONTROL",
    "CORE",
    "COUNTERS",
    "EVENT_ENCODER",
    "HUB_VERSION",
    "LOG_BUFFER",
    "SETTINGS",
    "TOKEN",
]

CORE = web.AppKey("core", Core)
CONTROL = web.AppKey("control", HubControl)
SETTINGS = web.AppKey("settings", HttpConfig)
AUTH = web.AppKey("auth", Authenticator)
CONNECTIONS: web.AppKey[ConnectionSet] = web.AppKey("connections")
LOG_BUFFER = web.AppKey("log_buffer", LogBuffer)
HUB_VERSION = web.AppKey("hub_version", str)
COUNTERS = web.AppKey("counters", ApiCounters)
CHANGE_FEED: web.AppKey[ChangeFeed] = web.AppKey("change_feed")
EVENT_ENCODER: web.AppKey[EventEncoder] = web.AppKey("event_encoder")

TOKEN = web.RequestKey("token", TokenRecord)
"""The token an authenticated request came with."""
