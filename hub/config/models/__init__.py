"""The models of the `hub:` section, one module per part it configures."""

from .http import HttpConfig
from .hub import HubSection
from .mqtt import MqttConfig
from .recorder import RecorderConfig
from .redis import RedisConfig

__all__ = ["HttpConfig", "HubSection", "MqttConfig", "RecorderConfig", "RedisConfig"]
