"""The example integration of docs/architecture.md, run as it is written there: a file's values become entities,
and a missing file makes them unavailable."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.config import load_config
from hub.runtime import Hub
from tests.fixtures.eventually import eventually
from tests.fixtures.ports import free_port

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


@pytest.fixture
def example() -> Iterator[Any]:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(code.splitlines()) <= 60
    module = types.ModuleType("file_values_example")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    yield module.FileValuesIntegration
    del sys.modules[module.__name__]


async def test_the_documented_integration_works(tmp_path: Path, example: Any) -> None:
    values = tmp_path / "temps"
    values.write_text("attic 21.5\ncellar 12\n")
    (tmp_path / "hub.yaml").write_text(
        f"hub:\n  name: doc\n  data_dir: {tmp_path / 'data'}\n  http: {{host: 127.0.0.1, port: {free_port()}}}\n"
        f"integrations:\n  - platform: file_values\n    path: {values}\n"
    )
    available = {"file_values": example}
    hub = Hub(load_config(tmp_path, available), available)
    async with hub.lifespan():  # RUNNING once the first poll has read the file
        attic = hub.core.states.get("sensor.doc_file_attic")
        assert attic is not None
        assert attic.state == "21.5"
        assert hub.core.states.get("sensor.doc_file_cellar").state == "12.0"  # type: ignore[union-attr]
        values.unlink()
        await hub.poll_now("file_values")
        await eventually(lambda: hub.core.states.get("sensor.doc_file_attic").state == "unavailable", 5, "unavailable")  # type: ignore[union-attr]
