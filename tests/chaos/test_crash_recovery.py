"""SIGKILL and SIGTERM of a real `homelab-hub run` while it records 2,000 changes/s: what survives, what returns."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from tests.chaos.chaostools import Change, HubProcess, LoadDriver, unexpected_errors
from tests.fixtures.process import ServerProcess

RATE = 2000
COMMIT_INTERVAL = 1.0
"""The recorder's default `commit_interval`: a crash may lose what arrived within the last one."""
_SLACK = 0.5
"""Scheduling slack on a loaded two-core machine, added to the commit interval."""


class Availability:
    """Every payload on the hub's MQTT availability topic, in order (a subscriber of its own)."""

    def __init__(self, port: int) -> None:
        self.payloads: list[str] = []
        self._changed = threading.Condition()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="chaos-availability")
        self._client.on_message = self._on_message
        self._client.on_connect = lambda client, *_: client.subscribe("homelab/chaos/availability", qos=1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _on_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        with self._changed:
            self.payloads.append(message.payload.decode())
            self._changed.notify_all()

    def wait_for(self, payload: str, after: int = 0, timeout: float = 15.0) -> int:
        """Index of the first `payload` at or after position `after`."""
        with self._changed:
            found = self._changed.wait_for(lambda: payload in self.payloads[after:], timeout)
            assert found, f"no {payload!r} on the availability topic after #{after}: {self.payloads}"
            return self.payloads.index(payload, after)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def availability(mosquitto: ServerProcess) -> Iterator[Availability]:
    subscriber = Availability(mosquitto.port)
    yield subscriber
    subscriber.close()


@pytest.fixture
def hub(tmp_path: Path, mosquitto: ServerProcess) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path, hub_extra=f"  mqtt:\n    port: {mosquitto.port}\n    base_topic: homelab\n")
    process.start()
    yield process
    process.kill()


def _recorded(hub: HubProcess) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Every (entity_id, state) of the load entities in the database, and each one's last state."""
    with sqlite3.connect(hub.root / "data" / "hub.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT m.entity_id, s.state FROM states s JOIN states_meta m ON m.metadata_id = s.metadata_id "
            "WHERE m.entity_id LIKE 'sensor.chaos_load_%' ORDER BY s.state_id"
        ).fetchall()
    return set(rows), dict(rows)


def _missing(accepted: list[Change], recorded: set[tuple[str, str]]) -> list[Change]:
    return [change for change in accepted if (change.entity_id, change.state) not in recorded]


def test_sigkill_loses_at_most_the_last_commit_interval(hub: HubProcess, availability: Availability) -> None:
    online = availability.wait_for("online")
    with LoadDriver(hub, RATE) as load:
        time.sleep(3.0)
        killed_at = time.monotonic()
        hub.stop(signal.SIGKILL)
    reached = len(load.accepted) / (killed_at - load.started_at)
    assert reached > 0.5 * RATE, f"the load reached only {reached:.0f} changes/s"
    offline = availability.wait_for("offline", after=online)  # the broker's Last Will

    recorded, last_recorded = _recorded(hub)
    missing = _missing(load.accepted, recorded)
    too_old = [change for change in missing if change.accepted_at < killed_at - COMMIT_INTERVAL - _SLACK]
    assert not too_old, f"{len(too_old)} changes older than the commit interval lost, e.g. {too_old[:3]}"
    print(f"SIGKILL at {len(load.accepted)} accepted changes ({reached:.0f}/s): {len(missing)} lost")

    hub.start()
    availability.wait_for("online", after=offline)
    for entity_id, state in last_recorded.items():
        restored = hub.state(entity_id)
        assert restored is not None, entity_id
        assert restored["state"] == state, (entity_id, restored, state)
    assert not unexpected_errors(hub.log()), "\n".join(unexpected_errors(hub.log()))


def test_sigterm_writes_every_accepted_change(hub: HubProcess, availability: Availability) -> None:
    online = availability.wait_for("online")
    with LoadDriver(hub, RATE) as load:
        time.sleep(2.0)
        assert hub.stop(signal.SIGTERM) == 0
    availability.wait_for("offline", after=online)
    recorded, last_recorded = _recorded(hub)
    missing = _missing(load.accepted, recorded)
    assert not missing, f"{len(missing)} of {len(load.accepted)} accepted changes not written, e.g. {missing[:3]}"
    assert last_recorded == load.last_states()
    print(f"SIGTERM at {len(load.accepted)} accepted changes ({load.rate:.0f}/s): all written")
    assert not unexpected_errors(hub.log()), "\n".join(unexpected_errors(hub.log()))
