"""`NutClient`: the part of Network UPS Tools' upsd protocol (TCP 3493, RFC 9271) a monitor needs: list the UPSes,
read all variables of one. Every answer is bounded (line length, line count,
time) because the server is as untrusted as any other input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from hub.core import HubError

__all__ = ["NutClient", "NutError", "parse_words"]

_MAX_LINE: Final = 4096
_MAX_LINES: Final = 5000
"""Variables one list may hold; real UPSes report a few dozen to a few hundred."""


class NutError(HubError):
    """upsd answered `ERR <code>`, or not in its protocol at all."""


def parse_words(line: str) -> list[str]:
    """A protocol line split as upsd writes it: words, and "quoted strings" with `\\"` and `\\\\` escapes."""
    words: list[str] = []
    index = 0
    while index < len(line):
        if line[index] == " ":
            index += 1
            continue
        if line[index] != '"':
            end = line.find(" ", index)
            end = len(line) if end < 0 else end
            words.append(line[index:end])
            index = end
            continue
        index += 1
        word: list[str] = []
        while index < len(line) and line[index] != '"':
            if line[index] == "\\" and index + 1 < len(line):
                index += 1
            word.append(line[index])
            index += 1
        if index >= len(line):
            raise NutError(f"unterminated quote in {line[:80]!r}")
        words.append("".join(word))
        index += 1
    return words


class NutClient:
    """One connection to upsd, opened by `connect()` and closed with `LOGOUT` when the block ends."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[NutClient]:
        async with asyncio.timeout(self._timeout):
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port, limit=_MAX_LINE)
        try:
            yield self
            self._writer.write(b"LOGOUT\n")
        finally:
            self._writer.close()
            self._reader = self._writer = None

    async def list_ups(self) -> dict[str, str]:
        """Every UPS upsd serves, with its description."""
        return {words[1]: words[2] if len(words) > 2 else "" for words in await self._list("UPS") if len(words) > 1}

    async def variables(self, ups: str) -> dict[str, str]:
        """Every variable of `ups` (`battery.charge` -> `100`)."""
        return {words[2]: words[3] for words in await self._list("VAR", ups) if len(words) > 3}

    async def _list(self, kind: str, *args: str) -> list[list[str]]:
        query = " ".join((kind, *args))
        async with asyncio.timeout(self._timeout):
            self._send(f"LIST {query}")
            first = await self._line()
            if first != f"BEGIN LIST {query}":
                raise _error(first)
            rows: list[list[str]] = []
            end = f"END LIST {query}"
            while (line := await self._line()) != end:
                if len(rows) >= _MAX_LINES:
                    raise NutError(f"upsd sent more than {_MAX_LINES} lines for LIST {query}")
                rows.append(parse_words(line))
            return rows

    def _send(self, command: str) -> None:
        assert self._writer is not None
        if "\n" in command or "\r" in command:
            raise NutError("a NUT command cannot hold a line break")
        self._writer.write(command.encode() + b"\n")

    async def _line(self) -> str:
        assert self._reader is not None
        try:
            raw = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as err:
            raise NutError("upsd closed the connection") from err
        except asyncio.LimitOverrunError as err:
            raise NutError(f"upsd sent a line longer than {_MAX_LINE} bytes") from err
        return raw.decode("utf-8", "replace").rstrip("\r\n")


def _error(line: str) -> NutError:
    """`ERR ACCESS-DENIED` as `upsd refused: ACCESS-DENIED`; anything else as not NUT's protocol."""
    if line.startswith("ERR "):
        return NutError(f"upsd refused: {line[4:].strip()[:80]}")
    return NutError(f"not a NUT answer: {line[:80]!r}")
