"""What the MQTT staleness design costs the broker: a fleet of real MQTT sinks (one per node, each its own
connection) publishing to Mosquitto, counted by a subscriber on every topic.

Three phases: the fleet's start (discovery, states, availability), the steady state (every node polls every
`--interval` seconds and `--changing` of its entities change each poll; the rest hold still, as boot time and disk
sizes do), and Home Assistant's birth message (every node re-publishes everything). Beside the measured steady
state it prints what re-publishing every unchanged state once per interval would have cost (the other way to keep
values live under `expire_after`), from the same message sizes.

Run: .venv/bin/python -m bench.mqtt_traffic [--nodes 200] [--entities 50] [--changing 30] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
from contextlib import AsyncExitStack
from typing import Any

import paho.mqtt.client as paho

from bench.mqtt import broker
from hub.config.models import MqttConfig
from hub.core import Core, DeviceInfo, RegistryEntry
from hub.health import HealthRegistry
from hub.sinks.mqtt import mqtt_sink


class Counter:
    """A paho subscriber on `#` in its own thread: messages and bytes (topic + payload) received."""

    def __init__(self, port: int) -> None:
        self.messages = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="traffic-counter")
        self._client.on_message = self._count
        self._client.connect("127.0.0.1", port)
        self._client.subscribe("#", qos=0)
        self._client.loop_start()

    def _count(self, _client: Any, _userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages += 1
            self.bytes += len(message.topic) + len(message.payload)

    def read(self) -> tuple[int, int]:
        with self._lock:
            return self.messages, self.bytes

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _node(index: int, entities: int) -> Core:
    core = Core(f"n{index}")
    device = DeviceInfo(identifier=core.node, name=core.node, manufacturer="homelab-hub", model="bench")
    for key in range(entities):
        entity_id = f"sensor.{core.node}_e{key}"
        core.entities.add(
            RegistryEntry(
                entity_id=entity_id,
                unique_id=f"{core.node}_e{key}",
                platform="sensor",
                name=f"E{key}",
                node=core.node,
                integration="bench",
                device=device,
                unit="%",
                state_class="measurement",
            )
        )
        core.states.set(entity_id, "0.0", {"friendly_name": f"{core.node} E{key}"})
    return core


async def _settle(counter: Counter, quiet: float = 1.0) -> tuple[int, int]:
    """Wait until no message arrived for `quiet` seconds; the counts then."""
    last = counter.read()
    while True:
        await asyncio.sleep(quiet)
        now = counter.read()
        if now == last:
            return now
        last = now


async def _poll(cores: list[Core], changing: int, interval: float, seconds: float) -> None:
    """Each node changes `changing` entities once per interval, at its own offset within it."""
    started = time.monotonic()
    rounds = 0
    while time.monotonic() - started < seconds:
        for index, core in enumerate(cores):
            due = started + rounds * interval + interval * index / len(cores)
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            for key in range(changing):
                entity_id = f"sensor.{core.node}_e{key}"
                state = core.states.get(entity_id)
                assert state is not None
                core.states.set(entity_id, f"{random.uniform(0, 100):.1f}", state.attributes)
        rounds += 1


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--entities", type=int, default=50)
    parser.add_argument("--changing", type=int, default=30, help="entities of a node that change on each poll")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the steady-state phase")
    args = parser.parse_args()
    with broker() as port:
        counter = Counter(port)
        cores = [_node(index, args.entities) for index in range(args.nodes)]
        health = HealthRegistry()
        async with AsyncExitStack() as stack:
            started = time.monotonic()
            for core in cores:
                config = MqttConfig(port=port, client_id=f"hub-{core.node}", birth_delay="5s")
                await stack.enter_async_context(
                    mqtt_sink(core, config, health.create(f"mqtt-{core.node}", "sink"), version="bench")
                )
            start_messages, start_bytes = await _settle(counter)
            start_seconds = time.monotonic() - started - 1.0

            before = counter.read()
            steady_started = time.monotonic()
            await _poll(cores, args.changing, args.interval, args.seconds)
            steady_seconds = time.monotonic() - steady_started
            after = counter.read()
            steady_messages = (after[0] - before[0]) / steady_seconds
            steady_bytes = (after[1] - before[1]) / steady_seconds

            await _settle(counter)
            before = counter.read()
            birth = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="ha")
            birth.connect("127.0.0.1", port)
            birth.publish("homeassistant/status", "online").wait_for_publish(5)
            birth.disconnect()
            after = await _settle(counter)
        counter.close()
    state_bytes = steady_bytes / steady_messages if steady_messages else 0.0
    unchanged_per_s = args.nodes * (args.entities - args.changing) / args.interval
    figures = {
        "nodes": args.nodes,
        "entities_per_node": args.entities,
        "changing_per_poll": args.changing,
        "interval_s": args.interval,
        "start_messages": start_messages,
        "start_bytes": start_bytes,
        "start_seconds": round(start_seconds, 1),
        "steady_messages_per_s": round(steady_messages, 1),
        "steady_bytes_per_s": round(steady_bytes),
        "birth_messages": after[0] - before[0],
        "birth_bytes": after[1] - before[1],
        "republish_unchanged_would_add_messages_per_s": round(unchanged_per_s, 1),
        "republish_unchanged_would_add_bytes_per_s": round(unchanged_per_s * state_bytes),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
