"""The whole hub with a small integration: health entities, reload applying or refusing a config, CLI stop."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from hub.config import ConfigErrors, load_config
from hub.core import EVENT_INTEGRATION_HEALTH_CHANGED, Event
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

_MODULE = "hubtest_flaky"
_SOURCE = '''
"""An integration whose config says what its polls return or whether they fail."""

from datetime import timedelta
from typing import Any, ClassVar

from hub.config.validation import StrictModel
from hub.core import EntityDescription
from hub.integration import Integration, UpdateFailed

__all__ = ["Flaky"]


class FlakyConfig(StrictModel):
    label: str = "flaky"
    value: float = 1.0
    fail: bool = False


class Flaky(Integration[FlakyConfig, tuple[str, float]]):
    domain = "flaky"
    config_model = FlakyConfig
    default_interval = timedelta(seconds=1)
    entities: ClassVar[tuple[EntityDescription[Any], ...]] = (
        EntityDescription(
            key="{instance}_value", name="{instance} value", value=lambda s, _: s[1], instances=lambda s: [s[0]]
        ),
    )

    async def poll(self) -> tuple[str, float]:
        if self.config.fail:
            raise UpdateFailed("told to fail")
        return (self.config.label, self.config.value)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The integration as an installed third party's: a module and an entry point (for the CLI subprocess)."""
    root = tmp_path_factory.mktemp("site")
    (root / f"{_MODULE}.py").write_text(_SOURCE)
    dist = root / "hubtest_flaky-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hubtest-flaky\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[homelab_hub.integrations]\nflaky = {_MODULE}:Flaky\n")
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    sys.modules.pop(_MODULE, None)


@pytest.fixture
def available(site: Path) -> dict[str, Any]:
    return {"flaky": importlib.import_module(_MODULE).Flaky}


pytestmark = pytest.mark.usefixtures("instant_backoff")


def _write_config(directory: Path, data_dir: Path, port: int, integrations: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "hub.yaml").write_text(
        f"hub:\n  name: rt\n  data_dir: {data_dir}\n  http: {{host: 127.0.0.1, port: {port}}}\n"
        f"integrations:\n{integrations}"
    )


def _state(hub: Hub, entity_id: str) -> str | None:
    state = hub.core.states.get(entity_id)
    return None if state is None else state.state


async def test_health_entities_follow_each_integration(tmp_path: Path, available: dict[str, Any]) -> None:
    config_dir = tmp_path / "cfg"
    _write_config(
        config_dir,
        tmp_path / "data",
        free_port(),
        "  - {platform: flaky, name: good, label: good, interval: 100ms}\n"
        "  - {platform: flaky, name: bad, fail: true, interval: 100ms}\n",
    )
    hub = Hub(load_config(config_dir, available), available)
    changes: list[Event[Mapping[str, Any]]] = []
    hub.core.bus.listen(EVENT_INTEGRATION_HEALTH_CHANGED, changes.append)
    async with hub.lifespan():
        await eventually(lambda: _state(hub, "binary_sensor.rt_bad_health") == "on", what="bad to be failing")
        await eventually(lambda: _state(hub, "sensor.rt_good_value") == "1.0", what="the good value")
        good = hub.core.states.get("binary_sensor.rt_good_health")
        bad = hub.core.states.get("binary_sensor.rt_bad_health")
        assert good is not None
        assert bad is not None
        assert good.state == "off"
        assert good.attributes["status"] == "ok"
        assert good.attributes["device_class"] == "problem"
        assert good.attributes["last_duration"] is not None
        assert bad.attributes["status"] == "failing"
        assert bad.attributes["error_count"] >= 3
        assert bad.attributes["last_error"] == "told to fail"
        entry = hub.core.entities.get("binary_sensor.rt_bad_health")
        assert entry is not None
        assert entry.entity_category == "diagnostic"
        assert _state(hub, "binary_sensor.rt_recorder_health") == "off"
        assert {(e.data["name"], e.data["status"]) for e in changes} >= {("bad", "degraded"), ("bad", "failing")}
        assert {info["id"]: info["health"]["status"] for info in hub.integrations()} == {
            "good": "ok",
            "bad": "failing",
        }


