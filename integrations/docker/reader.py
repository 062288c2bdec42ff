"""`DockerReader`: the blocking docker SDK calls, each returning frozen data; run them off the event loop."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import docker
from docker.errors import DockerException, NotFound
from requests.exceptions import RequestException

from hub.core import HubError, ServiceValidationError
from hub.integration import UpdateFailed

from .config import DockerConfig
from .snapshot import IDLE, ContainerSnapshot, ContainerStats, DockerSnapshot, parse_go_time
from .stats import StatsStreams

__all__ = [
    "Action",
    "ControlRefused",
    "DockerCommandFailed",
    "DockerReader",
    "DockerUnavailable",
    "UnknownContainer",
    "connect",
]

Action = Literal["start", "stop", "restart"]

_CLIENT_POOL = 4
"""Connections of the main client: a poll, a service call and the event stream at once (streams have their own)."""
_UP = frozenset({"running", "paused", "restarting"})
_HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)")


class DockerUnavailable(UpdateFailed):
    """The daemon cannot be reached, or failed a read: the integration's entities go unavailable."""


class DockerCommandFailed(HubError):
    """The daemon refused or failed a start, stop or restart."""


class UnknownContainer(ServiceValidationError):
    """No (selected) container has that name."""


class ControlRefused(ServiceValidationError):
    """Controls are off for this container."""

    def __init__(self, name: str, action: str) -> None:
        super().__init__(
            f"docker.{action} refused for container {name!r}: controls are off. Set `controls: true` on the "
            "docker integration, or the label homelab.controls=true on the container."
        )


def _wrap(url: str, err: Exception) -> DockerUnavailable:
    return DockerUnavailable(f"Docker daemon at {url} unavailable: {type(err).__name__}: {err}")


def connect(config: DockerConfig) -> docker.DockerClient:
    """A client whose daemon answered `/_ping`; raises `DockerUnavailable`."""
    seconds = config.call_timeout.total_seconds()
    try:
        client = docker.DockerClient(base_url=config.url, timeout=seconds, max_pool_size=_CLIENT_POOL)
    except (DockerException, RequestException) as err:
        raise _wrap(config.url, err) from err
    try:
        client.ping()
    except (DockerException, RequestException) as err:
        client.close()
        raise _wrap(config.url, err) from err
    return client


@dataclass(frozen=True, slots=True)
class _Details:
    """What an inspect tells, cached until the container's summary (state, health) or an event says it changed."""

    key: tuple[str, str]
    status: str
    """From the inspect: the list's view lags the `die` event by a moment, the container itself does not."""
    image: str
    image_id: str
    health: str | None
    restart_count: int
    started_at: datetime | None


def _summary_key(summary: Mapping[str, Any]) -> tuple[str, str]:
    match = _HEALTH_IN_STATUS.search(str(summary.get("Status", "")))
    return str(summary.get("State", "")), match.group(1) if match else ""


def _name(summary: Mapping[str, Any]) -> str:
    names = summary.get("Names") or [summary.get("Id", "")[:12]]
    return str(names[0]).lstrip("/")


