"""Home Assistant discovery messages read back into `Remote` entities (abbreviations, `~`, templates)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from hub.core import DeviceInfo, EntityDetails, HubError, slugify

from .entities import Availability, AvailabilityMode, Remote

__all__ = ["DiscoveryTopic", "Unusable", "json_value", "parse_config", "parse_topic"]

PLATFORMS: frozenset[str] = frozenset({"sensor", "binary_sensor", "switch", "button"})
# HA's discovery topic rule (ha-protocols.md 3.1); other characters make HA ignore the message too.
_TOPIC = re.compile(r"^(?P<component>\w+)/(?:(?P<node>[a-zA-Z0-9_-]+)/)?(?P<object>[a-zA-Z0-9_-]+)/config$")
_JSON_TEMPLATE = re.compile(r"^\{\{\s*value_json((?:\.\w+|\[\s*(?:\d+|'[^']*'|\"[^\"]*\")\s*\])+)\s*\}\}$")
_PATH_PART = re.compile(r"\.(\w+)|\[\s*(\d+|'[^']*'|\"[^\"]*\")\s*\]")

_ABBREVIATIONS = {
    "uniq_id": "unique_id",
    "obj_id": "object_id",
    "stat_t": "state_topic",
    "cmd_t": "command_topic",
    "avty_t": "availability_topic",
    "avty": "availability",
    "json_attr_t": "json_attributes_topic",
    "unit_of_meas": "unit_of_measurement",
    "dev_cla": "device_class",
    "stat_cla": "state_class",
    "ent_cat": "entity_category",
    "avty_mode": "availability_mode",
    "val_tpl": "value_template",
    "pl_on": "payload_on",
    "pl_off": "payload_off",
    "stat_on": "state_on",
    "stat_off": "state_off",
    "pl_prs": "payload_press",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "dev": "device",
    "ic": "icon",
    "p": "platform",
    "t": "topic",
    "o": "origin",
    "cmps": "components",
}
_DEVICE_ABBREVIATIONS = {
    "ids": "identifiers",
    "mf": "manufacturer",
    "mdl": "model",
    "sw": "sw_version",
    "cu": "configuration_url",
}


class Unusable(HubError, ValueError):
    """A message that cannot be used, and why (logged by the ingest, at most once a minute per topic)."""


def json_value(payload: bytes) -> Any:
    """JSON as Home Assistant reads it (orjson: UTF-8 only, no NaN or Infinity, at most 1,024 levels deep)."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise Unusable(f"not JSON ({err})") from err


@dataclass(frozen=True, slots=True)
class DiscoveryTopic:
    """Where a discovery message came from: component, node id (may be empty) and object id."""

    component: str
    node: str
    object_id: str


def parse_topic(prefix: str, topic: str) -> DiscoveryTopic | None:
    if not topic.startswith(prefix + "/"):
        return None
    match = _TOPIC.match(topic[len(prefix) + 1 :])
    if match is None:
        return None
    return DiscoveryTopic(match["component"], match["node"] or "", match["object"])


def _expand(data: Mapping[str, Any], table: Mapping[str, str]) -> dict[str, Any]:
    return {table.get(key, key): value for key, value in data.items()}


def _with_base(data: dict[str, Any]) -> dict[str, Any]:
    """HA's `~`: a leading or trailing `~` in any `*topic` value is the base topic."""
    base = data.get("~")
    if not isinstance(base, str):
        return data
    for key, value in data.items():
        if key.endswith("topic") and isinstance(value, str):
            if value.startswith("~"):
                data[key] = base + value[1:]
            elif value.endswith("~"):
                data[key] = value[:-1] + base
    return data


def parse_config(where: DiscoveryTopic, payload: bytes) -> Iterator[Remote]:
    """The entities a discovery message describes that we support; `Unusable` if it is not a JSON object."""
    raw = json_value(payload)
    if not isinstance(raw, dict):
        raise Unusable(f"expected a JSON object, got {type(raw).__name__}")
    data = _with_base(_expand(raw, _ABBREVIATIONS))
    if where.component == "device":
        components = data.get("components")
        if not isinstance(components, dict):
            return
        shared = {k: v for k, v in data.items() if k != "components"}
        for component_id, options in components.items():
            if isinstance(options, dict):
                merged = {**shared, **_with_base(_expand(options, _ABBREVIATIONS))}
                platform = merged.get("platform")
                if isinstance(platform, str):
                    yield from _remote(
                        DiscoveryTopic(platform, where.node, f"{where.object_id}_{component_id}"), merged
                    )
        return
    yield from _remote(where, data)


