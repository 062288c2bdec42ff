"""What each GPU shows, one device per card (by PCI address): load, memory used and total, temperature, power."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core import DeviceInfo, EntityDescription, ItemField, StateValue

from .readers import GpuReading

__all__ = ["ENTITIES", "GpuSnapshot"]


@dataclass(frozen=True, slots=True)
class GpuSnapshot:
    node: str
    gpus: Mapping[str, GpuReading]


def _device(snapshot: GpuSnapshot, key: str) -> DeviceInfo:
    gpu = snapshot.gpus[key]
    return DeviceInfo(
        identifier=f"{snapshot.node}_gpu_{key}",
        name=gpu.name,
        manufacturer=gpu.vendor,
        model=gpu.name,
        via_device=snapshot.node,
    )


def _gpus(snapshot: GpuSnapshot) -> Mapping[str, Any]:
    return snapshot.gpus


def _entity(key: str, name: str, field: str, **options: Any) -> EntityDescription[GpuSnapshot]:
    read = ItemField(_gpus, field)
    return EntityDescription(
        key=f"gpu_{{instance}}_{key}",
        name=name,
        value=read.value,
        instances=read.instances,
        device=_device,
        state_class="measurement",
        **options,
    )


def _memory_percent(snapshot: GpuSnapshot, key: str) -> StateValue:
    gpu = snapshot.gpus[key]
    if gpu.memory_used is None or not gpu.memory_total:
        return None
    return round(100 * gpu.memory_used / gpu.memory_total, 1)


ENTITIES: tuple[EntityDescription[GpuSnapshot], ...] = (
    _entity("utilization", "Load", "utilization", unit="%", icon="mdi:expansion-card"),
    _entity("memory_used", "Memory used", "memory_used", unit="B", device_class="data_size"),
    _entity("memory_total", "Memory", "memory_total", unit="B", device_class="data_size", entity_category="diagnostic"),
    EntityDescription(
        key="gpu_{instance}_memory_percent",
        name="Memory used %",
        value=_memory_percent,
        instances=ItemField(_gpus, "memory_total").instances,
        device=_device,
        unit="%",
        state_class="measurement",
        precision=1,
    ),
    _entity("temperature", "Temperature", "temperature", unit="°C", device_class="temperature", precision=1),
    _entity("power", "Power", "power", unit="W", device_class="power", precision=1),
)
