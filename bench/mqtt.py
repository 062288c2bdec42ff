"""MQTT throughput: state changes the sink pushes through Mosquitto to `mosquitto_sub` with none lost (QoS 0 and 1),
beside `mosquitto_pub` and raw paho; ingest msg/s and hub CPU µs per message (fed by a raw-socket flood); a
200 x 50 fleet every 10 s held by one central hub (CPU).

Run: .venv/bin/python bench/mqtt.py [--entities 20000] [--fleet-rounds 3] [--ingest-rounds 3] [--only ingest]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from hub.config import IntegrationEntry, load_config
from hub.config.models import MqttConfig
from hub.core import EVENT_STATE_CHANGED, Core, DeviceInfo, Event, RegistryEntry
from hub.health import HealthRegistry
from hub.host import IntegrationHost
from hub.sinks.mqtt import mqtt_sink
from hub.sinks.mqtt.client import publish_packet
from integrations.mqtt import MqttIngest

DEVICE = DeviceInfo(identifier="bench", name="Bench")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def broker() -> Iterator[int]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "m.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n")
        process = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)
        try:
            yield port
        finally:
            process.kill()
            process.wait()


def subscriber(port: int, topic: str, count: int, qos: int) -> subprocess.Popen[bytes]:
    """A fast `mosquitto_sub` that exits after `count` messages."""
    process = subprocess.Popen(
        ["mosquitto_sub", "-p", str(port), "-t", topic, "-q", str(qos), "-C", str(count), "-i", f"sub{time.time()}"],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    return process


async def _wait_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            return False
        await asyncio.sleep(0.002)
    return True


def _register(core: Core, count: int) -> list[str]:
    ids = []
    for index in range(count):
        entity_id = f"sensor.bench_e{index}"
        core.entities.add(
            RegistryEntry(
                entity_id=entity_id,
                unique_id=f"bench_{index}",
                platform="sensor",
                name=f"E{index}",
                node="bench",
                integration="bench",
                device=DEVICE,
            )
        )
        core.states.set(entity_id, "0", {"friendly_name": f"Bench E{index}"})
        ids.append(entity_id)
    return ids


async def hub_publish(port: int, entities: int, qos: int) -> float:
    """Changes/s from `states.set` to the last one received by `mosquitto_sub`; each entity changes once."""
    core = Core("bench")
    ids = _register(core, entities)
    config = MqttConfig(port=port, discovery=False, qos={"states": qos})
    sub = subscriber(port, "homelab/bench/+/state", entities * 2, qos)
    async with mqtt_sink(core, config, HealthRegistry().create("mqtt", "sink"), version="bench") as bridge:
        while bridge.published < entities * 2:  # initial states and attributes
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        start = time.perf_counter()
        attributes = core.states.get(ids[0]).attributes  # type: ignore[union-attr]
        for index, entity_id in enumerate(ids):
            core.states.set(entity_id, "1", attributes)
            if index % 1000 == 999:
                await asyncio.sleep(0)  # an integration's burst, then the loop turns
        complete = await _wait_exit(sub, 60)
        elapsed = time.perf_counter() - start
    return entities / elapsed if complete else 0.0


def peer_mosquitto_pub(port: int, count: int) -> float:
    sub = subscriber(port, "peer/+", count, 0)
    lines = b"".join(b"%d\n" % i for i in range(count))
    start = time.perf_counter()
    subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "peer/x", "-l"], input=lines, check=True)
    sub.wait(60)
    return count / (time.perf_counter() - start)


def peer_paho(port: int, count: int) -> float:
    sub = subscriber(port, "paho/+", count, 0)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="paho-bench")
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    for index in range(count):
        client.publish("paho/x", str(index), 0)
    sub.wait(60)
    elapsed = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    return count / elapsed


def _discovery_configs(nodes: int, per_node: int) -> list[tuple[str, str]]:
    configs = []
    for node in range(nodes):
        for index in range(per_node):
            payload = {
                "name": f"E{index}",
                "unique_id": f"n{node}_e{index}",
                "object_id": f"n{node}_e{index}",
                "state_topic": f"homelab/n{node}/n{node}_e{index}/state",
                "availability_topic": f"homelab/n{node}/availability",
                "device": {"identifiers": [f"n{node}"], "name": f"N{node}"},
            }
            configs.append((f"homeassistant/sensor/n{node}/n{node}_e{index}/config", json.dumps(payload)))
        configs.append((f"homelab/n{node}/availability", "online"))
    return configs


def _publish_all(port: int, messages: list[tuple[str, str]], retain: bool) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"feeder{time.time()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, 1, retain) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(30)
    client.loop_stop()
    client.disconnect()


_FEEDER = """
import sys, time, paho.mqtt.client as paho
port, nodes, per_node, rounds, period = map(float, sys.argv[1:])
c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="fleet-feeder")
c.connect("127.0.0.1", int(port))
c.loop_start()
print("ready", flush=True)
sys.stdin.readline()  # the clock starts at "go", not at this interpreter's start-up
for r in range(int(rounds)):
    for n in range(int(nodes)):
        for e in range(int(per_node)):
            c.publish(f"homelab/n{n}/n{n}_e{e}/state", str(r + 1), 0)
        if period:
            time.sleep(period / nodes)  # nodes spread over the period, as spread timers do
