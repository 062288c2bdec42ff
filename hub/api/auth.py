"""Who may use the API: bearer tokens, the one-time dashboard login code, and per-address login bans."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field

from hub.config.models import HttpConfig
from hub.core import clock

from .tokens import TokenError, TokenRecord, TokenStore

__all__ = ["DASHBOARD_TOKEN", "Authenticator", "LoginGuard", "bearer_token"]

_LOGGER = logging.getLogger(__name__)

_MAX_TRACKED = 4096
"""Addresses with recent failures kept before stale ones are dropped, so guessing from many addresses cannot
grow memory without bound."""

REREAD_INTERVAL = 0.5
"""Seconds between two re-reads of the token file asked for by unknown bearers: a token just made with
`homelab-hub token create` works at once, and a flood of wrong ones costs at most two file checks a second."""

DASHBOARD_TOKEN = "dashboard"
"""Name of the token that redeeming the first-start login link creates."""


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass(slots=True)
class _Attempts:
    failures: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0


class LoginGuard:
    """Counts failed logins per address; `threshold` failures within `window` ban the address for `ban_time`.

    The first failure of an address and every ban are logged at warning, the repeats in between at debug.
    """

    def __init__(self, threshold: int, window: float, ban_time: float) -> None:
        self.threshold = threshold
        self.window = window
        self.ban_time = ban_time
        self._addresses: dict[str, _Attempts] = {}
        self.failed_total = 0
        self.bans_total = 0

    def is_banned(self, address: str) -> bool:
        attempts = self._addresses.get(address)
        if attempts is None or not attempts.banned_until:
            return False
        if clock.monotonic() < attempts.banned_until:
            return True
        del self._addresses[address]
        _LOGGER.info("Login ban of %s expired", address)
        return False

    def failure(self, address: str, what: str) -> None:
        """Record a failed login (`what` says how, never with the secret that was tried)."""
        self.failed_total += 1
        now = clock.monotonic()
        if len(self._addresses) >= _MAX_TRACKED:
            self._forget_stale(now)
        attempts = self._addresses.setdefault(address, _Attempts())
        while attempts.failures and attempts.failures[0] <= now - self.window:
            attempts.failures.popleft()
        attempts.failures.append(now)
        count = len(attempts.failures)
        if count >= self.threshold:
            attempts.banned_until = now + self.ban_time
            attempts.failures.clear()
            self.bans_total += 1
            _LOGGER.warning(
                "Banned %s for %.0f s after %d failed logins within %.0f s (last: %s)",
                address,
                self.ban_time,
                count,
                self.window,
                what,
            )
        elif count == 1:
            _LOGGER.warning("Failed login from %s: %s", address, what)
        else:
            _LOGGER.debug("Failed login %d from %s: %s", count, address, what)

    def _forget_stale(self, now: float) -> None:
        for address, attempts in list(self._addresses.items()):
            recent = attempts.failures and attempts.failures[-1] > now - self.window
            if not recent and attempts.banned_until <= now:
                del self._addresses[address]


class Authenticator:
    """Checks tokens against the store and the guard; owns the single-use login code of a first start."""

    def __init__(self, tokens: TokenStore, settings: HttpConfig) -> None:
        self.tokens = tokens
        self.guard = LoginGuard(
            settings.login_attempts_threshold,
            settings.login_attempts_window.total_seconds(),
            settings.ban_time.total_seconds(),
        )
        self._login_code_hash: str | None = None
        self._save_lock = asyncio.Lock()
        self._reread_lock = asyncio.Lock()
        self._last_reread = -REREAD_INTERVAL

    async def persist(self) -> bool:
        """Sync the token file in a worker thread (one at a time); True if another process changed it."""
        async with self._save_lock:
            return await asyncio.to_thread(self.tokens.sync)

    async def check(self, address: str, token: str) -> TokenRecord | None:
        """The token's record, or None after counting a failed login for `address`.

        A token the hub does not know yet may have just been made by the CLI: the token file is read again
        before the token counts as wrong.
        """
        record = self.tokens.verify(token)
        if record is None:
            await self._reread()
            record = self.tokens.verify(token)
        if record is None:
            self.guard.failure(address, "invalid access token")
        return record

    async def _reread(self) -> None:
        """Make sure the token file was read after this call began: callers that arrive together share one read,
        and reads start at most every `REREAD_INTERVAL` seconds."""
        asked = clock.monotonic()
        async with self._reread_lock:
            if self._last_reread >= asked:
                return
            wait = self._last_reread + REREAD_INTERVAL - clock.monotonic()
            if wait > 0:
                await clock.sleep(wait)
            self._last_reread = clock.monotonic()
            with contextlib.suppress(TokenError):  # an unreadable file is logged by the periodic sync
                await self.persist()

    def new_login_code(self) -> str:
        """A one-time code for the dashboard link; only its hash is kept, so the log line is its only copy."""
        code = secrets.token_urlsafe(32)
        self._login_code_hash = hashlib.sha256(code.encode()).hexdigest()
        return code

    def redeem(self, address: str, code: str) -> str | None:
        """Exchange the login code, once, for a new long-lived dashboard token; None if it is wrong or used."""
        digest = hashlib.sha256(code.encode()).hexdigest()
        expected = self._login_code_hash
        if expected is None or not hmac.compare_digest(expected, digest):
            self.guard.failure(address, "invalid or used login code")
            return None
        self._login_code_hash = None
        name = DASHBOARD_TOKEN
        suffix = 2
        while any(record.name == name for record in self.tokens.records()):
            name = f"{DASHBOARD_TOKEN}_{suffix}"
            suffix += 1
        _LOGGER.info("Login link redeemed from %s; token %r created", address, name)
        return self.tokens.create(name)
