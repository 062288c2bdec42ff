"""`alerts:`: threshold and state rules, their timing, and what they do when they fire and clear."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from ..validation import Duration, Secret, Slug, StrictModel, url_with_scheme

__all__ = [
    "TEMPLATE_FIELDS",
    "AlertRule",
    "AppriseAction",
    "MqttAction",
    "ServiceAction",
    "WebhookAction",
]

TEMPLATE_FIELDS = frozenset(
    {"alert", "status", "entity_id", "friendly_name", "state", "unit", "threshold", "node", "since"}
)
"""The names a message template may use, as `{state}`; nothing else is ever evaluated."""

_FIELD = re.compile(r"\{([^{}]*)\}")


def _check_template(text: str) -> str:
    for name in _FIELD.findall(text):
        if name not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown template field {{{name}}}; known: {', '.join(sorted(TEMPLATE_FIELDS))}")
    return text


Template = Annotated[str, AfterValidator(_check_template)]
HttpUrl = Annotated[str, url_with_scheme("http", "https")]


class WebhookAction(StrictModel):
    """An HTTP notification: a generic JSON body, or the ready formats of ntfy and Gotify."""

    webhook: HttpUrl
    format: Literal["json", "ntfy", "gotify"] = "json"
    token: Secret | None = None
    title: Template = "{alert} {status}"
    message: Template | None = None
    timeout: Duration = timedelta(seconds=10)


def _apprise_url(url: Secret) -> Secret:
    scheme, separator, rest = url.reveal().partition("://")
    if not separator or not rest or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        raise ValueError("expected an Apprise URL such as ntfys://ntfy.sh/topic or tgram://bottoken/chat_id")
    return url


class AppriseAction(StrictModel):
    """A notification through Apprise: one URL in its syntax reaches ntfy, Gotify, Telegram, Discord, Matrix,
    Pushover, email and about a hundred more. The URL holds credentials: give it with `!secret`."""

    apprise: Annotated[Secret, AfterValidator(_apprise_url)]
    title: Template = "{alert} {status}"
    message: Template | None = None
    timeout: Duration = timedelta(seconds=30)


class MqttAction(StrictModel):
    """A message published through the hub's MQTT connection (service `mqtt.publish`)."""

    mqtt: str
    payload: Template | None = None
    retain: bool = False
    qos: Literal[0, 1, 2] = 0


class ServiceAction(StrictModel):
    """A service call, such as `docker.restart`; string values in `data` are templates."""

    service: Annotated[str, Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")]
    data: dict[str, Template | int | float | bool] = {}


def _action_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        present = [tag for key, tag in _ACTION_TAGS.items() if key in value]
        return present[0] if len(present) == 1 else None
    known = WebhookAction | MqttAction | ServiceAction | AppriseAction
    return type(value).__name__ if isinstance(value, known) else None


# Tags are capitalised so that error locations skip them like pydantic's own union labels.
_ACTION_TAGS = {
    "webhook": "WebhookAction",
    "mqtt": "MqttAction",
    "service": "ServiceAction",
    "apprise": "AppriseAction",
}

Action = Annotated[
    Annotated[WebhookAction, Tag("WebhookAction")]
    | Annotated[MqttAction, Tag("MqttAction")]
    | Annotated[ServiceAction, Tag("ServiceAction")]
    | Annotated[AppriseAction, Tag("AppriseAction")],
    Discriminator(
        _action_kind,
        custom_error_type="action_kind",
        custom_error_message="expected exactly one of webhook, mqtt, service or apprise",
    ),
]


class AlertRule(StrictModel):
    """One rule: which entities, exactly one trigger, its timing, and the actions on fire and on clear."""

    name: Slug
    entity_id: str | list[str]
    above: float | None = None
    below: float | None = None
    clear_below: float | None = None
    clear_above: float | None = None
    state: str | None = None
    not_state: str | None = None
    unavailable: bool = False
    no_update_for: Duration | None = None
    for_: Duration | None = Field(default=None, alias="for")
    repeat: Duration | None = None
    message: Template = "{friendly_name} is {state}{unit}"
    on_fire: list[Action] = []
    on_clear: list[Action] = []

    @model_validator(mode="after")
    def _one_trigger(self) -> AlertRule:
        numeric = self.above is not None or self.below is not None
        kinds = [numeric, self.state is not None, self.not_state is not None, self.unavailable]
        kinds.append(self.no_update_for is not None)
        if sum(kinds) != 1:
            raise ValueError("give exactly one trigger: above/below, state, not_state, unavailable or no_update_for")
        if self.clear_below is not None and self.above is None:
            raise ValueError("clear_below goes with above")
        if self.clear_above is not None and self.below is None:
            raise ValueError("clear_above goes with below")
        if self.above is not None and self.clear_below is not None and self.clear_below > self.above:
            raise ValueError("clear_below must not be above the threshold")
        if self.below is not None and self.clear_above is not None and self.clear_above < self.below:
            raise ValueError("clear_above must not be below the threshold")
        return self

    @property
    def patterns(self) -> tuple[str, ...]:
        return (self.entity_id,) if isinstance(self.entity_id, str) else tuple(self.entity_id)
