"""Sinks: parts that mirror the hub's states and events somewhere else, each with its own queue and worker."""
