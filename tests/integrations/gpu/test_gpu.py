"""The gpu integration: on this machine (no GPU, no NVIDIA driver) it says so once and stays quiet; an AMD card's
sysfs files as the amdgpu driver lays them out (kernel docs, Documentation/gpu/amdgpu/thermal.rst: gpu_busy_percent,
mem_info_vram_*, hwmon temp1_input in m°C and power1_average in µW) become a device with its entities."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hub.config import load_config
from hub.runtime import Hub
from integrations.gpu import Gpu
from integrations.gpu.readers import read_sysfs
from tests.fixtures.eventually import eventually
from tests.fixtures.gpu_sysfs import amd_card_tree
from tests.fixtures.ports import free_port
from tests.fixtures.process import ServerProcess
from tests.sinks.mqtt.mqtttools import recording

AVAILABLE = {"gpu": Gpu}


def test_sysfs_cards(tmp_path: Path) -> None:
    amd, intel = read_sysfs(amd_card_tree(tmp_path / "sys"))
    assert (amd.key, amd.name, amd.vendor, amd.driver) == ("0000_03_00_0", "AMD Radeon RX 6600", "AMD", "amdgpu")
    assert (amd.utilization, amd.memory_used, amd.memory_total) == (37.0, 1073741824, 8573157376)
    assert (amd.temperature, amd.power) == (52.0, 61.0)
    assert (intel.name, intel.utilization, intel.temperature, intel.power) == ("Intel 0000:00:02.0", None, None, None)
    assert read_sysfs(tmp_path / "nowhere") == []


async def test_cards_become_devices(tmp_path: Path) -> None:
    sysfs = amd_card_tree(tmp_path / "sys")
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: gpu\n    sysfs: {sysfs}\n    nvidia: false\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with hub.lifespan():
        states = hub.core.states
        load = await eventually(lambda: states.get("sensor.nas_gpu_0000_03_00_0_utilization"), 5, "the AMD card")
        assert (load.state, load.attributes["unit_of_measurement"]) == ("37.0", "%")
        assert states.get("sensor.nas_gpu_0000_03_00_0_memory_percent").state == "12.5"  # type: ignore[union-attr]
        assert states.get("sensor.nas_gpu_0000_03_00_0_temperature").state == "52.0"  # type: ignore[union-attr]
        assert states.get("sensor.nas_gpu_0000_03_00_0_power").state == "61.0"  # type: ignore[union-attr]
        assert states.get("sensor.nas_gpu_0000_00_02_0_utilization") is None  # the iGPU exposes no load
        entry = hub.core.entities.get("sensor.nas_gpu_0000_03_00_0_power")
        assert entry is not None
        assert (entry.device.name, entry.device.manufacturer, entry.unit, entry.device_class) == (
            "AMD Radeon RX 6600",
            "AMD",
            "W",
            "power",
        )


async def test_no_gpu_is_said_once_and_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """This machine: no /sys/class/drm, no NVIDIA driver."""
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: gpu\n    interval: 200ms\n    sysfs: {tmp_path / 'sys'}\n"
    )
    caplog.set_level(logging.INFO)
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    async with hub.lifespan():
        health = hub.health.get("gpu")
        assert health is not None
        await eventually(lambda: health.success_count >= 3, 5, "three polls")
        assert health.error_count == 0
        assert not [state for state in hub.core.states.all() if state.entity_id.startswith("sensor.nas_gpu_")]
    said = [record.getMessage() for record in caplog.records if record.name.endswith("gpu")]
    assert len([message for message in said if message.startswith("no GPU found")]) == 1
    assert f"no AMD or Intel card under {tmp_path / 'sys'}/class/drm; NVIDIA: " in said[0]
    assert [record for record in caplog.records if record.levelno >= logging.WARNING and "gpu" in record.name] == []


async def test_home_assistant_discovery_of_each_kind(tmp_path: Path, mosquitto: ServerProcess) -> None:
    sysfs = amd_card_tree(tmp_path / "sys")
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: nas\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"  mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
        f"integrations:\n  - platform: gpu\n    sysfs: {sysfs}\n    nvidia: false\n"
    )
    hub = Hub(load_config(tmp_path, AVAILABLE), AVAILABLE)
    prefix = "homeassistant/sensor/nas/nas_gpu_0000_03_00_0_{}/config"
    async with hub.lifespan(), recording(mosquitto.port, "homeassistant/#") as seen:
        await eventually(lambda: seen.payload(prefix.format("power")), 10, "the discovery")
        load = seen.json(prefix.format("utilization"))
        used = seen.json(prefix.format("memory_used"))
        total = seen.json(prefix.format("memory_total"))
        percent = seen.json(prefix.format("memory_percent"))
        temperature = seen.json(prefix.format("temperature"))
        power = seen.json(prefix.format("power"))
    assert (load["unit_of_measurement"], load["state_class"], load["icon"]) == (
        "%",
        "measurement",
        "mdi:expansion-card",
    )
    assert (used["device_class"], used["unit_of_measurement"]) == ("data_size", "B")
    assert total["entity_category"] == "diagnostic"
    assert percent["unit_of_measurement"] == "%"
    assert (temperature["device_class"], temperature["unit_of_measurement"]) == ("temperature", "°C")
    assert (power["device_class"], power["unit_of_measurement"]) == ("power", "W")
    assert power["device"] == {
        "identifiers": ["nas_gpu_0000_03_00_0"],
        "name": "AMD Radeon RX 6600",
        "manufacturer": "AMD",
        "model": "AMD Radeon RX 6600",
        "via_device": "nas",
    }
