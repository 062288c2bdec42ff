"""`parse_mdstat`: /proc/mdstat as arrays: state, level, member devices (failed, spare), how many of how many are
in sync, and any resync, recovery, check or reshape with its progress. Lines it does not know are skipped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MdArray", "parse_mdstat"]

_HEAD: Final = re.compile(r"^(md[\w-]+)\s*:\s*(active|inactive)\s*(.*)$")
_MEMBER: Final = re.compile(r"^([\w/.-]+)\[(\d+)\]((?:\([A-Z]\))*)$")
_SYNC: Final = re.compile(r"\[(\d+)/(\d+)\]\s+\[([U_]+)\]")
_PROGRESS: Final = re.compile(r"\b(resync|recovery|check|reshape|repair)\s*=\s*([\d.]+)%")
_WAITING: Final = re.compile(r"\b(resync|recovery|check|reshape|repair)\s*=\s*(DELAYED|PENDING)")
_FINISH: Final = re.compile(r"finish=([\d.]+)min")
_LEVELS: Final = re.compile(r"^(raid\d+|linear|multipath|faulty|container)$")


@dataclass(slots=True)
class MdArray:
    name: str
    state: str
    """`active`, `inactive`, `read-only` or `auto-read-only`."""
    level: str | None = None
    devices: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    spares: list[str] = field(default_factory=list)
    wanted: int | None = None
    """Members the array should have in sync (`[n/m]`'s n); None for raid0 and linear, which keep no redundancy."""
    in_sync: int | None = None
    action: str | None = None
    """`resync`, `recovery`, `check`, `reshape` or `repair` while one runs or waits."""
    progress: float | None = None
    """Percent done; None while it waits (DELAYED, PENDING)."""
    finish_minutes: float | None = None

    @property
    def degraded(self) -> bool:
        return self.wanted is not None and self.in_sync is not None and self.in_sync < self.wanted


def parse_mdstat(text: str) -> dict[str, MdArray]:
    arrays: dict[str, MdArray] = {}
    current: MdArray | None = None
    for line in text.splitlines()[:10_000]:
        head = _HEAD.match(line.strip())
        if head:
            current = _array(head.group(1), head.group(2), head.group(3).split())
            arrays[current.name] = current
            continue
        if current is None or not line.strip():
            continue
        if sync := _SYNC.search(line):
            current.wanted, current.in_sync = int(sync.group(1)), int(sync.group(2))
        if progress := _PROGRESS.search(line):
            current.action, current.progress = progress.group(1), float(progress.group(2))
            finish = _FINISH.search(line)
            current.finish_minutes = float(finish.group(1)) if finish else None
        elif waiting := _WAITING.search(line):
            current.action = waiting.group(1)
    return arrays


def _array(name: str, state: str, words: list[str]) -> MdArray:
    array = MdArray(name, state)
    for word in words:
        if word in ("(read-only)", "(auto-read-only)"):
            array.state = word.strip("()")
        elif _LEVELS.match(word):
            array.level = word
        elif member := _MEMBER.match(word):
            device, flags = member.group(1), member.group(3)
            array.devices.append(device)
            if "(F)" in flags:
                array.failed.append(device)
            elif "(S)" in flags:
                array.spares.append(device)
    return array
