"""Reading GPUs, each call blocking (run in the integration's thread): `read_sysfs` for AMD and Intel cards under
/sys/class/drm (amdgpu's `gpu_busy_percent` and `mem_info_vram_*`, hwmon temperature and power), `NvidiaReader`
for NVIDIA cards through NVML. Every value a card does not expose stays None."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hub.core import HubError

__all__ = ["GpuReading", "NvidiaReader", "NvmlUnavailable", "read_sysfs"]

_VENDORS: Final = {"0x1002": "AMD", "0x8086": "Intel", "0x10de": "NVIDIA"}
_CARD: Final = re.compile(r"^card\d+$")


@dataclass(frozen=True, slots=True)
class GpuReading:
    key: str
    """Stable per card: its PCI address (`0000_03_00_0`)."""
    name: str
    vendor: str
    driver: str | None = None
    utilization: float | None = None
    """% busy."""
    memory_used: int | None = None
    memory_total: int | None = None
    temperature: float | None = None
    power: float | None = None
    """W."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip()[:200]
    except OSError:
        return None


def _int(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _first(paths: list[Path]) -> Path | None:
    return sorted(paths)[0] if paths else None


def read_sysfs(sysfs: Path) -> list[GpuReading]:
    """Every DRM card with a PCI device that is not NVIDIA's (NVML reads those)."""
    found: list[GpuReading] = []
    drm = sysfs / "class" / "drm"
    try:
        cards = sorted(entry for entry in drm.iterdir() if _CARD.match(entry.name))
    except OSError:
        return []
    for card in cards:
        device = card / "device"
        vendor = _VENDORS.get(_read(device / "vendor") or "")
        if vendor is None or vendor == "NVIDIA":
            continue
        pci = device.resolve().name
        driver_link = device / "driver"
        driver = driver_link.resolve().name if driver_link.exists() else None
        hwmon = _first(list((device / "hwmon").glob("hwmon*")))
        temperature = _int(hwmon / "temp1_input") if hwmon else None
        power = (_int(hwmon / "power1_average") or _int(hwmon / "power1_input")) if hwmon else None
        found.append(
            GpuReading(
                key=re.sub(r"[^0-9a-f]+", "_", pci.lower()),
                name=f"{vendor} {_read(device / 'product_name') or pci}",
                vendor=vendor,
                driver=driver,
                utilization=_number(_int(device / "gpu_busy_percent")),
                memory_used=_int(device / "mem_info_vram_used"),
                memory_total=_int(device / "mem_info_vram_total"),
                temperature=None if temperature is None else temperature / 1000,
                power=None if power is None else round(power / 1_000_000, 1),
            )
        )
    return found


def _number(value: int | None) -> float | None:
    return None if value is None else float(value)


class NvmlUnavailable(HubError):
    """No NVIDIA driver here (or no NVIDIA card)."""


class NvidiaReader:
    """NVML, initialised once; `read()` per poll."""

    def __init__(self) -> None:
        import pynvml  # type: ignore[import-untyped]  # loads libnvidia-ml when asked, not at import

        self._nvml: Any = pynvml
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as err:
            raise NvmlUnavailable(str(err)) from err

    def close(self) -> None:
        self._nvml.nvmlShutdown()

    def read(self) -> list[GpuReading]:
        nvml = self._nvml
        found: list[GpuReading] = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            pci = nvml.nvmlDeviceGetPciInfo(handle).busId
            pci_text = pci.decode() if isinstance(pci, bytes) else str(pci)
            name = nvml.nvmlDeviceGetName(handle)
            memory = self._try(nvml.nvmlDeviceGetMemoryInfo, handle)
            rates = self._try(nvml.nvmlDeviceGetUtilizationRates, handle)
            temperature = self._try(nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU)
            milliwatts = self._try(nvml.nvmlDeviceGetPowerUsage, handle)
            found.append(
                GpuReading(
                    key=re.sub(r"[^0-9a-f]+", "_", pci_text.lower()).strip("_"),
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    vendor="NVIDIA",
                    driver="nvidia",
                    utilization=None if rates is None else float(rates.gpu),
                    memory_used=None if memory is None else int(memory.used),
                    memory_total=None if memory is None else int(memory.total),
                    temperature=None if temperature is None else float(temperature),
                    power=None if milliwatts is None else round(milliwatts / 1000, 1),
                )
            )
        return found

    def _try(self, call: Any, *args: Any) -> Any:
        """A value the card does not support (NVML_ERROR_NOT_SUPPORTED) is None, not a failed poll."""
        try:
            return call(*args)
        except self._nvml.NVMLError:
            return None
