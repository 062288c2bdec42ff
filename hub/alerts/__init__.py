"""Alerts: threshold and state rules that fire, clear, notify, publish and act."""

from .engine import AlertEngine

__all__ = ["AlertEngine"]
