"""The hub judged by a real Home Assistant 2024.3.3 over MQTT discovery: what HA shows, and what HA logs.

The tests run in order against one broker, one HA and one hub process (conftest.py); each prints what it
measured, and each fails on any warning or error HA logged (its own environment's aside).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from typing import Any

import pytest

from tests.compat.conftest import NODE, POLL_INTERVAL, HubNode
from tests.compat.homeassistant import HomeAssistant
from tests.fixtures.dockerd import DockerDaemon
from tests.fixtures.eventually import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

CONTAINER = "web"
DEAD = frozenset({"unavailable", "unknown"})


def _say(text: str) -> None:
    print(text, file=sys.stderr)


async def _until(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> float:
    """Seconds until `check()` holds (waited for by `eventually`), for the figures the tests print."""
    started = time.monotonic()
    await eventually(check, timeout, what)
    return time.monotonic() - started


async def _hub_entities(hub: HubNode) -> dict[str, dict[str, Any]]:
    return {entry["entity_id"]: entry for entry in await hub.ws("config/entity_registry/list")}


async def _ha_states_of(ha: HomeAssistant, entity_ids: set[str]) -> dict[str, dict[str, Any]]:
    states = await ha.states()
    return {entity_id: states[entity_id] for entity_id in entity_ids if entity_id in states}


def _assert_ha_quiet(ha: HomeAssistant) -> None:
    problems = ha.problems()
    assert not problems, "Home Assistant logged:\n" + "\n".join(problems)


def _dead(states: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {entity_id: state["state"] for entity_id, state in states.items() if state["state"] in DEAD}


class _Left(dict[str, str]):
    """Entities not yet as wanted, with what Home Assistant shows for each: truthy once there are none."""

    def __bool__(self) -> bool:
        return len(self) == 0


async def _all_live(ha: HomeAssistant, entity_ids: set[str]) -> _Left:
    states = await _ha_states_of(ha, entity_ids)
    return _Left({**dict.fromkeys(entity_ids - set(states), "missing"), **_dead(states)})


async def test_every_entity_discovered_with_its_device_unit_and_classes(
    home_assistant: HomeAssistant, hub_node: HubNode
) -> None:
    ha, hub = home_assistant, hub_node
    ours = await _settled_entities(hub)
    took = await _until(lambda: _all_live(ha, set(ours)), 30, "every hub entity live in Home Assistant")
    _say(f"{len(ours)} hub entities discovered and live in Home Assistant {took:.1f} s after the hub's first polls")

    registry = {entry["entity_id"]: entry for entry in await ha.ws("config/entity_registry/list")}
    devices = {device["id"]: device for device in await ha.ws("config/device_registry/list")}
    hub_devices = {device["id"]: device for device in await hub.ws("config/device_registry/list")}
    hub_states = {state["entity_id"]: state for state in await hub.rest("/api/states")}
    ha_states = await _ha_states_of(ha, set(ours))
    mqtt_entities = {entity_id for entity_id, entry in registry.items() if entry["platform"] == "mqtt"}
    assert mqtt_entities == set(ours)
    for entity_id, ours_entry in ours.items():
        entry = registry[entity_id]
        assert entry["unique_id"] == ours_entry["unique_id"]
        device = devices[entry["device_id"]]
        hub_device = hub_devices[ours_entry["device_id"]]
        assert device["identifiers"] == [["mqtt", hub_device["id"]]], entity_id
        for key in ("name", "manufacturer", "model", "sw_version"):
            assert device[key] == hub_device[key], (entity_id, key)
        if hub_device["via_device_id"] is not None:
            assert devices[device["via_device_id"]]["identifiers"] == [["mqtt", hub_device["via_device_id"]]]
        ha_attributes, hub_attributes = ha_states[entity_id]["attributes"], hub_states[entity_id]["attributes"]
        for key in ("unit_of_measurement", "device_class", "state_class", "friendly_name"):
            assert ha_attributes.get(key) == hub_attributes.get(key), (entity_id, key)
        if "unit_of_measurement" in hub_attributes:
            float(ha_states[entity_id]["state"])  # a number, as HA's sensor requires
    _assert_ha_quiet(ha)


async def test_every_entity_still_live_after_ten_poll_intervals(
    home_assistant: HomeAssistant, hub_node: HubNode
) -> None:
    ha, hub = home_assistant, hub_node
    ours = set(await _hub_entities(hub))
    await asyncio.sleep(10 * POLL_INTERVAL + 1)
    states = await _ha_states_of(ha, ours)
    _say(f"Home Assistant's states after {10 * POLL_INTERVAL:.0f} s (10 poll intervals):")
    for entity_id in sorted(states):
        state = states[entity_id]
        _say(f"  {entity_id} = {state['state']} {state['attributes'].get('unit_of_measurement', '')}".rstrip())
    assert set(states) == ours
    assert _dead(states) == {}
    _assert_ha_quiet(ha)


async def test_container_switch_turned_off_from_home_assistant_stops_it(
    home_assistant: HomeAssistant, hub_node: HubNode, dockerd: DockerDaemon, busybox_image: str
) -> None:
    ha = home_assistant
    with closing(dockerd.client()) as client:
        container = await asyncio.to_thread(
            client.containers.run, busybox_image, ["sleep", "600"], name=CONTAINER, network_mode="none", detach=True
        )
        switch = f"switch.{NODE}_docker_{CONTAINER}_running"

        async def switch_is(state: str) -> bool:
            return (await _ha_states_of(ha, {switch})).get(switch, {}).get("state") == state

        await _until(lambda: switch_is("on"), 20, f"{switch} on in Home Assistant")
        started = time.monotonic()
        await ha.rest("POST", "/api/services/switch/turn_off", {"entity_id": switch})

        async def stopped() -> bool:
            await asyncio.to_thread(container.reload)
            return container.status == "exited"

        await _until(stopped, 20, f"container {CONTAINER} stopped")
        await _until(lambda: switch_is("off"), 10, f"{switch} off in Home Assistant")
        took = time.monotonic() - started
        _say(f"switch/turn_off from Home Assistant: container stopped and shown off {took:.1f} s later")
        await asyncio.to_thread(container.remove)

    async def forgotten() -> bool:
        registry = await ha.ws("config/entity_registry/list")
        return not [entry for entry in registry if f"{NODE}_docker_{CONTAINER}_" in entry["entity_id"]]

    took = await _until(forgotten, 20, f"container {CONTAINER}'s entities removed from Home Assistant")
    _say(f"container removed: its entities gone from Home Assistant's registry {took:.1f} s later")
    _assert_ha_quiet(ha)


async def test_home_assistant_restart_rediscovers_everything_live(
    home_assistant: HomeAssistant, hub_node: HubNode
) -> None:
    ha, hub = home_assistant, hub_node
    ours = set(await _settled_entities(hub))
    await ha.stop()
    took_to_start = await ha.start()
    took = await _until(lambda: _all_live(ha, ours), 10, "every hub entity live after Home Assistant's restart")
    _say(
        f"Home Assistant restarted (API up in {took_to_start:.1f} s): all {len(ours)} entities live {took:.1f} s later"
    )
    # The birth message was answered (the retained messages alone would also bring the states back).
    await _until(lambda: _logged(hub, "Home Assistant came online"), 5, "the hub answering HA's birth message")
    _assert_ha_quiet(ha)


async def test_failing_integration_turns_only_its_own_entities_unavailable(
    home_assistant: HomeAssistant, hub_node: HubNode, dockerd: DockerDaemon
) -> None:
    ha, hub = home_assistant, hub_node
    ours = set(await _hub_entities(hub))
    health = f"binary_sensor.{NODE}_docker_health"  # the hub's own, about the integration: it stays live
    docker = {entity_id for entity_id in ours if entity_id.split(".")[1].startswith(f"{NODE}_docker_")} - {health}
    others = ours - docker
    assert docker
    assert others
    await _until(lambda: _all_live(ha, ours), 10, "every hub entity live")
    dockerd.stop()

    async def docker_unavailable() -> _Left:
        return _not_in_state(await _ha_states_of(ha, docker), "unavailable")

    took = await _until(docker_unavailable, 15, "the docker integration's entities unavailable")
    assert _dead(await _ha_states_of(ha, others)) == {}
    _say(f"dockerd stopped: its {len(docker)} entities unavailable in Home Assistant {took:.1f} s later, the rest live")
    dockerd.start()
    took = await _until(lambda: _all_live(ha, docker), 30, "the docker integration's entities live again")
    _say(f"dockerd back: its entities live again {took:.1f} s later")
    _assert_ha_quiet(ha)


async def test_hub_killed_turns_everything_unavailable(home_assistant: HomeAssistant, hub_node: HubNode) -> None:
    ha, hub = home_assistant, hub_node
    ours = set(await _hub_entities(hub))
    await _until(lambda: _all_live(ha, ours), 10, "every hub entity live")
    hub.kill()  # SIGKILL: no goodbye, only the broker's Last Will

    async def all_unavailable() -> _Left:
        return _not_in_state(await _ha_states_of(ha, ours), "unavailable")

    took = await _until(all_unavailable, 5, "every hub entity unavailable after SIGKILL")
    _say(f"hub SIGKILLed: all {len(ours)} entities unavailable in Home Assistant {took:.1f} s later")
    _assert_ha_quiet(ha)


def _not_in_state(states: dict[str, dict[str, Any]], wanted: str) -> _Left:
    return _Left({entity_id: state["state"] for entity_id, state in states.items() if state["state"] != wanted})


async def _settled_entities(hub: HubNode) -> dict[str, dict[str, Any]]:
    """The hub's entities once system_info and docker have reported and the set held still for 3 poll intervals
    (rates appear with the second snapshot)."""
    wanted = {
        f"sensor.{NODE}_docker_images",
        f"sensor.{NODE}_cpu_percent",
        f"sensor.{NODE}_disk_read",
        f"sensor.{NODE}_check_broker_response_time",
    }
    deadline = time.monotonic() + 30
    last: dict[str, dict[str, Any]] = {}
    since = time.monotonic()
    while time.monotonic() < deadline:
        current = await _hub_entities(hub)
        if set(current) != set(last):
            last, since = current, time.monotonic()
        elif wanted <= set(current) and time.monotonic() - since >= 3 * POLL_INTERVAL:
            return current
        await asyncio.sleep(0.2)
    pytest.fail(f"the hub's entities did not settle within 30 s: {sorted(last)}")


async def _logged(hub: HubNode, text: str) -> bool:
    return text in hub.log_path.read_text(errors="replace")
