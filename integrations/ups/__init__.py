"""The ups integration: each UPS a Network UPS Tools server (upsd) serves, its status, battery, load and voltages."""

from .integration import Ups

__all__ = ["Ups"]