class DockerReader:
    """Reads the daemon into `DockerSnapshot`s and carries out container commands. Every method blocks."""

    def __init__(self, client: docker.DockerClient, config: DockerConfig, node: str) -> None:
        self.client = client
        self._config = config
        self._node = node
        self.streams = StatsStreams(self._open_stream)
        self._details: dict[str, _Details] = {}
        self._details_lock = threading.Lock()
        self._version: str | None = None

    def read(self) -> DockerSnapshot:
        try:
            return self._read()
        except (DockerException, RequestException) as err:
            raise _wrap(self._config.url, err) from err

    def invalidate(self, container_id: str) -> None:
        """Forget what an inspect told of a container (an event said it changed)."""
        with self._details_lock:
            self._details.pop(container_id, None)

    def forget(self) -> None:
        """Forget every cached answer (the daemon may have restarted, or been upgraded)."""
        with self._details_lock:
            self._details.clear()
        self._version = None

    def close(self) -> None:
        self.streams.close()
        self.client.close()

    def _read(self) -> DockerSnapshot:
        api = self.client.api
        summaries: list[dict[str, Any]] = api.containers(all=True)
        images = len(api.images(quiet=True))
        if self._version is None:
            self._version = str(api.version().get("Version", "unknown"))
        selected = [s for s in summaries if self._config.selects(_name(s), s.get("Labels") or {})]
        details = {s["Id"]: d for s in selected if (d := self._details_of(s)) is not None}
        self.streams.sync(container_id for container_id, d in details.items() if d.status in _UP)
        containers = [self._container(s, details[s["Id"]]) for s in selected if s["Id"] in details]
        self._drop_details(s["Id"] for s in summaries)
        statuses = [details[s["Id"]].status if s["Id"] in details else s.get("State") for s in summaries]
        return DockerSnapshot(
            node=self._node,
            version=self._version,
            images=images,
            containers_total=len(summaries),
            containers_running=statuses.count("running"),
            containers={c.name: c for c in containers},
        )

    def _container(self, summary: Mapping[str, Any], details: _Details) -> ContainerSnapshot:
        container_id = summary["Id"]
        up = details.status in _UP
        return ContainerSnapshot(
            id=container_id,
            name=_name(summary),
            image=details.image,
            image_id=details.image_id,
            status=details.status,
            health=details.health,
            restart_count=details.restart_count,
            started_at=details.started_at,
            controls=self._config.allows_controls(summary.get("Labels") or {}),
            stats=(self.streams.latest(container_id) or ContainerStats()) if up else IDLE,
        )

    def _details_of(self, summary: Mapping[str, Any]) -> _Details | None:
        container_id = summary["Id"]
        key = _summary_key(summary)
        with self._details_lock:
            cached = self._details.get(container_id)
        if cached is not None and cached.key == key:
            return cached
        try:
            info = self.client.api.inspect_container(container_id)
        except NotFound:
            return None
        state = info.get("State") or {}
        details = _Details(
            key=key,
            status=str(state.get("Status") or summary.get("State", "unknown")),
            image=str((info.get("Config") or {}).get("Image") or summary.get("Image", "")),
            image_id=str(info.get("Image", "")),
            health=(state.get("Health") or {}).get("Status"),
            restart_count=int(info.get("RestartCount") or 0),
            started_at=parse_go_time(state.get("StartedAt")),
        )
        with self._details_lock:
            self._details[container_id] = details
        return details

    def _drop_details(self, existing: Iterable[str]) -> None:
        keep = set(existing)
        with self._details_lock:
            for container_id in [c for c in self._details if c not in keep]:
                del self._details[container_id]

    def _open_stream(self, container_id: str) -> Iterator[Mapping[str, Any]]:
        # A client per stream: a stream holds its connection for as long as it runs, and a shared pool
        # would discard (and warn about) every connection beyond its size.
        api = docker.APIClient(
            base_url=self._config.url,
            version=self.client.api.api_version,
            timeout=self._config.call_timeout.total_seconds(),
        )
        try:
            yield from api.stats(container_id, decode=True, stream=True)
        finally:
            api.close()

    def act(self, name: str, action: Action) -> None:
        """Start, stop or restart a selected container whose controls are allowed."""
        try:
            container = self.client.containers.get(name)
        except NotFound as err:
            raise UnknownContainer(f"No container named {name!r}") from err
        except (DockerException, RequestException) as err:
            raise DockerCommandFailed(f"docker.{action} {name}: {err}") from err
        labels = container.labels or {}
        if not self._config.selects(name, labels):
            raise UnknownContainer(f"Container {name!r} is excluded by this integration's include/exclude filters")
        if not self._config.allows_controls(labels):
            raise ControlRefused(name, action)
        try:
            getattr(container, action)()
        except (DockerException, RequestException) as err:
            raise DockerCommandFailed(f"docker.{action} {name} failed: {err}") from err
        self.invalidate(container.id)
