"""A running API on a loopback port over a real core, a hub control double and a token in a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hub.api import make_app
from hub.api.tokens import TokenStore
from hub.config.models import HttpConfig
from hub.core import Core, CoreState
from tests.api.apitools import Api, Control, settings_for


@pytest.fixture
def http_settings(tmp_path: Path) -> HttpConfig:
    return settings_for(tmp_path)


@pytest.fixture
async def api(tmp_path: Path, http_settings: HttpConfig) -> AsyncIterator[Api]:
    core = Core("nas")
    core.lifecycle.advance(CoreState.starting)
    core.lifecycle.advance(CoreState.running)  # as a hub whose integrations have all given a first reading
    control = Control()
    tokens = TokenStore.in_dir(tmp_path / "data")
    token = tokens.create("test")
    tokens.save()
    app = make_app(core, control, http_settings, tokens, hub_version="0.1.0")  # type: ignore[arg-type]
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield Api(core, control, tokens, token, server, session, app)
    await server.close()
