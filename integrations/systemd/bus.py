"""`SystemdBus`: the calls of systemd's D-Bus API (org.freedesktop.systemd1) the integration makes, each bounded by
a timeout, over one connection opened in the integration's lifespan and reopened after a failure."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError

from hub.core import HubError

__all__ = ["SystemdBus", "SystemdError", "Unit"]

_SYSTEMD: Final = "org.freedesktop.systemd1"
_MANAGER_PATH: Final = "/org/freedesktop/systemd1"
_MANAGER: Final = "org.freedesktop.systemd1.Manager"
_SERVICE: Final = "org.freedesktop.systemd1.Service"
_PROPERTIES: Final = "org.freedesktop.DBus.Properties"

Action = Literal["start", "stop", "restart"]
_METHODS: Final = {"start": "StartUnit", "stop": "StopUnit", "restart": "RestartUnit"}


class SystemdError(HubError):
    """The bus or systemd refused or did not answer."""


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    description: str
    load_state: str
    active_state: str
    sub_state: str
    path: str
    restarts: int | None = None


class SystemdBus:
    def __init__(self, bus: Literal["system", "session"], address: str | None, timeout: float) -> None:
        self._bus_type = BusType.SYSTEM if bus == "system" else BusType.SESSION
        self._address = address
        self._timeout = timeout
        self._bus: MessageBus | None = None

    async def close(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

    async def units(self, patterns: tuple[str, ...]) -> list[Unit]:
        """The units matching `patterns` systemd knows (loaded ones), with each service's restart count."""
        rows = await self._call(_MANAGER, "ListUnitsByPatterns", "asas", [[], list(patterns)])
        units = [_unit(list(row)) for row in rows[0] if isinstance(row, list | tuple) and len(row) >= 7]
        return [
            replace(unit, restarts=await self._restarts(unit.path)) if unit.name.endswith(".service") else unit
            for unit in units
        ]

    async def failed_count(self) -> int:
        rows = await self._call(_MANAGER, "ListUnitsFiltered", "as", [["failed"]])
        return len(rows[0])

    async def act(self, action: Action, unit: str) -> None:
        await self._call(_MANAGER, _METHODS[action], "ss", [unit, "replace"])

    async def _restarts(self, path: str) -> int | None:
        try:
            body = await self._call(_PROPERTIES, "Get", "ss", [_SERVICE, "NRestarts"], path=path)
        except SystemdError:
            return None  # systemd before 235 has no NRestarts
        value = getattr(body[0], "value", None)
        return value if isinstance(value, int) else None

    async def _connected(self) -> MessageBus:
        if self._bus is None or not self._bus.connected:
            bus = MessageBus(bus_address=self._address, bus_type=self._bus_type)
            try:
                async with asyncio.timeout(self._timeout):
                    self._bus = await bus.connect()
            except (OSError, TimeoutError, DBusError) as err:
                where = self._address or f"the {self._bus_type.name.lower()} bus"
                raise SystemdError(f"cannot reach {where}: {err or type(err).__name__}") from err
        return self._bus

    async def _call(
        self, interface: str, member: str, signature: str, body: list[Any], path: str = _MANAGER_PATH
    ) -> list[Any]:
        bus = await self._connected()
        message = Message(
            destination=_SYSTEMD, path=path, interface=interface, member=member, signature=signature, body=body
        )
        try:
            async with asyncio.timeout(self._timeout):
                reply = await bus.call(message)
        except TimeoutError as err:
            raise SystemdError(f"systemd did not answer {member} within {self._timeout:g}s") from err
        except (OSError, EOFError) as err:
            await self.close()
            raise SystemdError(f"the D-Bus connection broke: {err}") from err
        if reply is None or reply.message_type == MessageType.ERROR:
            detail = reply.body[0] if reply is not None and reply.body else ""
            name = reply.error_name if reply is not None else "no reply"
            raise SystemdError(f"systemd refused {member}: {name} {detail}".strip()[:200])
        return list(reply.body)


def _unit(row: list[Any]) -> Unit:
    name, description, load_state, active_state, sub_state, _following, path = (str(item) for item in row[:7])
    return Unit(name, description, load_state, active_state, sub_state, path)
