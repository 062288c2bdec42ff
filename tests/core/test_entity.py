"""Slugs and entity ids: Home Assistant's slug rules, `<platform>.<node>_<key>`, per-instance keys; numeric states and
per-item fields for descriptions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from hub.core import (
    NO_INSTANCE,
    DeviceInfo,
    EntityDescription,
    ItemField,
    entity_id_for,
    finite_number,
    slugify,
    valid_entity_id,
)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("CPU Temp", "cpu_temp"),
        ("  leading and trailing  ", "leading_and_trailing"),
        ("Ünïcödé Straße", "unicode_strae"),
        ("eth0.100", "eth0_100"),
        ("/dev/sda1", "dev_sda1"),
        ("a---b___c", "a_b_c"),
        ("Already_slug", "already_slug"),
        ("!!!", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugify_with_another_separator() -> None:
    assert slugify("My Docker Host", separator="-") == "my-docker-host"


@pytest.mark.parametrize(
    ("platform", "node", "key", "entity_id"),
    [
        ("sensor", "nas", "cpu_percent", "sensor.nas_cpu_percent"),
        ("binary_sensor", "Mini PC", "docker_health", "binary_sensor.mini_pc_docker_health"),
        ("sensor", "pi", "disk_/mnt/data_used", "sensor.pi_disk_mnt_data_used"),
    ],
)
def test_entity_id_for(platform: str, node: str, key: str, entity_id: str) -> None:
    assert entity_id_for(platform, node, key) == entity_id
    assert valid_entity_id(entity_id)


def test_description_keys_and_names_per_instance() -> None:
    description: EntityDescription[dict[str, float]] = EntityDescription(
        key="disk_{instance}_used",
        name="Disk {instance} used",
        value=lambda snapshot, instance: snapshot[instance],
        instances=lambda snapshot: list(snapshot),
    )
    assert description.key_for("/mnt/Data") == "disk_mnt_data_used"
    assert description.name_for("/mnt/Data") == "Disk /mnt/Data used"
    assert description.key_for(NO_INSTANCE) == "disk_{instance}_used"
    assert description.value({"/": 1.5}, "/") == 1.5
    assert description.platform == "sensor"


def test_device_info_as_dict_leaves_out_unset_fields() -> None:
    device = DeviceInfo(identifier="nas", name="nas", manufacturer="homelab-hub")
    assert device.as_dict() == {"identifier": "nas", "name": "nas", "manufacturer": "homelab-hub"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("21.5", 21.5),
        (3, 3.0),
        (-0.5, -0.5),
        ("1e3", 1000.0),
        ("nan", None),
        ("inf", None),
        (math.inf, None),
        (True, None),
        (None, None),
        ("on", None),
        ("", None),
    ],
)
def test_finite_number_is_home_assistants_numeric_state(value: object, expected: float | None) -> None:
    assert finite_number(value) == expected


@dataclass
class _Disk:
    temperature: float | None


def test_item_field_makes_an_entity_per_item_having_the_field() -> None:
    """Read by attribute from objects and by key from mappings; an item without the field gets no entity."""
    disks = ItemField(lambda snapshot: snapshot["disks"], "temperature")
    ups = ItemField(lambda snapshot: snapshot["ups"], "battery.charge")
    snapshot = {
        "disks": {"sda": _Disk(35.0), "sdb": _Disk(None)},
        "ups": {"rack": {"battery.charge": "97"}, "desk": {}},
    }
    assert (disks.instances(snapshot), disks.value(snapshot, "sda")) == (["sda"], 35.0)
    assert (ups.instances(snapshot), ups.value(snapshot, "rack")) == (["rack"], "97")
