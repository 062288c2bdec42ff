"""The connection loop every sink that holds a connection runs (Redis, MQTT): connect, serve until the connection
fails, say so on the part's health, wait the backoff, and again, for as long as the sink lives.

A sink's own code says how to connect (an async context manager that yields the connection once it is proven, so
a server that accepts and then fails counts as a failed attempt and the backoff grows) and what to do while
connected; failures it expects (`lost`) are reported through `report`, anything else is logged with its traceback
and retried the same way, so a bug in a sink never ends it for the rest of the hub's life.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import NoReturn, TypeVar

from hub.backoff import Backoff
from hub.core import clock
from hub.health import Health

__all__ = ["reconnect_forever"]

_LOGGER = logging.getLogger(__name__)

_LinkT = TypeVar("_LinkT")
_ErrorT = TypeVar("_ErrorT", bound=Exception)


async def reconnect_forever(
    connect: Callable[[], AbstractAsyncContextManager[_LinkT]],
    serve: Callable[[_LinkT], Awaitable[None]],
    *,
    what: str,
    health: Health,
    backoff: Backoff,
    lost: tuple[type[_ErrorT], ...],
    report: Callable[[_ErrorT], None],
) -> NoReturn:
    """Run `serve` on each connection `connect` makes until cancelled; `what` names the server in the log."""
    attempt = 0
    while True:
        try:
            async with connect() as link:
                if attempt:
                    _LOGGER.info("Connected to %s again after %d failed attempts", what, attempt)
                attempt = 0
                await serve(link)
        except lost as err:
            report(err)
        except Exception as err:
            _LOGGER.exception("Sink for %s failed unexpectedly", what)
            health.failure(f"unexpected error: {type(err).__name__}")
        attempt += 1
        await clock.sleep(backoff.delay(attempt))
