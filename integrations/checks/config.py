"""`ChecksConfig`: the checks one `checks` integration runs, each with its own interval, timeout and retries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from hub.config.validation import Duration, Port, Secret, Slug, StrictModel, url_with_scheme

__all__ = [
    "BasicAuth",
    "Check",
    "ChecksConfig",
    "DnsCheck",
    "HttpCheck",
    "PingCheck",
    "PushCheck",
    "TcpCheck",
    "TlsCheck",
]

MAX_BODY = 1024 * 1024


class _CheckBase(StrictModel):
    name: Slug
    """The check's id: `binary_sensor.<node>_check_<name>` and its device."""
    interval: Duration = timedelta(seconds=60)
    timeout: Duration = timedelta(seconds=10)
    """Longest wait for one attempt; it must be shorter than `interval`."""
    retries: Annotated[int, Field(ge=0, le=10)] = 0
    """Failed attempts, right after each other, before the check counts as down."""

    @field_validator("timeout")
    @classmethod
    def _timeout_below_interval(cls, timeout: timedelta, info: ValidationInfo) -> timedelta:
        interval = info.data.get("interval")
        if interval is not None and timeout >= interval:
            raise ValueError(
                f"must be shorter than interval ({interval.total_seconds():g}s), got {timeout.total_seconds():g}s"
            )
        return timeout


JSON_PATH = r"^[A-Za-z0-9_-]+(\[[0-9]+\])*(\.[A-Za-z0-9_-]+(\[[0-9]+\])*)*$"
"""`a.b[0].c`: keys of letters, digits, `_` and `-`, list items by index."""


class BasicAuth(StrictModel):
    username: str
    password: Secret


class HttpCheck(_CheckBase):
    kind: Literal["http"]
    url: Annotated[str, url_with_scheme("http", "https")]
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: tuple[Annotated[int, Field(ge=100, le=599)], ...] = ()
    """Status codes that count as up; empty means any 2xx or 3xx."""
    keyword: str | None = None
    """Text the body must contain (within its first `max_body` bytes)."""
    json_path: Annotated[str, Field(pattern=JSON_PATH)] | None = None
    """A value the JSON body must hold: `status`, `checks.database.status`, `items[0].state` (dots for keys,
    `[n]` for list items); with `json_expect`, the value must equal it, else it must be there and not false,
    null, 0 or empty."""
    json_expect: str | int | float | bool | None = None
    headers: dict[str, Secret] = {}
    bearer: Secret | None = None
    basic_auth: BasicAuth | None = None
    follow_redirects: bool = True
    verify_tls: bool = True
    ca_file: Path | None = None
    """A PEM file of the authorities to trust for an `https` URL (a homelab's own CA) instead of the system's."""
    max_body: Annotated[int, Field(ge=1024, le=16 * MAX_BODY)] = MAX_BODY
    """Bytes of the body read at most: an endless or huge body costs no more."""

    @model_validator(mode="after")
    def _one_auth(self) -> Self:
        if self.bearer is not None and self.basic_auth is not None:
            raise ValueError("give bearer or basic_auth, not both")
        if self.json_expect is not None and self.json_path is None:
            raise ValueError("json_expect needs a json_path to compare")
        return self


class TcpCheck(_CheckBase):
    kind: Literal["tcp"]
    host: str
    port: Port


class TlsCheck(_CheckBase):
    kind: Literal["tls"]
    host: str
    port: Port = 443
    server_name: str | None = None
    """The name the certificate must be for; the host by default."""
    ca_file: Path | None = None
    """A PEM file of the authorities to trust (a homelab's own CA) instead of the system's."""


RecordType = Literal["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"]


class DnsCheck(_CheckBase):
    """Up when `server` answers `query` (and, with `expect`, one answer is that)."""

    kind: Literal["dns"]
    query: str
    record_type: RecordType = "A"
    server: str
    """The DNS server to ask (an address): the check is of that server, not of the system's resolver."""
    port: Port = 53
    expect: str | None = None
    """An answer that must be among those given, as text (`192.168.1.10`, `10 mail.lab.`)."""


class PingCheck(_CheckBase):
    """Up when `host` answers ICMP echo: `count` pings, their loss and round-trip time."""

    kind: Literal["ping"]
    host: str
    count: Annotated[int, Field(ge=1, le=10)] = 3


def _push_token(token: Secret) -> Secret:
    text = token.reveal()
    if len(text) < 12 or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError("expected at least 12 letters, digits, '-' or '_' (it is the push URL's only password)")
    return token


class PushCheck(_CheckBase):
    """Up while pushes arrive: down when none came within `interval` plus `grace` (cron jobs, backups)."""

    kind: Literal["push"]
    token: Annotated[Secret, AfterValidator(_push_token)]
    """The secret part of the push URL, `/api/push/<token>`: keep it in secrets.yaml."""
    grace: Duration = timedelta(minutes=1)


Check = Annotated[HttpCheck | TcpCheck | TlsCheck | DnsCheck | PingCheck | PushCheck, Field(discriminator="kind")]


class ChecksConfig(StrictModel):
    checks: tuple[Check, ...]

    @model_validator(mode="after")
    def _named_checks(self) -> Self:
        if not self.checks:
            raise ValueError("give at least one check under checks:")
        seen: set[str] = set()
        tokens: set[str] = set()
        for check in self.checks:
            if check.name in seen:
                raise ValueError(f"two checks are named {check.name!r}: each needs a name of its own")
            seen.add(check.name)
            if isinstance(check, PushCheck):
                if check.token.reveal() in tokens:
                    raise ValueError(f"push check {check.name!r} has another push check's token")
                tokens.add(check.token.reveal())
        return self
