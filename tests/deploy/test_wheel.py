"""A wheel of the project carries the dashboard: installed anywhere, `homelab-hub run` serves it at `/`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

from tests.fixtures.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_install_serves_the_dashboard_from_anywhere(tmp_path: Path) -> None:
    # Built from a copy: setuptools leaves build/ and *.egg-info in the tree it builds.
    source = tmp_path / "source"
    for part in ("hub", "integrations", "www"):
        shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    subprocess.run([*build, str(source)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("homelab_hub-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    shipped = {name.removeprefix("hub/www/") for name in names if name.startswith("hub/www/")}
    repository = {str(path.relative_to(ROOT / "www")) for path in (ROOT / "www").rglob("*") if path.is_file()}
    assert shipped == repository

    port = free_port()
    config = tmp_path / "config"
    config.mkdir()
    (config / "hub.yaml").write_text(
        f"hub:\n  name: wheel\n  data_dir: {tmp_path / 'data'}\n  http: {{port: {port}}}\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The unpacked wheel first on the path, so its `hub` (not the repository's) is the one that runs.
    env = {**os.environ, "PYTHONPATH": str(site)}
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "-c", str(config)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "the hub did not serve / within 30 s"
                time.sleep(0.1)
        assert "homelab-hub" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/js/main.js", timeout=2) as answer:
            assert answer.status == 200
        served_from = subprocess.run(
            [sys.executable, "-c", "import hub.api.static as s; print(s.DEFAULT_WWW_DIR)"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert served_from == str(site / "hub" / "www")
    finally:
        process.terminate()
        process.wait(30)
