"""ZFS pools from the `zpool` program: `zpool list` for size, use, fragmentation and health, `zpool status` for
error counts and the last scrub. OpenZFS's exact figures (`-p`) are asked first; an older zpool (zfs-fuse) that
lacks them answers in its own rounded units, read as such. Each run is a child process bounded by a timeout."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from hub.core import HubError

__all__ = ["Pool", "ZfsError", "parse_list", "parse_status", "read_pools"]

_EXACT: Final = ["list", "-H", "-p", "-o", "name,size,allocated,free,fragmentation,capacity,health"]
_ROUNDED: Final = ["list", "-H", "-o", "name,size,allocated,free,capacity,health"]
_UNITS: Final = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50, "E": 2**60}
_SCRUB_DONE: Final = re.compile(
    r"(?:scrub repaired .* with (\d+) errors on|scrub completed after .* with (\d+) errors on) (.+)$"
)
_DEVICE_ROW: Final = re.compile(r"^\s+(\S+)\s+([A-Z]+)\s+(\d+\S*)\s+(\d+\S*)\s+(\d+\S*)")
_DATA_ERRORS: Final = re.compile(r"^errors:\s+(\d+) data errors")


class ZfsError(HubError):
    """zpool could not be run or answered something else than its tables."""


@dataclass(slots=True)
class Pool:
    name: str
    health: str
    size_bytes: int | None = None
    allocated_bytes: int | None = None
    free_bytes: int | None = None
    capacity_percent: float | None = None
    fragmentation_percent: float | None = None
    errors: int | None = None
    """READ, WRITE and CKSUM errors of every device, plus permanent data errors, from `zpool status`."""
    last_scrub: datetime | None = None
    scrub_errors: int | None = None
    scrubbing: bool = False


def _bytes(text: str) -> int | None:
    match = re.fullmatch(r"([\d.]+)([BKMGTPE]?)", text.strip())
    if match is None:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _percent(text: str) -> float | None:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        return None


def parse_list(text: str, *, exact: bool) -> dict[str, Pool]:
    """`zpool list -H` rows (tab-separated) as pools."""
    pools: dict[str, Pool] = {}
    for line in text.splitlines()[:1000]:
        columns = line.split("\t")
        if exact and len(columns) == 7:
            name, size, allocated, free, fragmentation, capacity, health = columns
        elif not exact and len(columns) == 6:
            name, size, allocated, free, capacity, health = columns
            fragmentation = "-"
        else:
            continue
        pools[name] = Pool(
            name=name,
            health=health.strip(),
            size_bytes=_bytes(size),
            allocated_bytes=_bytes(allocated),
            free_bytes=_bytes(free),
            capacity_percent=_percent(capacity),
            fragmentation_percent=_percent(fragmentation),
        )
    return pools


def parse_status(text: str, pools: dict[str, Pool]) -> None:
    """Fill each pool's errors and scrub from `zpool status` (all pools, one section each)."""
    pool: Pool | None = None
    in_config = False
    for line in text.splitlines()[:100_000]:
        stripped = line.strip()
        if stripped.startswith("pool:"):
            pool = pools.get(stripped.removeprefix("pool:").strip())
            in_config = False
            if pool is not None:
                pool.errors = 0
            continue
        if pool is None:
            continue
        if stripped.startswith(("scan:", "scrub:")):
            _scrub(pool, stripped.partition(":")[2].strip())
        elif stripped.startswith("NAME") and "STATE" in stripped:
            in_config = True
        elif stripped.startswith("errors:"):
            in_config = False
            data = _DATA_ERRORS.match(stripped)
            if data and pool.errors is not None:
                pool.errors += int(data.group(1))
        elif in_config and (row := _DEVICE_ROW.match(line)) and row.group(1) != pool.name:
            assert pool.errors is not None
            pool.errors += sum(_count(row.group(index)) for index in (3, 4, 5))


def _count(text: str) -> int:
    """`0`, `12`, or OpenZFS's rounded `1.2K`."""
    amount = _bytes(text)
    return amount if amount is not None else 0


def _scrub(pool: Pool, text: str) -> None:
    pool.scrubbing = "in progress" in text
    done = _SCRUB_DONE.search(text)
    if done:
        pool.scrub_errors = int(done.group(1) or done.group(2))
        pool.last_scrub = _when(done.group(3))


def _when(text: str) -> datetime | None:
    """zpool's `Sun Dec  6 05:05:25 2026` (the machine's local time, taken as UTC: servers run in UTC)."""
    try:
        return datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


async def _zpool(zpool: str, args: list[str], allowed: float) -> tuple[int, str, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            zpool, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError as err:
        raise ZfsError(f"{zpool} not found") from err
    try:
        async with asyncio.timeout(allowed):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ZfsError(f"zpool {args[0]} did not finish within {allowed:g}s") from None
    assert process.returncode is not None
    return process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace")


async def read_pools(zpool: str, allowed: float) -> dict[str, Pool]:
    """Every imported pool with its figures, errors and last scrub."""
    code, out, err = await _zpool(zpool, _EXACT, allowed)
    exact = code == 0
    if not exact:
        code, out, err = await _zpool(zpool, _ROUNDED, allowed)
    if code != 0:
        raise ZfsError(f"zpool list failed: {(err.strip() or out.strip())[:200]}")
    pools = parse_list(out, exact=exact)
    if pools:
        code, out, err = await _zpool(zpool, ["status"], allowed)
        if code != 0:
            raise ZfsError(f"zpool status failed: {(err.strip() or out.strip())[:200]}")
        parse_status(out, pools)
    return pools