c.loop_stop()
"""


async def _feeder(port: int, nodes: int, per_node: int, rounds: int, period: int) -> asyncio.subprocess.Process:
    """A paho publisher process, connected and waiting for a line on its stdin to start."""
    command = [sys.executable, "-c", _FEEDER, *map(str, (port, nodes, per_node, rounds, period))]
    process = await asyncio.create_subprocess_exec(*command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    await process.stdout.readline()
    return process


_FLOODER = """
import socket, sys
port, blob = int(sys.argv[1]), open(sys.argv[2], "rb").read()
sock = socket.create_connection(("127.0.0.1", port))
sock.sendall(bytes((0x10, 17, 0, 4)) + b"MQTT" + bytes((4, 2, 0, 60, 0, 5)) + b"flood")  # CONNECT, clean session
assert sock.recv(4) == bytes((0x20, 2, 0, 0)), "CONNACK refused"
print("ready", flush=True)
sys.stdin.readline()
sock.sendall(blob)
sock.sendall(bytes((0xE0, 0)))  # DISCONNECT: the broker has read every PUBLISH before it
sock.close()
"""


def _flood_packets(nodes: int, per_node: int, rounds: int) -> bytes:
    """`rounds` state messages per entity, each a new value, as QoS 0 PUBLISH packets encoded beforehand."""
    return b"".join(
        publish_packet(f"homelab/n{node}/n{node}_e{index}/state", str(round_ + 1), False)
        for round_ in range(rounds)
        for node in range(nodes)
        for index in range(per_node)
    )


async def _flooder(port: int, packets: Path) -> asyncio.subprocess.Process:
    """A process writing pre-encoded packets to a raw socket when told over its stdin: a publisher far faster
    than the hub reads (paho from Python sends about 20k msg/s, close to what is measured)."""
    command = [sys.executable, "-c", _FLOODER, str(port), str(packets)]
    process = await asyncio.create_subprocess_exec(*command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    await process.stdout.readline()
    return process


def _ingest_entry(port: int) -> IntegrationEntry:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hub.yaml").write_text(
            f"hub: {{name: central}}\nintegrations:\n  - {{platform: mqtt, port: {port}, discovery: true}}\n"
        )
        return load_config(Path(tmp), {"mqtt": MqttIngest}).integrations[0]


async def ingest(port: int, nodes: int, per_node: int, rounds: int, fleet_rounds: int) -> dict[str, float]:
    """Ingest msg/s and hub CPU µs per message; central hub CPU % of one core for the fleet every 10 s."""
    entry = _ingest_entry(port)
    total = nodes * per_node
    await asyncio.to_thread(_publish_all, port, _discovery_configs(nodes, per_node), True)
    core = Core("central")
    final, done = str(rounds), [0]
    flooded = asyncio.Event()

    def count(event: Event[Mapping[str, Any]]) -> None:
        new_state = event.data["new_state"]
        if new_state is not None and new_state.state == final:
            done[0] += 1
            if done[0] == total:
                flooded.set()

    core.bus.listen(EVENT_STATE_CHANGED, count)
    health = HealthRegistry().create("mqtt", "integration")
    host = IntegrationHost(core, entry, MqttIngest, health, offset=0.0, host_device=DEVICE)
    with tempfile.TemporaryDirectory() as tmp:
        packets = Path(tmp, "packets")
        await asyncio.to_thread(packets.write_bytes, _flood_packets(nodes, per_node, rounds))
        async with host.lifespan():
            while len(core.entities) < total:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            # Every entity changes `rounds` times, sent at once; timed until every entity holds its last value.
            # Values of one entity within one batch are reported as the latest only, as the ingest does.
            flooder = await _flooder(port, packets)
            cpu_before, start = _cpu(), time.perf_counter()
            assert flooder.stdin is not None
            flooder.stdin.write(b"go\n")
            await asyncio.wait_for(flooded.wait(), 120)
            elapsed, cpu = time.perf_counter() - start, _cpu() - cpu_before
            await flooder.wait()
            cpu_before, wall_before = _cpu(), time.perf_counter()
            process = await _feeder(port, nodes, per_node, fleet_rounds, 10)
            process.stdin.write(b"go\n")  # type: ignore[union-attr]
            await process.wait()
            await asyncio.sleep(0.5)
            fleet = (_cpu() - cpu_before) / (time.perf_counter() - wall_before) * 100
    return {
        "ingest_msg_per_s": round(total * rounds / elapsed),
        "ingest_cpu_us_per_msg": round(cpu / (total * rounds) * 1e6, 1),
        "fleet_200x50_every_10s_cpu_percent": round(fleet, 1),
    }


async def _publish_figures(entities: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with broker() as port:
        figures["hub_qos0_changes_per_s"] = round(await hub_publish(port, entities, 0))
    with broker() as port:
        figures["hub_qos1_changes_per_s"] = round(await hub_publish(port, entities, 1))
    with broker() as port:
        figures["mosquitto_pub_msg_per_s"] = round(await asyncio.to_thread(peer_mosquitto_pub, port, entities))
    with broker() as port:
        figures["paho_msg_per_s"] = round(await asyncio.to_thread(peer_paho, port, entities))
    return figures


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--fleet-rounds", type=int, default=3)
    parser.add_argument("--ingest-rounds", type=int, default=3, help="state messages per entity in the ingest")
    parser.add_argument("--only", choices=["ingest"], help="run only the ingest and fleet figures")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    figures: dict[str, float] = {}
    if args.only is None:
        figures |= await _publish_figures(args.entities)
    with broker() as port:
        figures |= await ingest(port, 200, 50, args.ingest_rounds, args.fleet_rounds)
    figures |= {"target_publish_per_s": 15_000, "target_ingest_per_s": 10_000, "target_fleet_cpu_percent": 25}
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
