"""Stats documents as dockerd and podman send them, reduced to figures; container filters and the control rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from integrations.docker.config import DockerConfig
from integrations.docker.snapshot import parse_go_time
from integrations.docker.stats import figures_between, parse_sample


def _doc(read: str, cpu: int, **extra: Any) -> dict[str, Any]:
    return {"read": read, "cpu_stats": {"cpu_usage": {"total_usage": cpu}}, **extra}


def test_cpu_percent_from_two_samples_over_the_daemons_clock() -> None:
    first = parse_sample(_doc("2026-01-01T00:00:00.000000000Z", 1_000_000_000))
    second = parse_sample(_doc("2026-01-01T00:00:02.000000000Z", 2_000_000_000))
    assert first is not None
    assert second is not None
    assert figures_between(None, first).cpu_percent is None
    assert figures_between(first, second).cpu_percent == pytest.approx(50.0)


def test_podman_document_ignores_its_system_cpu_usage() -> None:
    # podman: precpu_stats zeroed, a system_cpu_usage that would make Docker's formula wrong (DESIGN 9).
    podman = {
        "precpu_stats": {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0},
        "memory_stats": {"usage": 10 * 1024 * 1024, "limit": 100 * 1024 * 1024},
        "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 10}},
        "blkio_stats": {"io_service_bytes_recursive": None},
    }
    first = parse_sample(_doc("2026-01-01T01:00:00.5+01:00", 3_000_000_000, **podman))
    podman["networks"] = {"eth0": {"rx_bytes": 3000, "tx_bytes": 10}}
    later = _doc("2026-01-01T01:00:01.5+01:00", 4_500_000_000, **podman)
    later["cpu_stats"]["system_cpu_usage"] = 12345
    second = parse_sample(later)
    assert first is not None
    assert second is not None
    figures = figures_between(first, second)
    assert figures.cpu_percent == pytest.approx(150.0)
    assert figures.memory_percent == pytest.approx(10.0)
    assert figures.net_rx_rate == pytest.approx(2000.0)
    assert figures.net_tx_rate == 0.0
    assert figures.block_read_rate is None


def test_memory_excludes_inactive_page_cache_v1_and_v2() -> None:
    v1 = parse_sample(
        _doc(
            "2026-01-01T00:00:00Z",
            1,
            memory_stats={"usage": 1000, "limit": 4000, "stats": {"total_inactive_file": 200}},
        )
    )
    v2 = parse_sample(
        _doc("2026-01-01T00:00:00Z", 1, memory_stats={"usage": 1000, "limit": 4000, "stats": {"inactive_file": 400}})
    )
    assert v1 is not None
    assert v2 is not None
    assert v1.memory_used == 800
    assert v2.memory_used == 600


def test_block_io_rates_and_counter_resets() -> None:
    def blk(read: int, write: int) -> dict[str, Any]:
        entries = [{"op": "Read", "value": read}, {"op": "Write", "value": write}, {"op": "Total", "value": 1}]
        return {"blkio_stats": {"io_service_bytes_recursive": entries}}

    first = parse_sample(_doc("2026-01-01T00:00:00Z", 500, **blk(0, 100)))
    second = parse_sample(_doc("2026-01-01T00:00:04Z", 100, **blk(4096, 100)))
    assert first is not None
    assert second is not None
    figures = figures_between(first, second)
    assert figures.block_read_rate == 1024.0
    assert figures.block_write_rate == 0.0
    assert figures.cpu_percent is None  # the counter went back: the container restarted between samples


def test_stopped_container_document_is_no_sample() -> None:
    assert parse_sample(_doc("0001-01-01T00:00:00Z", 0)) is None
    assert parse_go_time("0001-01-01T00:00:00Z") is None
    assert parse_go_time("2026-11-29T03:25:11.252372097Z") == datetime(2026, 11, 29, 3, 25, 11, 252372, tzinfo=UTC)


def test_filters_on_names_and_labels() -> None:
    config = DockerConfig(include=("web-*", "label:monitor=yes"), exclude=("*-tmp", "label:homelab.ignore"))
    assert config.selects("web-1", {})
    assert config.selects("db", {"monitor": "yes"})
    assert not config.selects("db", {"monitor": "no"})
    assert not config.selects("web-tmp", {})
    assert not config.selects("web-2", {"homelab.ignore": ""})
    assert DockerConfig().selects("anything", {})


def test_controls_rule() -> None:
    assert not DockerConfig().allows_controls({})
    assert DockerConfig().allows_controls({"homelab.controls": "true"})
    assert DockerConfig(controls=True).allows_controls({})
    assert not DockerConfig(controls=True).allows_controls({"homelab.controls": "false"})


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ValidationError, match="label:<key>"):
        DockerConfig(include=("label:",))
    with pytest.raises(ValidationError, match="unix://"):
        DockerConfig(url="/var/run/docker.sock")
    with pytest.raises(ValidationError, match="Extra inputs"):
        DockerConfig.model_validate({"control": True})
