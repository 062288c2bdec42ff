"""`last_states`: each entity's last recorded state, loaded into the state machine when the hub starts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Final

from hub.core import Context, HubError, State

from .database import Database

__all__ = ["LATEST_STATE_IDS", "last_states"]

_LOGGER = logging.getLogger(__name__)

LATEST_STATE_IDS: Final = """
SELECT (
    SELECT i.state_id FROM states i WHERE i.metadata_id = m.metadata_id
    ORDER BY i.last_updated_ts DESC, i.state_id DESC LIMIT 1
)
FROM states_meta m
"""

# One index probe per entity on (metadata_id, last_updated_ts): fast however many rows the table holds.
_LAST_STATES: Final = """
SELECT m.entity_id, s.state, a.shared_attrs, s.last_changed_ts, s.last_updated_ts,
       s.context_id, s.context_user_id, s.context_parent_id
FROM states_meta m
JOIN states s ON s.state_id = (
    SELECT i.state_id FROM states i WHERE i.metadata_id = m.metadata_id
    ORDER BY i.last_updated_ts DESC, i.state_id DESC LIMIT 1
)
LEFT JOIN state_attributes a ON a.attributes_id = s.attributes_id
"""


async def last_states(db: Database) -> list[State]:
    """Every entity's newest row as a `State`; raises `DatabaseUnavailable`."""
    states: list[State] = []
    for entity_id, state, attrs, changed_ts, updated_ts, context_id, user_id, parent_id in await db.fetch(_LAST_STATES):
        if state is None:
            continue
        updated = datetime.fromtimestamp(updated_ts, UTC)
        try:
            states.append(
                State(
                    entity_id,
                    state,
                    json.loads(attrs) if attrs else None,
                    datetime.fromtimestamp(changed_ts, UTC) if changed_ts is not None else updated,
                    updated,
                    Context(id=context_id, user_id=user_id, parent_id=parent_id) if context_id else None,
                )
            )
        except (HubError, ValueError) as err:
            _LOGGER.warning("Not restoring %s: %s", entity_id, err)
    return states
