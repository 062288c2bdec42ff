"""Junk MQTT payloads on the ingest, discovery, status and command topics of a real hub: logged and dropped."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.chaos.chaostools import HubProcess, unexpected_errors
from tests.fixtures.process import ServerProcess

_INTEGRATIONS = """\
  - platform: mqtt
    port: {port}
    discovery: true
    topics:
      - {{topic: lab/temp, name: Temp, key: temp, unit: "°C", state_class: measurement}}
      - {{topic: lab/ups, name: UPS load, key: ups_load, json_path: ups.0.load}}
      - {{topic: lab/door, name: Door, key: door, platform: binary_sensor, payload_on: open, payload_off: closed}}
"""
_DISCOVERY = "homeassistant/sensor/other/junk/config"
_TOPICS = [
    "lab/temp",
    "lab/ups",
    "lab/door",
    _DISCOVERY,
    "homeassistant/switch/other/sw/config",
    "homeassistant/status",
    "other/junk/state",
    "other/junk/attributes",
    "homelab/chaos/chaos_recorder_health/set",
    "homelab/chaos/nothing_here/set",
    "homelab/chaos/set",
]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_discovery_like = st.fixed_dictionaries(
    {},
    optional={
        key: _json_values | st.sampled_from(["other/junk/state", "other/junk/attributes", "{{ value_json.a[0] }}"])
        for key in (
            *("name", "unique_id", "state_topic", "json_attributes_topic", "availability_topic", "device"),
            *("value_template", "command_topic", "payload_on", "object_id", "default_entity_id", "unit_of_measurement"),
        )
    },
)
_payloads = st.one_of(
    st.binary(max_size=200),
    st.binary(min_size=1, max_size=50).map(lambda b: b"\xff\xfe" + b),  # never valid UTF-8
    st.text(max_size=100).map(str.encode),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _discovery_like.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"", b"NaN", b'{"ups": [{"load": NaN}]}', b"1e999", b"[" * 50_000, b"x" * 2_000_000]),
)


@pytest.fixture
def publisher(mosquitto: ServerProcess) -> Iterator[paho.Client]:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="chaos-junk")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


@pytest.fixture
def hub(tmp_path: Path, mosquitto: ServerProcess, publisher: paho.Client) -> Iterator[HubProcess]:
    process = HubProcess(
        tmp_path,
        hub_extra=f"  mqtt:\n    port: {mosquitto.port}\n    base_topic: homelab\n",
        integrations=_INTEGRATIONS.format(port=mosquitto.port),
    )
    process.start()
    # The ingest connects after the API answers: a retained first reading shows when it reads.
    _publish(publisher, "lab/temp", b"0", retain=True)
    _wait_for_state(process, "sensor.chaos_temp", "0", timeout=30)
    yield process
    process.kill()


def _state(hub: HubProcess, entity_id: str) -> dict[str, Any] | None:
    request = urllib.request.Request(f"{hub.url}/api/states/{entity_id}", headers=hub.headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
        return None


def _wait_for_state(hub: HubProcess, entity_id: str, expected: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = _state(hub, entity_id)
        if state is not None and state["state"] == expected:
            return
        assert time.monotonic() < deadline, f"{entity_id} is {state}, not {expected!r}:\n{hub.log()[-3000:]}"
        time.sleep(0.05)


def _publish(client: paho.Client, topic: str, payload: bytes, *, retain: bool = False) -> None:
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)


# No shrinking: each step waits seconds for a reading that never comes; the failing batch is printed as found.
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(st.tuples(st.sampled_from(_TOPICS), _payloads, st.booleans()), min_size=1, max_size=12))
def test_junk_is_dropped_and_ingest_keeps_working(
    hub: HubProcess, publisher: paho.Client, batch: list[tuple[str, bytes, bool]]
) -> None:
    for topic, payload, retain in batch:
        _publish(publisher, topic, payload, retain=retain)
    # Then a good reading on the same topic: it arrives, so the junk before it was dropped, not fatal.
    marker = f"{time.monotonic_ns() % 1000}.5"
    _publish(publisher, "lab/temp", marker.encode())
    _wait_for_state(hub, "sensor.chaos_temp", marker)
    assert hub.process is not None
    assert hub.process.poll() is None
    assert not unexpected_errors(hub.log()), "\n".join(unexpected_errors(hub.log()))


def test_known_junk_is_dropped(hub: HubProcess, publisher: paho.Client) -> None:
    """The cases fuzzing found: a payload longer than a state may be (255) stopped the whole ingest for good,
    JSON nested too deep stopped it once; now the entity reads unknown and the next good reading arrives."""
    _publish(publisher, "lab/ups", b'{"ups": [{"load": 41}]}')
    _wait_for_state(hub, "sensor.chaos_ups_load", "41")
    for payload in (b"\xff\xfe\x00", b"not json", b'{"ups": []}', b"[" * 50_000):
        _publish(publisher, "lab/ups", payload)
    _publish(publisher, _DISCOVERY, b"[" * 50_000)
    _publish(publisher, "lab/temp", b"x" * 300)
    _wait_for_state(hub, "sensor.chaos_temp", "unknown")
    _publish(publisher, "homelab/chaos/nothing_here/set", b"ON")
    _publish(publisher, "lab/ups", b'{"ups": [{"load": 42}]}')
    _publish(publisher, "lab/temp", b"7")
    _wait_for_state(hub, "sensor.chaos_temp", "7")
    _wait_for_state(hub, "sensor.chaos_ups_load", "42")
    log = hub.log()
    assert "Ignored MQTT command on homelab/chaos/nothing_here/set" in log
    assert "Unusable MQTT message on lab/temp: 300 characters, more than a state holds (255)" in log
    assert not unexpected_errors(log), "\n".join(unexpected_errors(log))
