"""Cached virtualenvs for the real clients the compat tests run (Home Assistant, AppDaemon), apart from `.venv`.

Each client gets its own venv under `$HUB_TEST_CACHE` (default `~/.cache/homelab-hub`), installed from a
requirements file that pins every package, and named after a hash of that file, so a changed pin builds a new
one and an unchanged one is built once per machine. A venv
counts as built only when its stamp file exists (written last), so an interrupted build is started over.

`python -m tests.compat.venvs` builds every one that is missing, with progress on stderr; `scripts/test`
runs it before pytest, and the fixtures fail with that command when a venv is missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["APPDAEMON", "HOME_ASSISTANT", "CachedVenv"]

_STAMP = ".built"


def cache_root() -> Path:
    return Path(os.environ.get("HUB_TEST_CACHE", Path.home() / ".cache" / "homelab-hub"))


@dataclass(frozen=True)
class CachedVenv:
    """A named venv holding exactly what `requirements` (a pip requirements file, every version pinned) lists."""

    name: str
    requirements: Path

    @property
    def path(self) -> Path:
        digest = hashlib.sha256(self.requirements.read_bytes()).hexdigest()[:12]
        return cache_root() / "venvs" / f"{self.name}-{digest}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def built(self) -> bool:
        return (self.path / _STAMP).exists()

    def build(self) -> None:
        """Create the venv and install the requirements, saying what it does on stderr."""
        started = time.monotonic()
        if self.path.exists():
            _say(f"{self.name}: removing an unfinished venv at {self.path}")
            shutil.rmtree(self.path)
        _say(f"{self.name}: creating {self.path} (first time only; this takes a few minutes)")
        subprocess.run([sys.executable, "-m", "venv", str(self.path)], check=True)
        _say(f"{self.name}: pip install -r {self.requirements}")
        pip = [str(self.python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        subprocess.run([*pip, "-r", str(self.requirements)], check=True, stdout=sys.stderr)
        (self.path / _STAMP).write_text(f"{self.requirements}\n")
        _say(f"{self.name}: ready in {time.monotonic() - started:.0f} s")

    def ensure(self) -> None:
        if self.built():
            _say(f"{self.name}: cached at {self.path}")
        else:
            self.build()


def _say(text: str) -> None:
    print(f"[compat venvs] {text}", file=sys.stderr, flush=True)


HOME_ASSISTANT = CachedVenv("homeassistant", Path(__file__).with_name("homeassistant-requirements.txt"))

APPDAEMON = CachedVenv("appdaemon", Path(__file__).with_name("appdaemon-requirements.txt"))

ALL = (HOME_ASSISTANT, APPDAEMON)


def main() -> None:
    for venv in ALL:
        venv.ensure()


if __name__ == "__main__":
    main()
