"""`GpuConfig`: where sysfs is, and whether to ask NVIDIA's driver."""

from __future__ import annotations

from pathlib import Path

from hub.config.validation import StrictModel

__all__ = ["GpuConfig"]


class GpuConfig(StrictModel):
    sysfs: Path = Path("/sys")
    """The kernel's sysfs (`/host/sys` in a container that mounts the host's there): AMD and Intel GPUs."""
    nvidia: bool = True
    """Ask NVIDIA's driver through NVML (libnvidia-ml, installed with the driver)."""