async def test_reload_applies_integration_changes_and_refuses_a_bad_config(
    tmp_path: Path, available: dict[str, Any]
) -> None:
    config_dir, data_dir, port = tmp_path / "cfg", tmp_path / "data", free_port()
    _write_config(
        config_dir,
        data_dir,
        port,
        "  - {platform: flaky, name: one, label: one, value: 1, interval: 100ms}\n"
        "  - {platform: flaky, name: two, label: two, value: 2, interval: 100ms}\n",
    )
    hub = Hub(load_config(config_dir, available), available)
    async with hub.lifespan():
        await eventually(lambda: _state(hub, "sensor.rt_two_value") == "2.0", what="two's first value")
        _write_config(
            config_dir,
            data_dir,
            port,
            "  - {platform: flaky, name: one, label: one, value: 1, interval: 100ms}\n"
            "  - {platform: flaky, name: three, label: three, value: 3, interval: 100ms}\n"
            "  - {platform: flaky, name: two, label: two, value: 22, interval: 100ms, enabled: false}\n",
        )
        changes = await hub.reload()
        assert changes == ["stopped two", "started three"]
        assert _state(hub, "sensor.rt_two_value") is None  # a stopped integration's entities go away
        assert hub.core.entities.get("sensor.rt_two_value") is None
        assert _state(hub, "binary_sensor.rt_two_health") is None, "its health entity goes with it"
        assert hub.core.entities.get("binary_sensor.rt_two_health") is None
        await eventually(lambda: _state(hub, "sensor.rt_three_value") == "3.0", what="three's first value")
        assert sorted(info["id"] for info in hub.integrations()) == ["one", "three"]

        (config_dir / "hub.yaml").write_text("integrations:\n  - platform: flaky\n    colour: blue\n")
        with pytest.raises(ConfigErrors) as caught:
            await hub.reload()
        assert [str(e) for e in caught.value.errors] == [
            f"{config_dir / 'hub.yaml'}:3 integrations[0].colour: unknown key"
        ]
        assert sorted(info["id"] for info in hub.integrations()) == ["one", "three"]
        one_polls = hub.health.get("one")
        assert one_polls is not None
        before = one_polls.success_count
        await eventually(lambda: one_polls.success_count > before + 2, what="one to keep polling")


async def test_reload_reports_hub_changes_as_needing_a_restart(tmp_path: Path, available: dict[str, Any]) -> None:
    config_dir, data_dir, port = tmp_path / "cfg", tmp_path / "data", free_port()
    _write_config(config_dir, data_dir, port, "  - {platform: flaky, interval: 1h}\n")
    hub = Hub(load_config(config_dir, available), available)
    async with hub.lifespan():
        text = (config_dir / "hub.yaml").read_text().replace("name: rt", "name: renamed")
        (config_dir / "hub.yaml").write_text(text)
        assert await hub.reload() == ["hub settings changed: restart the hub to apply them"]
        assert hub.core.node == "rt"


async def test_reload_keeps_the_running_alerts_and_reports_changed_ones(
    tmp_path: Path, available: dict[str, Any]
) -> None:
    config_dir, data_dir, port = tmp_path / "cfg", tmp_path / "data", free_port()
    _write_config(config_dir, data_dir, port, "  - {platform: flaky, interval: 1h}\n")
    rule = "alerts:\n  - {name: hot, entity_id: sensor.rt_x, above: 1}\n"
    with (config_dir / "hub.yaml").open("a") as config_file:
        config_file.write(rule)
    hub = Hub(load_config(config_dir, available), available)
    async with hub.lifespan():
        assert await hub.reload() == []
        assert [rule.name for rule in hub.config.alerts] == ["hot"]
        (config_dir / "hub.yaml").write_text((config_dir / "hub.yaml").read_text().replace("above: 1", "above: 2"))
        assert await hub.reload() == ["alerts changed: restart the hub to apply them"]
        assert hub.config.alerts[0].above == 1, "the running rules stay until a restart"
        assert [a["name"] for a in hub.alert_states()] == ["hot"]


async def _read_until(stream: asyncio.StreamReader, needle: str, seen: list[str], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not any(needle in line for line in seen):
            line = await stream.readline()
            assert line, f"the hub exited before logging {needle!r}:\n" + "".join(seen)
            seen.append(line.decode())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_cli_run_logs_each_integration_and_stops_cleanly_on_a_signal(
    site: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    config_dir = tmp_path / "cfg"
    _write_config(
        config_dir, tmp_path / "data", free_port(), "  - {platform: flaky, name: cli, label: cli, interval: 1s}\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "run",
        "-c",
        str(config_dir),
        env={**os.environ, "PYTHONPATH": str(site)},
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        await _read_until(process.stderr, "running as node 'rt'", seen, timeout=60)
        await _read_until(process.stderr, "Set up cli (flaky) every 1s", seen, timeout=10)
        process.send_signal(signum)
        started = time.monotonic()
        rest = await asyncio.wait_for(process.stderr.read(), 10)
        code = await asyncio.wait_for(process.wait(), 10)
        elapsed = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(seen) + rest.decode()
    assert code == 0, output
    assert elapsed < 5, output
    assert "Stopping" in output
    assert "Traceback" not in output
    assert output.count("Set up cli (flaky)") == 1
