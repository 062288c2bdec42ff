"""Registers the real-server fixtures of tests/fixtures/ for the whole suite."""

pytest_plugins = [
    "tests.fixtures.dockerd",
    "tests.fixtures.mosquitto",
    "tests.fixtures.postgres",
    "tests.fixtures.redis",
    "tests.fixtures.timing",
]
