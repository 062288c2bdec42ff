"""`Ups`: reads every (or each named) UPS from one Network UPS Tools server each poll."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from hub.integration import Integration, UpdateFailed

from .config import UpsConfig
from .entities import ENTITIES, UpsSnapshot
from .nut import NutClient, NutError

__all__ = ["Ups"]


class Ups(Integration[UpsConfig, UpsSnapshot]):
    domain = "ups"
    config_model = UpsConfig
    default_interval: ClassVar[timedelta] = timedelta(seconds=15)
    entities = ENTITIES

    async def poll(self) -> UpsSnapshot:
        config = self.config
        where = f"upsd at {config.host}:{config.port}"
        client = NutClient(config.host, config.port, config.timeout.total_seconds())
        try:
            async with client.connect():
                served = await client.list_ups()
                names = list(config.ups) or sorted(served)
                missing = [name for name in names if name not in served]
                if missing:
                    raise UpdateFailed(
                        f"{where} serves no UPS named {', '.join(missing)} (it has: {', '.join(served) or 'none'})"
                    )
                variables = {name: await client.variables(name) for name in names}
        except TimeoutError as err:
            raise UpdateFailed(f"{where} did not answer within {config.timeout.total_seconds():g}s") from err
        except OSError as err:
            raise UpdateFailed(f"cannot reach {where}: {err.strerror or err}") from err
        except NutError as err:
            raise UpdateFailed(f"{where}: {err}") from err
        return UpsSnapshot(self.ctx.node, {name: served[name] for name in names}, variables)
