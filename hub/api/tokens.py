"""`TokenStore`: long-lived API tokens kept as sha256 hashes in a JSON file, with name, creation and last use."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC
from pathlib import Path
from typing import Any

from hub.core import HubError, clock

__all__ = ["TOKEN_FILE", "TokenError", "TokenRecord", "TokenStore", "hash_secret", "new_secret"]

_LOGGER = logging.getLogger(__name__)

TOKEN_FILE = "auth_tokens.json"


class TokenError(HubError):
    """A token file that cannot be read or written, or a name that is taken or unknown."""


def new_secret() -> str:
    """32 random bytes, URL-safe: the token itself, shown once and never stored."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What is stored of a token: never the token, only its hash."""

    id: str
    name: str
    hash: str
    created: str
    last_used: str | None = None

    def public(self) -> dict[str, Any]:
        """The record without its hash, for listings."""
        return {"id": self.id, "name": self.name, "created": self.created, "last_used": self.last_used}


class TokenStore:
    """Tokens by name, in `<data_dir>/auth_tokens.json` (mode 0600, replaced atomically on every save).

    Lookups are in memory and compare every stored hash in constant time, so neither a wrong token nor the
    position of a right one shows in the timing. File access is blocking: the server calls `save()` from a
    worker thread; the CLI calls it directly.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: dict[str, TokenRecord] = {}
        self._loaded_mtime: int | None = None
        self.dirty = False

    @classmethod
    def in_dir(cls, data_dir: Path) -> TokenStore:
        store = cls(data_dir / TOKEN_FILE)
        store.load()
        return store

    def load(self) -> None:
        self._loaded_mtime = self._mtime()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            records = [TokenRecord(**item) for item in raw["tokens"]]
        except FileNotFoundError:
            records = []
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise TokenError(f"Cannot read the token file {self.path}: {err}") from err
        self._records = {record.name: record for record in records}

    def save(self) -> None:
        payload = json.dumps({"tokens": [asdict(r) for r in self._records.values()]}, indent=2)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as err:
            raise TokenError(f"Cannot write the token file {self.path}: {err}") from err
        self._loaded_mtime = self._mtime()
        self.dirty = False

    def sync(self) -> bool:
        """Pick up tokens the CLI created or revoked meanwhile, then write our last-use times.

        Returns whether the set of tokens changed (so open connections of revoked tokens can be closed).
        """
        changed = self._mtime() != self._loaded_mtime
        if changed:
            used = {record.id: record.last_used for record in self._records.values()}
            self.load()
            for name, record in self._records.items():
                ours = used.get(record.id)
                if ours is not None and (record.last_used is None or ours > record.last_used):
                    self._records[name] = replace(record, last_used=ours)
                    self.dirty = True
        if self.dirty:
            self.save()
        return changed

    def _mtime(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[TokenRecord]:
        return list(self._records.values())

    def create(self, name: str) -> str:
        """Add a token named `name` and return it; the caller shows it once (it is not kept)."""
        if not name.strip():
            raise TokenError("A token needs a name")
        if name in self._records:
            raise TokenError(f"A token named {name!r} exists; revoke it first or choose another name")
        secret = new_secret()
        self._records[name] = TokenRecord(id=secrets.token_hex(16), name=name, hash=hash_secret(secret), created=_now())
        self.dirty = True
        _LOGGER.info("Token %r created", name)
        return secret

    def revoke(self, name: str) -> None:
        if self._records.pop(name, None) is None:
            raise TokenError(f"No token named {name!r}")
        self.dirty = True
        _LOGGER.info("Token %r revoked", name)

    def verify(self, secret: str) -> TokenRecord | None:
        """The record a token belongs to, or None; marks it used (saved later, not on every request)."""
        digest = hash_secret(secret)
        found: TokenRecord | None = None
        for record in self._records.values():
            if hmac.compare_digest(record.hash, digest):
                found = record
        # Last use is kept to the minute, so a busy client costs a file write a minute, not one a sync.
        if found is not None and (found.last_used or "")[:16] != (now := _now())[:16]:
            self._records[found.name] = found = replace(found, last_used=now)
            self.dirty = True
        return found

    def is_valid(self, record: TokenRecord) -> bool:
        """Whether a token checked earlier is still there (revocation ends open WebSockets too)."""
        current = self._records.get(record.name)
        return current is not None and current.id == record.id


def _now() -> str:
    return clock.utcnow().astimezone(UTC).isoformat(timespec="seconds")
