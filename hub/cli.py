"""`homelab-hub`: `run`, `check-config` and `token create|list|revoke`; chatter on stderr."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hub.config import ConfigErrors, load_config

from .integration import discover_integrations
from .process import prepare_process, settle_heap
from .version import hub_version

if TYPE_CHECKING:
    from .runtime import Hub

# `run` and `token` import the runtime and the API where they need them: `check-config` stays light (it loaded
# aiohttp, the database and Redis clients for nothing, three times its own cost).

__all__ = ["main"]

_LOGGER = logging.getLogger("hub")
STOP_GRACE_SECONDS = 5.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="homelab-hub", description="Monitoring hub for homelabs.")
    parser.add_argument("--version", action="version", version=f"homelab-hub {hub_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the hub")
    run.add_argument("-c", "--config", type=Path, default=Path("config"), help="config directory (default: config)")
    run.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="overrides hub.log_level")
    check = commands.add_parser("check-config", help="validate the config and exit 0 (valid) or 1")
    check.add_argument("-c", "--config", type=Path, default=Path("config"), help="config directory (default: config)")
    health = commands.add_parser(
        "health", help="print the running hub's state; exit 0 only when it is RUNNING (the container health check)"
    )
    health.add_argument("-c", "--config", type=Path, default=Path("config"), help="config directory (default: config)")
    health.add_argument("--timeout", type=float, default=4.0, help="seconds to wait for the hub (default: 4)")
    _add_token_parser(commands)
    return parser


def _add_token_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="create, list or revoke API tokens (kept hashed under hub.data_dir)")
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a token and print it on stdout (it is shown only this once)")
    create.add_argument("name")
    listing = actions.add_parser("list", help="name, creation and last use of each token (never the token)")
    revoke = actions.add_parser("revoke", help="revoke a token; a running hub refuses it within seconds")
    revoke.add_argument("name")
    for action in (create, listing, revoke):
        action.add_argument("-c", "--config", type=Path, default=Path("config"), help="config directory")


def _token(args: argparse.Namespace) -> int:
    from .api.tokens import TokenError, TokenStore

    try:
        config = load_config(args.config, discover_integrations())
        store = TokenStore.in_dir(config.hub.data_dir.absolute())
        if args.action == "create":
            secret = store.create(args.name)
            store.save()
            print(secret)
        elif args.action == "revoke":
            store.revoke(args.name)
            store.save()
            print(f"Token {args.name!r} revoked", file=sys.stderr)
        else:
            for record in store.records():
                print(f"{record.name}\tcreated {record.created}\tlast used {record.last_used or 'never'}")
    except ConfigErrors as errors:
        for error in errors.errors:
            print(str(error), file=sys.stderr)
        return 1
    except TokenError as err:
        print(str(err), file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-config":
        return _check_config(args.config)
    if args.command == "token":
        return _token(args)
    if args.command == "health":
        return _health(args.config, args.timeout)
    return _run(args.config, args.log_level)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
    )


def _check_config(directory: Path) -> int:
    try:
        config = load_config(directory, discover_integrations())
    except ConfigErrors as errors:
        print(f"Invalid config ({len(errors.errors)} error{'s' * (len(errors.errors) != 1)}):", file=sys.stderr)
        for error in errors.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    print(
        f"Config OK: node {config.hub.name!r}, {len(config.integrations)} integration(s)",
        file=sys.stderr,
    )
    return 0


def _health(directory: Path, timeout: float) -> int:
    """The state alone on stdout, why on stderr; 0 at RUNNING, 1 otherwise (STARTING, stopping, no answer)."""
    from .probe import ProbeError, probe

    try:
        state = probe(directory, timeout)
    except ConfigErrors as errors:
        for error in errors.errors:
            print(str(error), file=sys.stderr)
        return 1
    except ProbeError as err:
        print(err, file=sys.stderr)
        return 1
    print(state)
    return 0 if state == "RUNNING" else 1


def _run(directory: Path, log_level: str | None) -> int:
    try:
        config = load_config(directory, discover_integrations())
    except ConfigErrors as errors:
        _setup_logging("error")
        for error in errors.errors:
            print(str(error), file=sys.stderr)
        return 1
    _setup_logging(log_level or config.hub.log_level)
    prepare_process()
    from .runtime import Hub

    hub = Hub(config, discover_integrations())
    try:
        asyncio.run(serve(hub))
    except KeyboardInterrupt:
        return 130
    return 0


async def serve(hub: Hub) -> None:
    """The hub as its process runs it: started, its heap settled, until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with hub.lifespan():
        settle_heap()
        await stop.wait()
        _LOGGER.info("Stopping")
