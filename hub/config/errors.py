"""`ConfigError`: a config problem named by file, line and key path, and the list of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.core import HubError

__all__ = ["ConfigError", "ConfigErrors", "KeyPath", "format_path"]

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """`("integrations", 1, "interval")` -> `integrations[1].interval`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            # A key with a newline or control character is shown quoted, so each error stays one line.
            shown = part if part.isprintable() else repr(part)
            text += f".{shown}" if text else shown
    return text


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One problem: where it is and what is wrong, phrased for the person editing the file."""

    file: str
    line: int | None
    path: KeyPath
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = format_path(self.path)
        return f"{where} {key}: {self.message}" if key else f"{where}: {self.message}"


class ConfigErrors(HubError):
    """Every problem found in one load, in file order."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.file, e.line or 0))
        super().__init__("\n".join(str(error) for error in self.errors))
