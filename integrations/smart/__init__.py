"""The smart integration: each disk's SMART health, temperature, age and wear, read with smartctl."""

from .integration import Smart

__all__ = ["Smart"]
