"""Random YAML documents for `homelab-hub check-config`: exit 0 or a clear error and exit 1, never a traceback."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.cli import main

_SECRET = "s3cr3t-Value-Xyz"
_KEYS = [
    *("hub", "integrations", "alerts", "name", "log_level", "data_dir", "http", "host", "port", "metrics_public"),
    *("max_body_bytes", "recorder", "db_url", "keep_days", "commit_interval", "buffer_size", "redis", "url"),
    *("mqtt", "username", "password", "discovery_prefix", "platform", "interval", "timeout", "enabled"),
    *("controls", "system_info", "docker", "<<", "entity_id", "above", "below", "for", "state", "ban_time"),
]
_SCALARS = [
    *("!secret pw", "!secret nope", "!secret", "!env_var HOME", "!env_var NOPE_X 5", "!env_var NOPE_X [", "!env_var"),
    *("!include nope.yaml", "!include .", "!include hub.yaml", "!include secrets.yaml", "!!binary aGVsbG8=", "~"),
    *("!!python/object:os.system {}", "!!float .nan", "-.inf", "!!set {a, b}", "!!omap [a: 1]", "0x1F", "1e400"),
    *("!!timestamp 2001-12-14", "10s", "-1s", "1e9h", "99999999999999999999", "&a x", "*a", "*nope", "'\\0'", "!x y"),
    *("{", "[", "? x", "|", '"\\uD800"', "system_info", "docker", "sqlite://", "postgres://u:p@h/db", "yes", "0"),
]

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.sampled_from(_KEYS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner),
    max_leaves=16,
)
_documents = st.dictionaries(st.sampled_from(["hub", "integrations", "alerts"]) | st.text(max_size=5), _values)


@st.composite
def _tagged(draw: st.DrawFn) -> str:
    """Block YAML with the loader's tags, anchors and junk scalars in random places."""
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        depth = draw(st.integers(0, 3))
        key = draw(st.sampled_from(_KEYS))
        value = draw(st.sampled_from(["", "-", *_SCALARS]))
        lines.append(f"{'  ' * depth}{'- ' if draw(st.booleans()) else ''}{key}: {value}")
    return "\n".join(lines) + "\n"


def _check(directory: Path, text: str | bytes) -> tuple[int, str]:
    path = directory / "hub.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["check-config", "-c", str(directory)])
    return code, err.getvalue()


_ERROR_LINE = re.compile(r"^  \S*(hub|secrets|nope)\.yaml(:\d+)?[ :]")


def _assert_clear(code: int, output: str) -> None:
    assert _SECRET not in output
    if code == 0:
        assert output.startswith("Config OK"), output
        return
    assert code == 1
    header, *errors = output.splitlines()
    assert re.fullmatch(r"Invalid config \(\d+ errors?\):", header), output
    assert errors, output
    assert _ERROR_LINE.match(errors[0]), output
    # A YAML reader error may run on to a second line; every line still belongs to the indented list.
    assert all(line.startswith("  ") for line in errors), output


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config")
    (directory / "secrets.yaml").write_text(f"pw: {_SECRET}\n")
    return directory


_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(document=_documents)
def test_random_structures(config_dir: Path, document: dict[str, object]) -> None:
    _assert_clear(*_check(config_dir, yaml.safe_dump(document, allow_unicode=True)))


@_SETTINGS
@given(text=_tagged())
@example(text="hub: {name: !secret pw}\n")
@example(text="integrations: [{platform: !secret pw}]\n")
@example(text="hub: {name: !env_var NOPE_X [}\n")
@example(text="hub: " + "[" * 5000 + "]" * 5000 + "\n")
@example(text="hub: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
@example(
    text="a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7))
    + "hub: *h\n"
)
def test_tags_anchors_and_junk_scalars(config_dir: Path, text: str) -> None:
    _assert_clear(*_check(config_dir, text))


@_SETTINGS
@given(text=st.text(max_size=300) | st.binary(max_size=300))
def test_any_text_or_bytes(config_dir: Path, text: str | bytes) -> None:
    _assert_clear(*_check(config_dir, text))


@pytest.mark.parametrize(
    "text",
    [
        "hub: [",
        "hub: {http: {port: !secret pw}}\nintegrations: 5\n",
        "hub: " + "[" * 5000 + "]" * 5000,
        "\x00\x01",
    ],
)
def test_the_command_line_exits_1_without_a_traceback(tmp_path: Path, text: str) -> None:
    (tmp_path / "secrets.yaml").write_text(f"pw: {_SECRET}\n")
    (tmp_path / "hub.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "hub", "check-config", "-c", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    _assert_clear(result.returncode, result.stderr)
