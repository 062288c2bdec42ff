"""Configuration: YAML with tags and marks, validated into typed models with file:line errors."""

from .errors import ConfigError, ConfigErrors
from .schema import CONFIG_FILE, Config, IntegrationEntry, IntegrationSpec, load_config
from .secret import Secret

__all__ = [
    "CONFIG_FILE",
    "Config",
    "ConfigError",
    "ConfigErrors",
    "IntegrationEntry",
    "IntegrationSpec",
    "Secret",
    "load_config",
]