def _remote(where: DiscoveryTopic, data: Mapping[str, Any]) -> Iterator[Remote]:
    platform = where.component
    if platform not in PLATFORMS:
        return
    state_topic = _string(data.get("state_topic"))
    command_topic = _string(data.get("command_topic"))
    if platform in ("sensor", "binary_sensor") and state_topic is None:
        return
    if platform in ("switch", "button") and command_topic is None:
        return
    device = _device(data.get("device"), where)
    node = where.node or "mqtt"
    details = EntityDetails(
        object_id=_object_id(platform, data, where),
        node=node,
        name=_string(data.get("name")) or device.name,
        unit=_string(data.get("unit_of_measurement")),
        device_class=_string(data.get("device_class")),
        state_class=_string(data.get("state_class")) if platform == "sensor" else None,
        icon=_string(data.get("icon")),
        entity_category=_category(data.get("entity_category")),
    )
    payload_on = _string(data.get("payload_on")) or "ON"
    payload_off = _string(data.get("payload_off")) or "OFF"
    yield Remote(
        instance=f"{platform}/{where.node}/{where.object_id}" if where.node else f"{platform}/{where.object_id}",
        platform=platform,  # type: ignore[arg-type]  # checked against PLATFORMS above
        state_topic=state_topic,
        details=details,
        device=device,
        json_path=_json_path(data.get("value_template")),
        payload_on=_string(data.get("state_on")) or payload_on,
        payload_off=_string(data.get("state_off")) or payload_off,
        command_topic=command_topic,
        commands=_commands(platform, data, payload_on, payload_off),
        availability=_availability(data),
        availability_mode=_availability_mode(data.get("availability_mode")),
        attributes_topic=_string(data.get("json_attributes_topic")),
    )


def _commands(platform: str, data: Mapping[str, Any], payload_on: str, payload_off: str) -> dict[str, str]:
    if platform == "switch":
        return {"ON": payload_on, "OFF": payload_off}
    if platform == "button":
        return {"PRESS": _string(data.get("payload_press")) or "PRESS"}
    return {}


def _object_id(platform: str, data: Mapping[str, Any], where: DiscoveryTopic) -> str:
    """`default_entity_id` (HA 2025.10+), else `object_id`, else node and object id of the topic."""
    default = _string(data.get("default_entity_id"))
    if default is not None and default.startswith(f"{platform}."):
        return slugify(default.partition(".")[2])
    object_id = _string(data.get("object_id"))
    if object_id is not None:
        return slugify(object_id)
    return slugify(f"{where.node}_{where.object_id}" if where.node else where.object_id)


def _device(raw: Any, where: DiscoveryTopic) -> DeviceInfo:
    data = _expand(raw, _DEVICE_ABBREVIATIONS) if isinstance(raw, dict) else {}
    identifiers = data.get("identifiers")
    if isinstance(identifiers, list) and identifiers:
        identifiers = identifiers[0]
    identifier = str(identifiers) if isinstance(identifiers, str | int) else f"{where.node}_{where.object_id}"
    return DeviceInfo(
        identifier=identifier,
        name=_string(data.get("name")) or identifier,
        manufacturer=_string(data.get("manufacturer")),
        model=_string(data.get("model")),
        sw_version=_string(data.get("sw_version")),
        via_device=_string(data.get("via_device")),
        configuration_url=_string(data.get("configuration_url")),
    )


def _availability(data: Mapping[str, Any]) -> tuple[Availability, ...]:
    """The `availability_topic`, or each topic of an `availability` list with its own payloads (HA's defaults
    are the message's own `payload_available` and `payload_not_available`, then `online` and `offline`)."""
    available = _string(data.get("payload_available")) or "online"
    not_available = _string(data.get("payload_not_available")) or "offline"
    topic = _string(data.get("availability_topic"))
    if topic is not None:
        return (Availability(topic, available, not_available),)
    items = data.get("availability")
    found: list[Availability] = []
    for item in items if isinstance(items, list) else ():
        options = _expand(item, _ABBREVIATIONS) if isinstance(item, dict) else {}
        item_topic = _string(options.get("topic"))
        if item_topic is not None:
            found.append(
                Availability(
                    item_topic,
                    _string(options.get("payload_available")) or available,
                    _string(options.get("payload_not_available")) or not_available,
                )
            )
    return tuple(found)


def _availability_mode(value: Any) -> AvailabilityMode:
    return value if value in ("all", "any") else "latest"


def _json_path(template: Any) -> tuple[str, ...]:
    """`{{ value_json.a.b[0] }}` -> ("a", "b", "0"); other templates are not evaluated (the raw payload is used)."""
    if not isinstance(template, str):
        return ()
    match = _JSON_TEMPLATE.match(template.strip())
    if match is None:
        return ()
    return tuple((name or index).strip("'\"") for name, index in _PATH_PART.findall(match[1]))


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _category(value: Any) -> Any:
    return value if value in ("diagnostic", "config") else None
