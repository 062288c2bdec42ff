"""What the API says about the hub itself: the HA-shaped version, `/api/config` and the loaded components."""

from __future__ import annotations

from typing import Any, Final

from hub.control import HubControl
from hub.core import Core

__all__ = ["HA_VERSION", "components", "config_dict"]

HA_VERSION: Final = "2024.3.3"
"""The Home Assistant version we speak for. Clients gate features on it (home-assistant-js-websocket: >= 2022.4
uses `subscribe_entities`, >= 2022.9 sends `supported_features`). Our states have 2024.3's shape (no
`last_reported`, added in 2024.4), so claiming a newer release would promise fields we do not send."""

_OWN_COMPONENTS = ("api", "homelab_hub", "websocket_api")


def components(control: HubControl) -> list[str]:
    """Our own parts, the recorder when history is served, and each running integration's platform."""
    names = set(_OWN_COMPONENTS)
    names.update(str(info["platform"]) for info in control.integrations())
    if control.history is not None:
        names.update(("history", "recorder"))
    return sorted(names)


def config_dict(core: Core, control: HubControl, hub_version: str) -> dict[str, Any]:
    """Home Assistant's `/api/config` and `get_config` answer, plus our own version and node."""
    return {
        "latitude": 0.0,
        "longitude": 0.0,
        "elevation": 0,
        "unit_system": {
            "length": "km",
            "accumulated_precipitation": "mm",
            "mass": "g",
            "pressure": "Pa",
            "temperature": "°C",
            "volume": "L",
            "wind_speed": "m/s",
        },
        "location_name": core.node,
        "time_zone": "UTC",
        "components": components(control),
        "config_dir": "",
        "whitelist_external_dirs": [],
        "allowlist_external_dirs": [],
        "allowlist_external_urls": [],
        "version": HA_VERSION,
        "config_source": "yaml",
        "recovery_mode": False,
        "state": core.lifecycle.state,  # STARTING until every integration gave its first reading
        "external_url": None,
        "internal_url": None,
        "currency": "EUR",
        "country": None,
        "language": "en",
        "safe_mode": False,
        "hub_version": hub_version,
        "node": core.node,
    }
