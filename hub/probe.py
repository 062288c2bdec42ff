"""`probe`: the run state of the hub a config directory describes, asked over its own HTTP API.

What `homelab-hub health` (the container HEALTHCHECK) runs: it reads only `hub.http` of the config, with the
same tags (`!env_var`, `!secret`, `!include`) the hub read it with, so it asks wherever the hub listens.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import ValidationError

from hub.config import CONFIG_FILE
from hub.config.loader import load_yaml
from hub.config.models import HttpConfig
from hub.core import HubError

__all__ = ["ProbeError", "health_url", "probe"]

_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


class ProbeError(HubError):
    """Why the state could not be told: a config that does not say where, or a hub that does not answer."""


def health_url(directory: Path) -> str:
    """`/api/hub/health` of the hub configured in `directory`; raises `ConfigErrors` or `ProbeError`."""
    data = load_yaml(directory / CONFIG_FILE).data
    hub = data.get("hub") if isinstance(data, dict) else None
    raw = hub.get("http") if isinstance(hub, dict) else None
    try:
        http = HttpConfig.model_validate(raw or {})
    except ValidationError as err:
        raise ProbeError(f"{directory / CONFIG_FILE}: hub.http: {err.errors()[0]['msg']}") from err
    host = _ANY_ADDRESS.get(http.host, http.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{http.port}/api/hub/health"


def probe(directory: Path, timeout: float) -> str:
    """The state the running hub reports (`RUNNING`, `STARTING`, ...); raises `ProbeError` if it cannot tell."""
    url = health_url(directory)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = json.loads(answer.read())
    except (OSError, ValueError) as err:
        raise ProbeError(f"no answer from {url}: {err}") from err
    state = body.get("state") if isinstance(body, dict) else None
    if not isinstance(state, str):
        raise ProbeError(f"{url} answered without a state: {str(body)[:80]}")
    return state
