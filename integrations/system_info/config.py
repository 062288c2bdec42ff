"""`SystemInfoConfig`: which filesystems, interfaces and sensors the system_info integration reads, and from where."""

from __future__ import annotations

from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path

from hub.config.validation import Duration, StrictModel

__all__ = ["PSEUDO_FILESYSTEMS", "DiskFilter", "InterfaceFilter", "SystemInfoConfig"]

PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "efivarfs",
        "fuse.gvfsd-fuse",
        "fuse.lxcfs",
        "fuse.portal",
        "fusectl",
        "hugetlbfs",
        "mqueue",
        "nsfs",
        "overlay",
        "proc",
        "pstore",
        "ramfs",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "sysfs",
        "tmpfs",
        "tracefs",
    }
)
"""Filesystems that hold no user data (kernel views, RAM, container layers, read-only snap images that always
read 100 % full). Network filesystems (nfs, cifs, sshfs) are real: a NAS mount is what a homelab watches."""


def _matches_any(patterns: tuple[str, ...], name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


class DiskFilter(StrictModel):
    """Mounted filesystems to report; by default every real one (pseudo filesystems left out)."""

    include: tuple[str, ...] = ()
    """Only these mount points (globs such as `/mnt/*`), whatever their filesystem; empty means every real one."""
    exclude: tuple[str, ...] = ()
    """Mount points (globs) left out, even when included."""
    pseudo: bool = False
    """Also report pseudo filesystems (tmpfs, overlay, squashfs, ...) when no `include` names them."""
    timeout: Duration = timedelta(seconds=2)
    """Longest wait for one filesystem's usage; a dead network mount reads unknown and never delays the others."""

    def selects(self, mountpoint: str, fstype: str) -> bool:
        chosen = (
            _matches_any(self.include, mountpoint) if self.include else self.pseudo or fstype not in PSEUDO_FILESYSTEMS
        )
        return chosen and not _matches_any(self.exclude, mountpoint)


class InterfaceFilter(StrictModel):
    """Network interfaces to report; by default every one but loopback and containers' veth pairs."""

    include: tuple[str, ...] = ()
    """Only these interfaces (globs such as `eth*`); empty means all."""
    exclude: tuple[str, ...] = ("veth*",)
    """Interfaces (globs) left out; each container on a Docker bridge adds a `veth*` that mirrors its traffic."""
    loopback: bool = False
    """Report the loopback interface too (when an `include` does not already name it)."""

    def selects(self, name: str, *, is_loopback: bool) -> bool:
        chosen = _matches_any(self.include, name) if self.include else self.loopback or not is_loopback
        return chosen and not _matches_any(self.exclude, name)


class SystemInfoConfig(StrictModel):
    disks: DiskFilter = DiskFilter()
    interfaces: InterfaceFilter = InterfaceFilter()
    temperatures: bool = True
    """Read hardware temperature sensors where the host has them (a call that can take 150 ms+)."""
    procfs_path: Path = Path("/proc")
    """Where /proc is: in a container that mounts the host's at `/host/proc`, that path (psutil.PROCFS_PATH)."""
