"""`follow_events`: the daemon's event stream turned into immediate polls, and the daemon's comings and goings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from docker.errors import DockerException
from requests.exceptions import RequestException

from hub.core import clock
from hub.integration import IntegrationContext

from .reader import DockerReader

__all__ = ["RECONNECT_CAP", "follow_events"]

_LOGGER = logging.getLogger(__name__)

RECONNECT_FIRST = 0.25
RECONNECT_CAP = 5.0
"""Seconds between attempts to reach a vanished daemon: short, since a returning daemon should show at once."""

_CONTAINER_ACTIONS = frozenset(
    {"create", "start", "restart", "stop", "die", "kill", "oom", "pause", "unpause", "destroy", "rename", "update"}
)
_IMAGE_ACTIONS = frozenset({"pull", "import", "load", "tag", "untag", "delete"})
_FILTERS = {"type": ["container", "image"]}


def _matters(event: Mapping[str, Any]) -> bool:
    action = str(event.get("Action") or event.get("status") or "")
    kind = event.get("Type")
    if kind == "container":
        # `health_status: healthy` and friends; exec_* events come with every healthcheck and change nothing.
        return action in _CONTAINER_ACTIONS or action.startswith("health_status")
    return kind == "image" and action in _IMAGE_ACTIONS


def _next(stream: Iterator[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next(stream, None)


async def follow_events(reader: DockerReader, ctx: IntegrationContext, open_within: float) -> None:
    """Poll at once on every event that changes what we show; reconnect when the stream breaks, until cancelled.

    A lost stream usually means a lost daemon, so it asks for a poll (which fails, making the entities
    unavailable now rather than at the next tick), and so does the first stream that opens again.
    """
    failures = 0
    while True:
        try:
            async with asyncio.timeout(open_within):
                stream = await ctx.run_blocking(reader.client.events, decode=True, filters=_FILTERS)
        except (DockerException, RequestException, TimeoutError) as err:
            failures += 1
            if failures == 1:
                _LOGGER.debug("Docker event stream cannot open: %s", err)
                ctx.request_poll()
            await clock.sleep(min(RECONNECT_CAP, RECONNECT_FIRST * 2 ** min(failures - 1, 8)))
            continue
        if failures:
            _LOGGER.info("Docker event stream open again after %d attempts", failures)
        failures = 0
        reader.forget()
        ctx.request_poll()
        try:
            await _drain(stream, reader, ctx)
        finally:
            stream.close()
        ctx.request_poll()


async def _drain(stream: Any, reader: DockerReader, ctx: IntegrationContext) -> None:
    """Read events on the integration's pinned thread (its pool stays free for polls) until the stream ends."""
    while True:
        try:
            event = await ctx.run_pinned(_next, stream)
        except Exception as err:  # requests, urllib3 and socket errors alike: the stream is gone
            _LOGGER.warning("Docker event stream broke: %s", err)
            return
        if event is None:
            _LOGGER.warning("Docker event stream ended (daemon stopped?)")
            return
        if _matters(event):
            actor = (event.get("Actor") or {}).get("ID")
            if event.get("Type") == "container" and isinstance(actor, str):
                reader.invalidate(actor)
            ctx.request_poll()
