"""The docker entities as data: the daemon's figures on the host device, and a device per container."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hub.core import DeviceInfo, EntityDescription, StateValue

from .snapshot import ContainerSnapshot, ContainerStats, DockerSnapshot

__all__ = ["ENTITIES", "container_device"]

_MIB = 1024 * 1024


def container_device(snapshot: DockerSnapshot, name: str) -> DeviceInfo:
    container = snapshot.containers[name]
    return DeviceInfo(
        identifier=f"{snapshot.node}_docker_{name}",
        name=name,
        manufacturer="Docker",
        model=container.image,
        via_device=snapshot.node,
    )


def _all(snapshot: DockerSnapshot) -> Iterable[str]:
    return snapshot.containers.keys()


def _controlled(snapshot: DockerSnapshot) -> Iterable[str]:
    return [name for name, container in snapshot.containers.items() if container.controls]


def _with_health(snapshot: DockerSnapshot) -> Iterable[str]:
    return [name for name, container in snapshot.containers.items() if container.health is not None]


def _container_value(read: Callable[[ContainerSnapshot], StateValue]) -> Callable[[DockerSnapshot, str], StateValue]:
    return lambda snapshot, name: read(snapshot.containers[name])


def _stat(read: Callable[[ContainerStats], StateValue]) -> Callable[[DockerSnapshot, str], StateValue]:
    return lambda snapshot, name: read(snapshot.containers[name].stats)


def _state_attributes(snapshot: DockerSnapshot, name: str) -> Mapping[str, Any]:
    container = snapshot.containers[name]
    return {"container_id": container.id[:12], "image": container.image, "image_id": container.image_id}


def _mib(value: int | None) -> float | None:
    return value / _MIB if value is not None else None


def _per_container(
    key: str, name: str, value: Callable[[DockerSnapshot, str], StateValue], **options: Any
) -> EntityDescription[DockerSnapshot]:
    return EntityDescription(
        key=f"docker_{{instance}}_{key}",
        name=name,
        value=value,
        instances=options.pop("instances", _all),
        device=container_device,
        **options,
    )


def _rate(key: str, name: str, read: Callable[[ContainerStats], StateValue]) -> EntityDescription[DockerSnapshot]:
    return _per_container(
        key, name, _stat(read), unit="B/s", device_class="data_rate", state_class="measurement", precision=0
    )


_HOST: tuple[EntityDescription[DockerSnapshot], ...] = (
    EntityDescription(
        key="docker_containers_running",
        name="Containers running",
        value=lambda s, _: s.containers_running,
        state_class="measurement",
        icon="mdi:docker",
    ),
    EntityDescription(
        key="docker_containers_total",
        name="Containers",
        value=lambda s, _: s.containers_total,
        state_class="measurement",
        icon="mdi:docker",
    ),
    EntityDescription(
        key="docker_images", name="Docker images", value=lambda s, _: s.images, state_class="measurement"
    ),
    EntityDescription(
        key="docker_version",
        name="Docker version",
        value=lambda s, _: s.version,
        icon="mdi:docker",
        entity_category="diagnostic",
    ),
)

_CONTAINERS: tuple[EntityDescription[DockerSnapshot], ...] = (
    _per_container(
        "state", "State", _container_value(lambda c: c.status), attributes=_state_attributes, icon="mdi:docker"
    ),
    _per_container(
        "health", "Health", _container_value(lambda c: c.health), instances=_with_health, icon="mdi:heart-pulse"
    ),
    _per_container(
        "cpu",
        "CPU",
        _stat(lambda s: s.cpu_percent),
        unit="%",
        state_class="measurement",
        precision=1,
        icon="mdi:cpu-64-bit",
    ),
    _per_container(
        "memory",
        "Memory used",
        _stat(lambda s: _mib(s.memory_used)),
        unit="MiB",
        device_class="data_size",
        state_class="measurement",
        precision=1,
    ),
    _per_container(
        "memory_percent",
        "Memory of limit",
        _stat(lambda s: s.memory_percent),
        unit="%",
        state_class="measurement",
        precision=1,
        icon="mdi:memory",
    ),
    _rate("network_rx", "Network received", lambda s: s.net_rx_rate),
    _rate("network_tx", "Network sent", lambda s: s.net_tx_rate),
    _rate("block_read", "Disk read", lambda s: s.block_read_rate),
    _rate("block_write", "Disk written", lambda s: s.block_write_rate),
    _per_container(
        "restarts",
        "Restarts",
        _container_value(lambda c: c.restart_count),
        state_class="measurement",
        entity_category="diagnostic",
        icon="mdi:restart",
    ),
    _per_container(
        "started",
        "Started",
        _container_value(lambda c: c.started_at),
        device_class="timestamp",
        entity_category="diagnostic",
    ),
    _per_container(
        "running",
        "Running",
        _container_value(lambda c: c.running),
        platform="switch",
        instances=_controlled,
        commands={"ON": "start", "OFF": "stop"},
        icon="mdi:play-pause",
    ),
    _per_container(
        "restart",
        "Restart",
        lambda _s, _n: None,
        platform="button",
        instances=_controlled,
        commands={"PRESS": "restart"},
        device_class="restart",
    ),
)

ENTITIES: tuple[EntityDescription[DockerSnapshot], ...] = _HOST + _CONTAINERS
