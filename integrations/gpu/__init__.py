"""The gpu integration: each GPU's load, memory, temperature and power, NVIDIA through NVML and AMD/Intel through
the kernel's sysfs and hwmon files."""

from .integration import Gpu

__all__ = ["Gpu"]
