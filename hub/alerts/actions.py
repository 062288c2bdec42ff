"""`ActionRunner`: an alert's webhooks (JSON; ntfy and Gotify through Apprise), Apprise notifications, MQTT
publishes and service calls, retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp

from hub.backoff import Backoff
from hub.config.models.alerts import AppriseAction, MqttAction, ServiceAction, WebhookAction
from hub.core import Core, HubError, clock

from .templates import render

__all__ = ["ATTEMPTS", "ActionFailed", "ActionRunner", "apprise_url_of"]

_LOGGER = logging.getLogger(__name__)

ATTEMPTS = 4
"""Tries per action (one plus three retries with backoff); then it is logged as given up."""

Action = WebhookAction | MqttAction | ServiceAction | AppriseAction


class ActionFailed(HubError):
    """An action that did not go through (HTTP error, service refused)."""


class ActionRunner:
    """Runs actions in background tasks, so the bus never waits on a notification."""

    def __init__(self, core: Core, session: aiohttp.ClientSession, backoff: Backoff | None = None) -> None:
        self._core = core
        self._session = session
        self._backoff = backoff or Backoff(initial=2.0, cap=60.0)
        self._tasks: set[asyncio.Task[None]] = set()
        self.failures = 0

    def start(self, action: Action, fields: Mapping[str, Any], message: str) -> None:
        task = asyncio.create_task(self._with_retries(action, fields, message), name="alert-action")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the actions under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _with_retries(self, action: Action, fields: Mapping[str, Any], message: str) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self._run(action, fields, message)
                return
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.failures += 1
                what = _label(action)
                if attempt == ATTEMPTS:
                    _LOGGER.error("Alert %s: %s failed %d times, giving up: %s", fields["alert"], what, attempt, err)
                    return
                _LOGGER.warning("Alert %s: %s failed (try %d of %d): %s", fields["alert"], what, attempt, ATTEMPTS, err)
                await clock.sleep(self._backoff.delay(attempt))

    async def _run(self, action: Action, fields: Mapping[str, Any], message: str) -> None:
        if isinstance(action, WebhookAction):
            await self._webhook(action, fields, message)
        elif isinstance(action, AppriseAction):
            await _apprise(action, fields, message)
        elif isinstance(action, MqttAction):
            payload = render(action.payload, fields) if action.payload is not None else message
            data = {
                "topic": render(action.mqtt, fields),
                "payload": payload,
                "qos": action.qos,
                "retain": action.retain,
            }
            await self._core.services.call("mqtt", "publish", data)
        else:
            domain, _, service = action.service.partition(".")
            call_data: dict[str, Any] = {
                key: render(v, fields) if isinstance(v, str) else v for key, v in action.data.items()
            }
            await self._core.services.call(domain, service, call_data)

    async def _webhook(self, action: WebhookAction, fields: Mapping[str, Any], message: str) -> None:
        text = render(action.message, fields) if action.message is not None else message
        title = render(action.title, fields)
        if action.format != "json":  # ntfy and Gotify: Apprise speaks both (apprise_url_of says how)
            await _deliver(apprise_url_of(action, fields["status"]), title, text, fields["status"], action.timeout)
            return
        token = action.token.reveal() if action.token is not None else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        timeout = aiohttp.ClientTimeout(total=action.timeout.total_seconds())
        body = {**fields, "title": title, "message": text}
        try:
            async with self._session.post(action.webhook, headers=headers, timeout=timeout, json=body) as response:
                if response.status >= 400:
                    raise ActionFailed(f"HTTP {response.status} from the webhook")
        except aiohttp.ClientError as err:
            raise ActionFailed(f"webhook unreachable: {type(err).__name__}") from err


def apprise_url_of(action: WebhookAction, status: str) -> str:
    """The Apprise URL of an ntfy or Gotify webhook: ntfy's topic is the URL's last path segment, its token a
    bearer token, firing tagged `rotating_light` and at high priority; Gotify's endpoint is its `/message`, the
    token its app token, firing at priority 8 (high) and clearing at 3 (moderate)."""
    url = urlsplit(action.webhook)
    secure = "s" if url.scheme == "https" else ""
    host = url.netloc
    token = quote(action.token.reveal(), safe="") if action.token is not None else ""
    firing = status == "firing"
    if action.format == "ntfy":
        base, _, topic = url.path.rstrip("/").rpartition("/")
        query = {
            "tags": "rotating_light" if firing else "white_check_mark",
            "priority": "high" if firing else "default",
        }
        if token:
            query["token"] = token
        return f"ntfy{secure}://{host}{base}/{topic}?{urlencode(query)}"
    base = url.path.rstrip("/").removesuffix("/message")
    priority = "high" if firing else "moderate"
    return f"gotify{secure}://{host}{base}/{token}?priority={priority}"


async def _deliver(url: str, title: str, text: str, status: str, allowed: timedelta) -> None:
    """Deliver through Apprise, imported on first use (a sixth of a second of imports a hub without it skips).
    Apprise runs its blocking senders in its own threads; callers name the URL only by its scheme."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ActionFailed(f"Apprise knows no service {url.partition('://')[0]}:// (or its URL is incomplete)")
    kind = apprise.NotifyType.FAILURE if status == "firing" else apprise.NotifyType.SUCCESS
    try:
        async with asyncio.timeout(allowed.total_seconds()):
            delivered = await notifier.async_notify(body=text, title=title, notify_type=kind)
    except TimeoutError as err:
        raise ActionFailed(f"no answer within {allowed.total_seconds():g}s") from err
    if not delivered:
        raise ActionFailed("Apprise could not deliver it (its log says why)")


async def _apprise(action: AppriseAction, fields: Mapping[str, Any], message: str) -> None:
    text = render(action.message, fields) if action.message is not None else message
    await _deliver(action.apprise.reveal(), render(action.title, fields), text, fields["status"], action.timeout)


def _scheme(action: AppriseAction) -> str:
    return action.apprise.reveal().partition("://")[0]


def _label(action: Action) -> str:
    if isinstance(action, WebhookAction):
        return f"{action.format} webhook"
    if isinstance(action, AppriseAction):
        return f"Apprise {_scheme(action)}://"
    if isinstance(action, MqttAction):
        return f"MQTT publish to {action.mqtt}"
    return f"service {action.service}"
