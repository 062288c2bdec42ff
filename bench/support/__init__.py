"""Helpers the benchmarks share (not benchmarks themselves)."""
